"""How long ``snakemake -n`` takes on configs/paper.yaml, and how many jobs it plans.

The config's data roots point at fabricated trees with the real sizes and layouts (full-size
CIFAR-10/100 batch files, an ImageNet tree of empty JPEG files: 1,000 classes x 50 per split, or
the real 1,281 training images per class with ``--imagenet-train-per-class 1281``),
built with the helpers of tests/workflow/test_datasets_workflow.py, so parse-time checks run as they would
on the real data. Each repeat is a fresh ``snakemake -n --quiet rules`` process (what a user
waits for, interpreter start and config validation included). The first counts every dataset
(cold); later ones find the counts kept in .snakemake/ (``data/pool_cache.py``) while the data is
unchanged (warm). Prints the cold time and the median of all runs:

    .venv/bin/python benchmarks/dry_run_paper.py --repeats 3
    .venv/bin/python benchmarks/dry_run_paper.py --profile profiles/slurm   # with SLURM resources
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(REPO / "workflow_scripts"),
    str(REPO / "tests"),
    str(REPO / "tests" / "workflow"),
]

from test_datasets_workflow import write_empty_image_tree, write_full_size_cifar  # noqa: E402

from conftest import parse_job_counts  # noqa: E402


def every_method(config: dict) -> None:
    """All seven pruning methods; the grid's sparsities become the ones IMP reaches in rounds
    1-9 at the config's rate (IMP refuses others), the figures' and references' ticket too."""
    from lottery_mia.prune import METHODS
    from lottery_mia.pruning_plan import imp_sparsity

    rate = config.get("pruning", {}).get("imp_rate", 0.2)
    reachable = [imp_sparsity(rate, r) for r in range(1, 10)]
    config["grid"]["pruning_methods"] = list(METHODS)
    config["grid"]["sparsities"] = [0, *reachable]
    config["figures"]["sparsity"] = reachable[6]
    if config["attack"].get("reference_sparsities"):
        config["attack"]["reference_sparsities"] = [0, reachable[6]]


def fabricated_paper_config(
    folder: Path, images: Path, all_methods: bool = False, train_per_class: int = 50
) -> Path:
    config = yaml.safe_load((REPO / "configs" / "paper.yaml").read_text())
    if all_methods:
        every_method(config)
    for name in ("cifar10", "cifar100"):
        config["datasets"][name]["root"] = str(write_full_size_cifar(folder, name))
    tree = write_empty_image_tree(images, 1000, train_per_class, 50)
    config["datasets"]["imagenet"]["root"] = str(tree)
    path = folder / "paper.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def dry_run(config: Path, workdir: Path, profile: str | None) -> tuple[float, dict[str, int]]:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(config),
               "-n", "--quiet", "rules"]  # fmt: skip
    if profile:
        command += ["--profile", str(REPO / profile)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"snakemake -n failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, parse_job_counts(done.stdout + done.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", help="e.g. profiles/slurm (needs its executor plugin)")
    parser.add_argument(
        "--all-methods",
        action="store_true",
        help="every pruning method, at IMP-reachable sparsities",
    )
    parser.add_argument(
        "--imagenet-train-per-class",
        type=int,
        default=50,
        help="empty JPEGs per ImageNet training class (1281: the real 1.28 M files)",
    )
    args = parser.parse_args(argv)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory() as tmp:
        image_root = Path(tempfile.mkdtemp(dir=shm if os.access(shm, os.W_OK) else tmp))
        try:
            started = time.perf_counter()
            config = fabricated_paper_config(
                Path(tmp), image_root / "imagenet", args.all_methods, args.imagenet_train_per_class
            )
            print(f"fabricated data trees in {time.perf_counter() - started:.1f} s")
            runs = [dry_run(config, Path(tmp) / "run", args.profile) for _ in range(args.repeats)]
        finally:
            shutil.rmtree(image_root, ignore_errors=True)
    seconds = [s for s, _ in runs]
    jobs = runs[-1][1]
    print(f"jobs per rule: {jobs}")
    print(
        f"snakemake -n on configs/paper.yaml{' with ' + args.profile if args.profile else ''}: "
        f"{sum(jobs.values())} jobs, median {statistics.median(seconds):.1f} s, first (data "
        f"counted) {seconds[0]:.1f} s (runs: {', '.join(f'{s:.1f}' for s in seconds)})"
    )


if __name__ == "__main__":
    main()
