"""The planner's cost side: stages, hours, memory, rate sources and disk from shapes."""

from __future__ import annotations

import copy

import pytest
import yaml

from conftest import REPO
from lottery_mia import resources
from lottery_mia.architectures import prunable_layer_names
from lottery_mia.config import SCHEMA_PATH, canonical_config, load_schema, validate_config
from lottery_mia.plan import (
    cost_plan,
    hours_by_dataset_stage,
    peak_memory_per_rule,
    peak_runtime_per_rule,
    rates_used,
    stage_of,
    table_rate_seconds,
)
from lottery_mia.plan_dag import PlannedJob
from lottery_mia.plan_disk import disk_by_kind, exported_rows, job_bytes, state_shape
from lottery_mia.plan_report import cost_lines

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def demo_config() -> dict:
    """config.yaml as the gate leaves it (defaults filled in)."""
    schema = load_schema(SCHEMA_PATH)
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    return canonical_config(validate_config(raw, schema), schema)


def job(rule: str, gpus: int = 0, minutes: int = 60, threads: int = 1, **wildcards: str):
    wildcards.setdefault("dataset", "digits")
    return PlannedJob(rule, wildcards, gpus, threads, minutes, 1000, local=False)


def test_every_job_of_a_reference_model_is_in_the_references_stage():
    assert stage_of(job("train_dense", run="ref3", arch="resnet18")) == "references"
    assert stage_of(job("export_outputs", run="ref0", arch="resnet18")) == "references"
    assert stage_of(job("train_dense", run="seed0", arch="resnet18")) == "dense"
    assert stage_of(job("train_ticket", run="seed0", arch="resnet18")) == "tickets"
    assert stage_of(job("export_outputs", run="seed0", arch="resnet18")) == "export"
    assert stage_of(job("reference_attacks", run="seed0", arch="resnet18")) == "attacks"
    assert stage_of(job("table1")) == "figures"


def test_hours_add_gpu_runtime_requests_and_cpu_runtime_times_threads(demo_config):
    jobs = [
        job("train_dense", gpus=1, minutes=90, run="seed0", arch="resnet18"),
        job("train_dense", gpus=1, minutes=30, run="seed1", arch="resnet50"),
        job("initialise", minutes=15, threads=1, run="seed0", arch="resnet18"),
        job("run_attacks", minutes=120, threads=2, run="seed0", arch="resnet18"),
        PlannedJob("summarize", {}, 0, 1, 30, 2000, local=True),
    ]
    by_stage = {row.stage: row for row in hours_by_dataset_stage(jobs, demo_config)}
    assert by_stage["dense"].gpu_hours_requested == pytest.approx(2.0)
    assert by_stage["dense"].cpu_hours_requested == pytest.approx(0.25)
    assert by_stage["attacks"].cpu_hours_requested == pytest.approx(4.0)
    # A login-node job requests nothing from SLURM.
    assert by_stage["figures"].cpu_hours_requested == 0
    expected_seconds = sum(table_rate_seconds(j, demo_config) for j in jobs[:2])
    assert by_stage["dense"].gpu_hours_at_table_rates == pytest.approx(expected_seconds / 3600)


def test_table_rate_seconds_are_the_throughput_tables_without_margin(demo_config):
    trained = job("train_ticket", gpus=1, run="seed0", arch="resnet50", method="magnitude")
    expected = resources.train_seconds("cuda", "digits", "resnet50", 16, 10)
    assert table_rate_seconds(trained, demo_config) == pytest.approx(expected)
    exported = job("export_outputs", gpus=0, run="seed0", arch="resnet18", model="sparsity0")
    assert table_rate_seconds(exported, demo_config) == pytest.approx(
        resources.export_seconds("cpu", "digits", "resnet18", 16)
    )
    # The request adds the margin and the start-up to the same seconds.
    minutes = resources.train_minutes("cuda", "digits", "resnet50", 16, 10)
    assert minutes > resources.STARTUP_MINUTES + expected / 60


def test_a_gpu_figure_on_an_estimated_rate_says_so_and_a_measured_one_does_not(demo_config):
    on_gpu = job("train_dense", gpus=1, run="seed0", arch="resnet18")
    (gpu_row,) = hours_by_dataset_stage([on_gpu], demo_config)
    assert gpu_row.estimated and gpu_row.rate_kinds == ("estimated",)
    on_cpu = job("train_dense", gpus=0, run="seed0", arch="resnet18")
    (rate,) = rates_used([on_cpu], demo_config)
    assert (rate.device, rate.kind, rate.estimated) == ("cpu", "measured", False)


