"""`make plan` with compute.trainings_per_gpu = G > 1: a bundle of up to G jobs holds one GPU for
its longest member, whose runtime carries the contention factor S."""

from __future__ import annotations

import pytest
import yaml

from conftest import REPO
from lottery_mia import resources
from lottery_mia.config import SCHEMA_PATH, canonical_config, load_schema, validate_config
from lottery_mia.plan import (
    cost_plan,
    gpu_allocations,
    gpu_hours_at_table_rates,
    gpu_hours_requested,
    hours_by_dataset_stage,
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


def gpu_job(
    rule: str, minutes: int, run: str = "seed0", group: str | None = None, **wildcards: str
) -> PlannedJob:
    wildcards = {"dataset": "digits", "arch": "resnet18", "run": run, **wildcards}
    return PlannedJob(rule, wildcards, 1, 4, minutes, 3000, local=False, group=group)


def test_the_defaults_share_nothing():
    schema = load_schema(SCHEMA_PATH)
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    config = canonical_config(validate_config(raw, schema), schema)
    assert config["compute"]["trainings_per_gpu"] == 1
    jobs = [gpu_job("train_dense", 90, run=f"seed{k}") for k in range(3)]
    assert gpu_allocations(jobs) == [[0], [1], [2]]
    assert gpu_hours_requested(jobs[:1]) == pytest.approx(1.5)


def test_a_bundle_holds_one_gpu_for_its_longest_member():
    g, s, alone = 4, 2.0, 90
    config = sharing_config(g, s)
    # The rules ask for the runtime alone x S (rules/resources.smk).
    requested = resources.shared_minutes(alone, s)
    assert requested == 180
    for rule in ("train_dense", "train_ticket", "export_outputs"):
        wildcards = {"method": "magnitude", "sparsity": "0.5", "model": "sparsity0"}
        bundle = [
            gpu_job(rule, requested + k, run=f"seed{k}", group="gpu_0", **wildcards)
            for k in range(g)
        ]
        assert gpu_allocations(bundle) == [list(range(g))]
        assert gpu_hours_requested(bundle) == pytest.approx((requested + g - 1) / 60)
        seconds = table_rate_seconds(bundle[0], config)
        assert seconds > 0
        assert gpu_hours_at_table_rates(bundle, config) == pytest.approx(seconds / 3600 * s)
    # Jobs of other rules never share, group or not: each is its own allocation.
    attacks = [
        PlannedJob("run_attacks", {"dataset": "digits"}, 1, 1, 120, 8000, False, "attacks_0")
        for _ in range(2)
    ]
    assert gpu_allocations(attacks) == [[0], [1]]


def test_a_bundle_short_of_g_costs_a_whole_allocation():
    # Five models at G = 4: a full bundle and one of a single model, two allocations of the
    # requested runtime each (2 x 3 h), not 5/4 of one. The lone model trains alone, so its
    # table-rate time carries no contention factor.
    s, requested = 2.0, resources.shared_minutes(90, 2.0)
    config = sharing_config(4, s)
    jobs = [
        gpu_job("train_dense", requested, run=f"ref{k}", group=f"gpu_{k // 4}") for k in range(5)
    ]
    (row,) = hours_by_dataset_stage(jobs, config)
    assert row.gpu_jobs == 5
    assert row.gpu_hours_requested == pytest.approx(2 * requested / 60)
    alone = table_rate_seconds(jobs[0], config) / 3600
    assert row.gpu_hours_at_table_rates == pytest.approx(alone * s + alone)
    # A bundle's trainings and its exports are two layers of one group: one allocation each.
    exports = [gpu_job("export_outputs", 20, run=f"ref{k}", group="gpu_0") for k in range(4)]
    assert len(gpu_allocations([*jobs[:4], *exports])) == 2


def test_a_bundle_across_stages_is_counted_once_and_shared_by_its_members():
    # The rules bundle a target's dense training with its references' (one stage of the DAG,
    # two stages of the plan): the allocation is counted once, each member a quarter of it.
    config = sharing_config(4, 2.0)
    jobs = [
        gpu_job("train_dense", 120, run=run, group="gpu_0")
        for run in ("seed0", "ref0", "ref1", "ref2")
    ]
    rows = {row.stage: row for row in hours_by_dataset_stage(jobs, config)}
    assert rows["dense"].gpu_hours_requested == pytest.approx(0.5)
    assert rows["references"].gpu_hours_requested == pytest.approx(1.5)


def test_stage_hours_and_the_report_carry_the_sharing():
    alone, s = 60, 1.5
    shared, single = sharing_config(4, s), sharing_config(1, s)
    jobs = [
        gpu_job("train_dense", resources.shared_minutes(alone, s), run=f"ref{k}", group="gpu_0")
        for k in range(4)
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
    assert "1.5 x its time alone" in report
    assert "share a GPU" not in "\n".join(cost_lines(cost_plan(unshared, single), "single.yaml"))
