"""A job's fixed cost: what each rule's entry script pays before its work starts, per rule.

Every Snakemake job (and every SLURM job) is a fresh Python process that runs Snakemake's script
preamble, imports its entry script's modules and, on digits, loads the data. On small data that
start-up is most of the job. For each rule this times a fresh interpreter doing exactly that:

1. the preamble's own imports (``snakemake.logging``, ``snakemake.iocontainers``);
2. the entry script's top-level imports (read from ``workflow_scripts/<rule>.py`` with ``ast``);
3. what the rule's step imports or loads at run time before its work (``RUN_TIME_SETUP``): the
   digits pools for the rules that build a model, ``lottery_mia.outputs`` for the export.

The baseline, timed in the same rounds, is ``python -c "import torch"``: ratios to it travel
between machines and loads better than seconds do. ``--code`` adds another copy of
``workflow_scripts`` (older code) to the same rounds, for a before/after table:

    git archive <commit> workflow_scripts | tar -x -C /tmp/before
    .venv/bin/python benchmarks/job_fixed_cost.py --code /tmp/before/workflow_scripts

``--importtime RULE`` prints where one rule's import time goes, from ``python -X importtime``
(self time summed per top-level package), for both copies. ``--results DIR`` summarises the
benchmark files of a finished run (``DIR/results/benchmarks``): jobs, median and total seconds per
rule, start-up and work together. Medians of ``--runs`` rounds; wall and CPU (user + system)
seconds. CPU time moves less than wall time on a shared machine; the load is printed.
"""

from __future__ import annotations

import argparse
import ast
import collections
import csv
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREAMBLE = "import pickle\nfrom snakemake.logging import logger\nfrom snakemake.iocontainers import Snakemake\n"
LOAD_DIGITS = "from lottery_mia.data import load_dataset\nload_dataset('digits', {})\n"
#: What a rule's step does at run time before its work, on digits (config.yaml's dataset).
RUN_TIME_SETUP = {
    "initialise": LOAD_DIGITS,
    "prune": LOAD_DIGITS,
    "train_dense": LOAD_DIGITS,
    "train_ticket": LOAD_DIGITS,
    "export_outputs": LOAD_DIGITS + "import lottery_mia.outputs\n",
}
BASELINE = "import torch\n"


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def entry_imports(script: Path) -> str:
    """The top-level import statements of an entry script (the rest needs ``snakemake``)."""
    tree = ast.parse(script.read_text())
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "".join(ast.unparse(node) + "\n" for node in imports)


def job_start_code(code: Path, rule: str) -> str:
    return PREAMBLE + entry_imports(code / f"{rule}.py") + RUN_TIME_SETUP.get(rule, "")


def time_python(source: str, code: Path) -> Timing:
    """Wall and CPU seconds of a fresh interpreter running ``source`` with ``code`` importable."""
    environment = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", source], cwd=code, env=environment)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"failed in {code}:\n{source}")
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def entry_rules(code: Path) -> list[str]:
    """Rules with an entry script that uses ``run_step`` or the library (all of them)."""
    return sorted(path.stem for path in code.glob("*.py") if not path.stem.startswith("_"))


def measure(codes: dict[str, Path], rules: list[str], runs: int) -> dict[tuple[str, str], list]:
    """Timings per (label, rule), rounds interleaved so that a load change hits every column."""
    timings: dict[tuple[str, str], list[Timing]] = collections.defaultdict(list)
    first = next(iter(codes.values()))
    time_python(BASELINE, first)  # warm the file cache once, not counted
    for _ in range(runs):
        timings[("baseline", "import torch")].append(time_python(BASELINE, first))
        for label, code in codes.items():
            for rule in rules:
                timings[(label, rule)].append(time_python(job_start_code(code, rule), code))
    return timings


def median_timing(samples: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall for t in samples), statistics.median(t.cpu for t in samples)
    )


def print_table(codes: dict[str, Path], rules: list[str], timings: dict) -> None:
    baseline = median_timing(timings[("baseline", "import torch")])
    print(
        f"baseline `python -c 'import torch'`: wall {baseline.wall:.2f} s, cpu {baseline.cpu:.2f} s"
    )
    header = "".join(f" | {label} wall s | cpu s | cpu / torch" for label in codes)
    print(f"| rule{header} |")
    print("|---" + "|---:" * 3 * len(codes) + "|")
    for rule in rules:
        cells = ""
        for label in codes:
            found = median_timing(timings[(label, rule)])
            cells += f" | {found.wall:.2f} | {found.cpu:.2f} | {found.cpu / baseline.cpu:.2f}"
        print(f"| {rule}{cells} |")


def import_breakdown(code: Path, rule: str, top: int = 8) -> list[tuple[str, float]]:
    """Self import time per top-level package (seconds) of one job start, ``-X importtime``."""
    environment = {**os.environ, "PYTHONPATH": str(code)}
    finished = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", job_start_code(code, rule)],
        cwd=code, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    per_package: collections.Counter[str] = collections.Counter()
    for line in finished.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        name = fields[2].strip()
        package = name if name.startswith("lottery_mia") else name.split(".")[0]
        per_package[package] += int(fields[0]) / 1e6
    return [("(all)", sum(per_package.values())), *per_package.most_common(top)]


def summarise_benchmark_files(results: Path) -> None:
    """Jobs, median, largest and total wall seconds and median and total CPU seconds per rule,
    from Snakemake's benchmark files
    (``cpu_time`` is psutil's sampled user + system time of the job; it moves less with load)."""
    rows: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    base = results / "results" / "benchmarks"
    for path in sorted(base.rglob("*.tsv")):
        with path.open() as table:
            rule = path.relative_to(base).parts[0].removesuffix(".tsv")  # folder, or summarize.tsv
            rows[rule] += csv.DictReader(table, delimiter="\t")
    print(
        "| rule | jobs | median wall s | max wall s | median cpu s | total wall s | total cpu s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for rule, found in sorted(rows.items(), key=lambda item: -len(item[1])):
        wall = [float(row["s"]) for row in found]
        cpu = [float(row["cpu_time"]) for row in found]
        print(
            f"| {rule} | {len(found)} | {statistics.median(wall):.1f} | {max(wall):.1f} "
            f"| {statistics.median(cpu):.1f} | {sum(wall):.0f} | {sum(cpu):.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--code", type=Path, help="another workflow_scripts copy (before)")
    parser.add_argument("--runs", type=int, default=5, help="rounds; medians are reported")
    parser.add_argument("--rules", nargs="*", help="only these rules (default: every entry script)")
    parser.add_argument("--importtime", metavar="RULE", help="where RULE's import time goes")
    parser.add_argument("--results", type=Path, help="summarise DIR/results/benchmarks instead")
    args = parser.parse_args()
    if args.results:
        summarise_benchmark_files(args.results)
        return
    codes = {"after": REPO / "workflow_scripts"}
    if args.code:
        codes = {"before": args.code.resolve(), **codes}
    print(
        f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min), {os.cpu_count()} CPUs"
    )
    if args.importtime:
        for label, code in codes.items():
            parts = import_breakdown(code, args.importtime)
            print(f"{label} {args.importtime}: " + ", ".join(f"{n} {s:.2f}" for n, s in parts))
        return
    rules = args.rules or entry_rules(codes["after"])
    print_table(codes, rules, measure(codes, rules, args.runs))


if __name__ == "__main__":
    main()
