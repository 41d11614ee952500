"""GPU-hours of a config by the rate table: the ``runtime`` of every GPU job of ``snakemake -n``.

No data is needed: the data roots are answered from the working directory's pool-size cache,
seeded with the official pool sizes (``lottery_mia.resources.DATASETS``), so the config gate
passes as it would on the real files. Every training, ticket and export job is made a GPU job
(``training.device: cuda``); ``runtime`` comes from the rules' own functions
(rules/resources.smk -> lottery_mia.resources), as SLURM would be asked for it. Also printed: the
same sum with ``SAFETY`` 1 and no start-up minutes (the table's own estimate of the work).

    .venv/bin/python benchmarks/gpu_hours.py configs/paper.yaml configs/paper_budget.yaml
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from lottery_mia import resources  # noqa: E402
from lottery_mia.config import (  # noqa: E402
    SCHEMA_PATH,
    canonical_config,
    data_settings,
    export_queries,
    load_schema,
    training_settings,
    validate_config,
)
from lottery_mia.data.pool_cache import _cache_key  # noqa: E402

Job = tuple[str, dict[str, str], dict[str, str]]  # rule, wildcards, resources


def dry_run_jobs(config_path: Path) -> tuple[dict[str, Any], list[Job]]:
    """The validated config (device cuda) and the jobs of ``snakemake -n`` with their resources."""
    config = yaml.safe_load(config_path.read_text())
    config.setdefault("training", {})["device"] = "cuda"
    workdir = Path(tempfile.mkdtemp(prefix="gpu-hours-"))
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    schema = load_schema(SCHEMA_PATH)
    valid = canonical_config(validate_config(yaml.safe_load(path.read_text()), schema), schema)
    cache = {}
    for name in valid["datasets"]:
        settings = data_settings(valid, name)
        if "root" in settings:
            pools = resources.DATASETS[name]
            cache[name] = {"key": _cache_key(name, settings), "sizes": [pools.train, pools.test]}
    cache_path = workdir / ".snakemake" / "lottery_mia" / "pool_sizes.json"
    cache_path.parent.mkdir(parents=True)
    cache_path.write_text(json.dumps(cache))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(path), "-n"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    jobs, rule, wildcards = [], "", {}
    for line in (done.stdout + done.stderr).splitlines():
        if match := re.match(r"^\s*(?:local)?rule (\w+):", line):
            rule, wildcards = match.group(1), {}
        elif match := re.match(r"^\s*wildcards: (.*)", line):
            wildcards = dict(item.split("=", 1) for item in match.group(1).split(", "))
        elif match := re.match(r"^\s*resources: (.*)", line):
            values = dict(item.split("=", 1) for item in match.group(1).split(", ") if "=" in item)
            jobs.append((rule, wildcards, values))
    return valid, jobs


def unpadded_minutes(config: dict[str, Any], rule: str, wildcards: dict[str, str]) -> float:
    """The job's runtime by the same functions with ``SAFETY`` 1 and no start-up minutes."""
    dataset, arch, width = wildcards["dataset"], wildcards["arch"], config["model"]["width"]
    workers = config["datasets"][dataset].get("workers", 0) or 0
    saved = resources.SAFETY, resources.STARTUP_MINUTES
    resources.SAFETY, resources.STARTUP_MINUTES = 1.0, 0
    try:
        if rule == "export_outputs":
            queries = export_queries(config, dataset)
            return resources.export_minutes("cuda", dataset, arch, width, workers, 1, queries)
        training = training_settings(config, dataset)
        return resources.train_minutes(
            "cuda", dataset, arch, width, training["epochs"],
            training.get("metrics_max_samples"), workers,
        )  # fmt: skip
    finally:
        resources.SAFETY, resources.STARTUP_MINUTES = saved


def gpu_hours(config_path: Path) -> tuple[dict[tuple[str, str], list[float]], float]:
    """Requested GPU-hours of each GPU job by (dataset, rule), and the unpadded total."""
    config, jobs = dry_run_jobs(config_path)
    hours: dict[tuple[str, str], list[float]] = {}
    unpadded = 0.0
    for rule, wildcards, values in jobs:
        if values.get("gpu") != "1":
            continue
        hours.setdefault((wildcards["dataset"], rule), []).append(int(values["runtime"]) / 60)
        unpadded += unpadded_minutes(config, rule, wildcards) / 60
    return hours, unpadded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    for config_path in parser.parse_args().configs:
        hours, unpadded = gpu_hours(config_path)
        print(f"{config_path}")
        for (dataset, rule), each in sorted(hours.items()):
            print(f"  {dataset:11s} {rule:15s} {len(each):4d} jobs {sum(each):9.1f} GPU-hours")
        total = sum(sum(each) for each in hours.values())
        print(f"  requested (SAFETY x{resources.SAFETY}, start-up included): {total:.1f} GPU-hours")
        print(f"  unpadded (SAFETY 1, no start-up): {unpadded:.1f} GPU-hours")


if __name__ == "__main__":
    main()
