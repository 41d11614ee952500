"""`make plan` with compute.trainings_per_gpu = G > 1: bundled jobs count S/G of their GPU-hours."""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO
from lottery_mia import resources
from lottery_mia.config import SCHEMA_PATH, canonical_config, load_schema, validate_config
from lottery_mia.plan import (
    cost_plan,
    gpu_hours_at_table_rates,
    gpu_hours_requested,
    hours_by_dataset_stage,
    shared_gpu_hours,
    table_rate_seconds,
)
from lottery_mia.plan_dag import PlannedJob
from lottery_mia.plan_report import cost_lines

pytestmark = pytest.mark.unit


def sharing_config(trainings_per_gpu: int, slowdown: float = 2.0) -> dict:
    """config.yaml as the gate leaves it, with G trainings per GPU and contention factor S."""
    schema = load_schema(SCHEMA_PATH)
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    raw["compute"] = {
        **raw.get("compute", {}),
        "trainings_per_gpu": trainings_per_gpu,
        "sharing_slowdown": slowdown,
    }
    return canonical_config(validate_config(raw, schema), schema)


def gpu_job(rule: str, minutes: int, run: str = "seed0", **wildcards: str) -> PlannedJob:
    wildcards = {"dataset": "digits", "arch": "resnet18", "run": run, **wildcards}
    return PlannedJob(rule, wildcards, 1, 4, minutes, 3000, local=False)


def test_shared_gpu_hours_are_the_hours_alone_times_s_over_g():
    assert shared_gpu_hours(8.0, 4, 2.0) == pytest.approx(4.0)
    assert shared_gpu_hours(8.0, 4, 1.0) == pytest.approx(2.0)
    assert shared_gpu_hours(3.0, 2, 1.5) == pytest.approx(2.25)
    # G = 1 shares nothing: the contention factor does not apply.
    assert shared_gpu_hours(8.0, 1, 2.0) == pytest.approx(8.0)


def test_the_defaults_share_nothing():
    schema = load_schema(SCHEMA_PATH)
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    config = canonical_config(validate_config(raw, schema), schema)
    assert config["compute"]["trainings_per_gpu"] == 1
    assert gpu_hours_requested(gpu_job("train_dense", 90), config) == pytest.approx(1.5)


def test_a_bundled_job_requests_its_runtime_alone_times_s_over_g():
    g, s, alone = 4, 2.0, 90
    config = sharing_config(g, s)
    # The rules ask for the runtime alone x S (rules/resources.smk); the plan counts 1/G of it.
    requested = resources.shared_minutes(alone, s)
    assert requested == 180
    for rule in ("train_dense", "train_ticket", "export_outputs"):
        job = gpu_job(rule, requested, method="magnitude", sparsity="0.5", model="sparsity0")
        assert gpu_hours_requested(job, config) == pytest.approx(alone / 60 * s / g)
        seconds = table_rate_seconds(job, config)
        assert seconds > 0
        assert gpu_hours_at_table_rates(job, config) == pytest.approx(seconds / 3600 * s / g)
    # Jobs of other rules never share: their hours are unchanged.
    attack = PlannedJob("run_attacks", {"dataset": "digits"}, 1, 1, 120, 8000, local=False)
    assert gpu_hours_requested(attack, config) == pytest.approx(2.0)


def test_stage_hours_and_the_report_carry_the_sharing():
    alone, s = 60, 1.5
    shared, single = sharing_config(4, s), sharing_config(1, s)
    jobs = [
        gpu_job("train_dense", resources.shared_minutes(alone, s), run=f"ref{k}") for k in range(4)
    ]
    (row,) = hours_by_dataset_stage(jobs, shared)
    assert row.gpu_jobs == 4
    assert row.gpu_hours_requested == pytest.approx(4 * alone / 60 * s / 4)
    unshared = [gpu_job("train_dense", alone, run=f"ref{k}") for k in range(4)]
    (row_single,) = hours_by_dataset_stage(unshared, single)
    assert row_single.gpu_hours_requested == pytest.approx(4.0)
    assert row.gpu_hours_at_table_rates == pytest.approx(
        row_single.gpu_hours_at_table_rates * s / 4
    )
    report = "\n".join(cost_lines(cost_plan(jobs, shared), "shared.yaml"))
    assert "share a GPU, 4 to one SLURM allocation" in report
    assert "1.5/4" in report
    assert "share a GPU" not in "\n".join(cost_lines(cost_plan(unshared, single), "single.yaml"))
