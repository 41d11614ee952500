"""`make plan` end to end: the planner's DAG is Snakemake's, a refused config fails it with the
gate's own message, and a pilot from another config is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, TINY_CONFIG, planned_jobs, run_snakemake, write_config
from lottery_mia import resources

pytestmark = pytest.mark.workflow

PLAN = REPO / "workflow_scripts" / "plan.py"
ARCHS = ("resnet18", "resnet50")


def run_plan(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The planner's command line, with Python reporting every module it imports."""
    output = tmp_path / "plan.json"
    command = [sys.executable, "-X", "importtime", str(PLAN), "--config", str(config)]
    return subprocess.run(
        [*command, "--output", str(output), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )


def imported_modules(importtime_log: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime_log.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_plan_counts_the_jobs_snakemake_would_run_without_importing_torch(tmp_path):
    result = run_plan(tmp_path, TINY_CONFIG)
    assert result.returncode == 0, result.stderr[-3000:]
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["jobs_per_rule"] == planned_jobs(tmp_path / "run", TINY_CONFIG)
    assert "torch" not in imported_modules(result.stderr)
    assert f"{plan['total_jobs']} jobs" in result.stdout
    gpu_rules = {"train_dense", "train_ticket", "export_outputs"}
    gpu_jobs = sum(n for rule, n in plan["jobs_per_rule"].items() if rule in gpu_rules)
    assert sum(row["gpu_jobs"] for row in plan["hours"]) == gpu_jobs


def test_a_config_the_gate_refuses_fails_the_plan_with_the_same_message(tmp_path):
    config = write_config(tmp_path / "bad.yaml", figures={"attack": "lira_online"})
    planned = run_plan(tmp_path, config)
    run = run_snakemake(tmp_path / "run", config, "-n", check=False)
    assert planned.returncode == 1 and run.returncode != 0
    gate_lines = [line.strip() for line in planned.stderr.splitlines() if "config key" in line]
    assert gate_lines and "'figures.attack'" in gate_lines[0]
    for line in gate_lines:
        assert line in run.stdout + run.stderr


def test_the_paper_grid_is_planned_before_its_data_is_on_disk(tmp_path):
    result = run_plan(tmp_path, REPO / "configs" / "paper.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    plan = json.loads((tmp_path / "plan.json").read_text())
    # 3 datasets x 2 archs: 1 dense + 8 tickets per target, and 16 references of 2 models.
    assert plan["jobs_per_rule"]["train_dense"] == 6 + 3 * 2 * 16
    assert any("pool sizes" in check for check in plan["skipped_checks"])
    assert "skipped checks" in result.stdout
    kinds = {rate["kind"] for rate in plan["rates"]}
    assert "estimated" in kinds and "*" in result.stdout
    # What the 1,000 non-members per model cannot resolve is said before anything runs.
    assert "What the evaluation rows resolve" in result.stdout
    assert {row["tpr_resolved"]["tpr_at_0.1pct_fpr"] for row in plan["resolution"]} == {False}
    # Training is sized for the cluster's GPU even on a machine without one (160 CIFAR epochs:
    # about 30 minutes each at the GPU rates, days at the CPU rates).
    (cifar_dense,) = [
        r for r in plan["hours"] if (r["dataset"], r["stage"]) == ("cifar10", "dense")
    ]
    minutes = [resources.train_minutes("cuda", "cifar10", a, 64, 160) for a in ARCHS]
    assert cifar_dense["gpu_hours_requested"] == pytest.approx(sum(minutes) / 60)


def write_pilot(folder: Path, dataset: str, attacks: list[str]) -> Path:
    """A finished run's Table 1 and summary for the tiny grid's models on ``dataset``."""
    records, summary = [], []
    for attack in attacks:
        for arch in ("resnet18", "resnet50"):
            key = {"attack": attack, "dataset": dataset, "arch": arch, "n_samples": 200}
            records.append(
                {**key, "ticket_sparsity": 0.5, "n_seeds": 1, "n_paired_rows": 200,
                 "auc_difference_ci90_low": -0.03, "auc_difference_ci90_high": 0.03}
            )  # fmt: skip
            for method, sparsity in (("dense", 0.0), ("magnitude", 0.5)):
                summary.append(
                    {**key, "seed": 0, "method": method, "sparsity": sparsity, "auc": 0.6,
                     "n_eval": 200}
                )  # fmt: skip
    (folder / "tables").mkdir(parents=True)
    pd.DataFrame(records).to_csv(folder / "tables" / "table1.csv", index=False)
    pd.DataFrame(summary).to_parquet(folder / "summary.parquet")
    return folder


def test_a_pilot_of_this_config_is_forecast_and_one_of_another_is_refused(tmp_path):
    tiny_table = ["mlp", "loss_threshold"]
    same = write_pilot(tmp_path / "same", "digits", tiny_table)
    result = run_plan(tmp_path, TINY_CONFIG, "--pilot", str(same))
    assert result.returncode == 0, result.stderr[-3000:]
    power = json.loads((tmp_path / "plan.json").read_text())["power"]
    assert len(power["rows"]) == 4
    # The tiny grid's eval_size is the pilot's: the half-width is the pilot's.
    assert [row["half_width"] for row in power["rows"]] == pytest.approx([0.03] * 4)

    other = write_pilot(tmp_path / "other", "cifar10", ["mlp", "svm"])
    refused = run_plan(tmp_path, TINY_CONFIG, "--pilot", str(other))
    assert refused.returncode == 1
    assert "datasets: pilot has ['cifar10'], config has ['digits']" in refused.stderr
    assert "Table 1 attacks: pilot has ['mlp', 'svm'], config has ['loss_threshold', 'mlp']" in (
        refused.stderr
    )
