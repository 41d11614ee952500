"""Shared fixtures: a finished tiny run of the real workflow, and helpers to drive Snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SNAKEFILE = REPO / "Snakefile"
TINY_CONFIG = REPO / "tests" / "configs" / "tiny.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
#: The jobs that draw the figures and Table 1 for one dataset, plus the default target.
FIGURE_JOBS = {
    "fig_test_accuracy": 1,
    "fig_attack_vs_sparsity": 1,
    "fig_attack_vs_samples": 1,
    "fig_transfer": 1,
    "table1": 1,
    "fig_forest": 1,
    "fig_roc_curves": 1,
    "fig_gap_vs_auc": 1,
    "per_class": 1,
    "exposure": 1,
    "fig_exposure": 1,
    "all": 1,
}
#: The figure jobs that read scores files at the figures' sample count (not the summary).
SCORE_FIGURE_JOBS = ("fig_roc_curves", "per_class", "exposure", "fig_exposure")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by its folder (unit, workflow, style), so `pytest -m unit` selects by kind."""
    for item in items:
        kind = item.path.parent.name
        if kind in {"unit", "workflow", "style"}:
            item.add_marker(kind)


def run_snakemake(
    workdir: Path, config: Path, *args: str, check: bool = True, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    """Run the repository's workflow with results under ``workdir`` (the code stays in the repo)."""
    command = [
        *SNAKEMAKE,
        "--snakefile", str(SNAKEFILE),
        "--directory", str(workdir),
        "--configfile", str(config),
        *args,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def write_config(path: Path, base: Path = TINY_CONFIG, **changes: object) -> Path:
    """Write ``base`` with top-level sections updated by ``changes`` (dicts are merged one level)."""
    config = yaml.safe_load(base.read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def copy_run(source: Path, destination: Path) -> Path:
    """Copy a finished run (results and Snakemake metadata) preserving modification times."""
    shutil.copytree(source, destination, copy_function=shutil.copy2, symlinks=True)
    return destination


def planned_jobs(workdir: Path, config: Path, *targets: str) -> dict[str, int]:
    """Rule -> number of jobs that ``snakemake -n`` would run now."""
    result = run_snakemake(workdir, config, "-n", "--quiet", "rules", *targets)
    return parse_job_counts(result.stdout + result.stderr)


def parse_job_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    in_table = False
    for line in text.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
            continue
        if not in_table or not parts or set(line.strip()) <= {"-", " "}:
            continue
        if len(parts) == 2 and parts[1].isdigit():
            if parts[0] == "total":
                break
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny grid run to completion once per test session; tests copy it before changing it."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    run_snakemake(workdir, TINY_CONFIG, "--cores", "2")
    return workdir


def relative_files(
    root: Path, under: str = "results", skip: Sequence[str] = ("logs", "benchmarks")
) -> set[str]:
    """Files under ``root/under`` as relative paths, without logs and benchmarks."""
    base = root / under
    return {
        str(path.relative_to(root))
        for path in base.rglob("*")
        if path.is_file() and not any(part in skip for part in path.relative_to(base).parts)
    }


def membership_metrics(member: np.ndarray, score: np.ndarray, predicted: np.ndarray) -> dict:
    """Every metric of the evaluation rows (the pipeline's definitions, stats/metrics.py)."""
    from lottery_mia.stats.metrics import EvaluationRows, point_metrics

    return point_metrics(
        EvaluationRows(np.asarray(member), np.asarray(score), np.asarray(predicted))
    )