def test_imagenet_rates_capped_by_jpeg_decoding_count_as_estimates():
    config = {"model": {"width": 64}, "datasets": {"imagenet": {"workers": 8}}}
    imagenet = job("train_dense", gpus=1, dataset="imagenet", run="seed0", arch="resnet50")
    (rate,) = rates_used([imagenet], config)
    assert rate.kind == "published"
    assert rate.capped_by_jpeg_decoding and rate.estimated
    assert rate.train_images_per_second == 8 * resources.JPEG_IMAGES_PER_WORKER


def test_peak_memory_and_runtime_are_the_largest_requests_of_each_rule():
    jobs = [
        PlannedJob("transfer", {"n": "400"}, 0, 2, 60, 1500, False),
        PlannedJob("transfer", {"n": "1200"}, 0, 2, 60, 2500, False),
        PlannedJob("prune", {}, 0, 1, 60, 8000, False),
    ]
    assert peak_memory_per_rule(jobs) == {"prune": 8000, "transfer": 2500}
    jobs.append(PlannedJob("transfer", {"n": "98000"}, 0, 2, 160, 2500, False))
    assert peak_runtime_per_rule(jobs) == {"prune": 60, "transfer": 160}


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
@pytest.mark.parametrize(("channels", "side", "classes"), [(1, 8, 10), (3, 224, 1000)])
def test_state_shape_counts_the_models_state_dict(arch, channels, side, classes):
    from lottery_mia.models import ModelSpec, build_model

    model = build_model(ModelSpec(arch, classes, channels, side, width=8))
    state = model.state_dict()
    modules = dict(model.named_modules())
    shape = state_shape(arch, 8, classes, channels, side)
    assert shape.values == sum(tensor.numel() for tensor in state.values())
    assert shape.tensors == len(state)
    assert shape.prunable_weights == sum(
        modules[name].weight.numel() for name in prunable_layer_names(arch)
    )


def test_outputs_bytes_grow_with_the_rows_and_the_mirror_query(demo_config):
    exported = job("export_outputs", gpus=1, run="seed0", arch="resnet18", model="sparsity0")
    assert exported_rows(demo_config, "digits") == 2 * 898
    capped = copy.deepcopy(demo_config)
    capped["outputs"]["max_per_pool"] = 449
    assert exported_rows(capped, "digits") == 898
    assert job_bytes(exported, capped) < job_bytes(exported, demo_config)
    mirrored = copy.deepcopy(demo_config)
    mirrored["outputs"]["query_flips"] = "always"
    # The second query adds 10 float32 logits per row.
    extra = job_bytes(exported, mirrored) - job_bytes(exported, demo_config)
    assert extra == 2 * 898 * 10 * 4


def test_disk_counts_checkpoints_per_trained_model(demo_config):
    dense = job("train_dense", gpus=1, run="seed0", arch="resnet18")
    shape = state_shape("resnet18", 16, 10, 1, 8)
    assert job_bytes(dense, demo_config) > 4 * shape.values
    totals = disk_by_kind([dense, dense], demo_config)
    assert totals["checkpoints"] == 2 * job_bytes(dense, demo_config)
    assert job_bytes(job("table1"), demo_config) == 0


def test_cost_plan_lists_the_login_node_rules(demo_config):
    jobs = [
        job("train_dense", gpus=1, run="seed0", arch="resnet18"),
        PlannedJob("table1", {}, 0, 1, 30, 2000, local=True),
    ]
    plan = cost_plan(jobs, demo_config)
    assert plan.local_rules == ("table1",)
    assert plan.total_jobs == 2
    assert plan.as_dict()["jobs_per_rule"] == {"table1": 1, "train_dense": 1}
    # The printed table shows no request for a login-node rule: Snakemake runs it itself.
    lines = cost_lines(plan, "config.yaml")
    rows = {line.split()[0]: line.split()[1:] for line in lines[4:6]}
    assert rows == {
        "table1": ["1", "login", "node", "-", "-"],
        "train_dense": ["1", "SLURM", "1000", "60"],
    }


def test_lira_and_rmia_scores_hold_every_row_outside_the_largest_ns_training_rows(demo_config):
    from lottery_mia import plan_disk

    reference = job("reference_attacks", run="seed0", arch="resnet18", model="sparsity0", n="400")
    per_file = plan_disk.SCORE_FILE_BYTES + plan_disk.RECORD_BYTES
    # shadow_mlp on the 400 evaluation rows; LiRA and RMIA (4) on 2 x 898 - 1200 = 596 rows.
    rows = 400 + 4 * 596
    assert job_bytes(reference, demo_config) == rows * plan_disk.SCORE_ROW_BYTES + 5 * per_file
