"""The workflow itself: the DAG of the default config, and a tiny run that produces every file."""

import base64
import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import (
    FIGURE_JOBS,
    REPO,
    SNAKEFILE,
    SNAKEMAKE,
    TINY_CONFIG,
    copy_run,
    parse_job_counts,
    planned_jobs,
    relative_files,
    run_snakemake,
)
from fabricate import write_cifar
from lottery_mia.outputs_table import read_outputs
from lottery_mia.summary import SUMMARY_COLUMNS

pytestmark = pytest.mark.workflow
TINY = yaml.safe_load(TINY_CONFIG.read_text())

MODELS = [
    f"results/digits/{arch}/seed0/{model}"
    for arch in ("resnet18", "resnet50")
    for model in ("sparsity0", "magnitude/sparsity0.5")
]
ATTACKS = ("mlp", "svm", "random_forest", "loss_threshold")


def test_default_config_schedules_the_whole_study(tmp_path):
    jobs = planned_jobs(tmp_path, REPO / "config.yaml")
    # 2 archs x 4 sparsities (3 tickets each) x 2 sample counts, 1 dataset; 4 reference models
    # for resnet18's dense model and 80% ticket (4 dense + 4 tickets), read once per referenced
    # target (statistics) and used by one job per target and sample count.
    assert jobs == {
        "initialise": 2 + 4,
        "train_dense": 2 + 4,
        "prune": 6 + 4,
        "train_ticket": 6 + 4,
        "export_outputs": 8 + 8,
        "run_attacks": 16,
        "reference_keep": 1,
        "reference_statistics": 2,
        "reference_attacks": 2 * 2,
        "transfer": 2,
        "summarize": 1,
        "class_counts": 1,
        **FIGURE_JOBS,
    }


def test_tiny_run_writes_every_file_of_the_contract(tiny_run):
    expected = {"results/summary.parquet"}
    expected |= {
        f"results/tables/{t}.{ext}" for t in ("table1", "per_class") for ext in ("csv", "md")
    }
    expected |= {
        "results/digits/class_counts.parquet",
        "results/tables/exposure_digits.parquet",
        "results/tables/exposure_digits.md",
        "results/tables/exposure_agreement_digits.csv",
        "results/tables/exposure_memorisation_digits.csv",
    }
    for arch in ("resnet18", "resnet50"):
        expected.add(f"results/digits/{arch}/seed0/init.pt")
    for model in MODELS:
        expected |= {f"{model}/{name}" for name in ("model.pt", "train.json", "outputs.parquet")}
        expected |= {
            f"{model}/attack/n200/{attack}{suffix}"
            for attack in ATTACKS
            for suffix in (".json", ".scores.parquet")
        }
        expected.add(f"{model}/attack/n200/.snakemake_timestamp")  # Snakemake's, per folder output
        if not model.endswith("sparsity0"):
            expected.add(f"{model}/mask.pt")
    expected |= {
        f"results/digits/transfer/mlp_n200{suffix}" for suffix in (".parquet", ".cells.parquet")
    }
    for figure in (
        "fig1_test_accuracy",
        "fig2_attack_vs_sparsity",
        "fig3_attack_vs_samples",
        "fig4_transfer_digits",
        "fig5_roc_curves",
        "fig6_gap_vs_auc",
        "fig7_per_class",
        "fig7_per_class_frequency",
        "fig8_exposure_digits",
        "fig9_memorisation_digits",
        "fig_forest",
    ):
        expected |= {f"results/figures/{figure}.png", f"results/figures/{figure}.pdf"}
    assert relative_files(tiny_run) == expected
    assert not list(tiny_run.rglob("train_checkpoint.pt")), "checkpoints are removed when done"


def test_tiny_run_models_masks_and_records_are_consistent(tiny_run):
    for model in MODELS:
        record = json.loads((tiny_run / model / "train.json").read_text())
        target = float(model.rsplit("sparsity", 1)[1])
        assert record["achieved_sparsity"] == pytest.approx(target, abs=1e-4)
        assert record["provenance"]["config_hash"] and record["provenance"]["packages"]["torch"]
        weights = torch.load(tiny_run / model / "model.pt", weights_only=True)
        if target:
            mask = torch.load(tiny_run / model / "mask.pt", weights_only=True)
            assert all(mask[name].dtype == torch.bool for name in mask)
            assert all(torch.all(weights[name][~mask[name]] == 0) for name in mask)
            assert not any(name.startswith("fc.") for name in mask)


def test_tiny_run_outputs_are_the_same_rows_for_every_model(tiny_run):
    frames = [read_outputs(tiny_run / model / "outputs.parquet") for model in MODELS]
    columns = ["sample_id", "pool", "member", "label", "attack_eval"]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame[columns], frames[0][columns])
    first = frames[0]
    assert first["member"].sum() == (~first["member"]).sum()
    assert not np.allclose(np.stack(frames[0]["logits"]), np.stack(frames[2]["logits"]))


def test_tiny_run_summary_and_attack_records(tiny_run):
    summary = pd.read_parquet(tiny_run / "results/summary.parquet")
    assert list(summary.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert len(summary) == len(MODELS) * len(ATTACKS)
    assert set(summary["attack"]) == set(ATTACKS)
    assert summary["n_eval"].eq(200).all()
    matrix = pd.read_parquet(tiny_run / "results/digits/transfer/mlp_n200.parquet")
    assert len(matrix) == len(MODELS) ** 2
    diagonal = matrix[
        (matrix["source_arch"] == matrix["target_arch"])
        & (matrix["source_sparsity"] == matrix["target_sparsity"])
    ]
    mlp = summary[summary["attack"] == "mlp"]
    merged = diagonal.merge(
        mlp, left_on=["target_arch", "target_sparsity"], right_on=["arch", "sparsity"]
    )
    assert np.allclose(merged["accuracy_x"], merged["accuracy_y"])
    # The diagonal is the ordinary attack, intervals included (same rows, resamples and seed).
    assert np.allclose(merged["auc_ci_low_x"], merged["auc_ci_low_y"])
    assert np.allclose(merged["auc_ci_high_x"], merged["auc_ci_high_y"])
    cells = pd.read_parquet(tiny_run / "results/digits/transfer/mlp_n200.cells.parquet")
    assert len(cells) == len(MODELS) ** 2  # one seed: a cell per model pair
    assert (cells["auc_ci_low"] <= cells["auc"]).all() and (
        cells["auc"] <= cells["auc_ci_high"]
    ).all()


def test_finished_run_plans_nothing(tiny_run):
    assert planned_jobs(tiny_run, TINY_CONFIG) == {}


def test_a_configfile_replaces_the_default_config_instead_of_merging(tmp_path):
    """`--configfile configs/x.yaml` from the repository root must not inherit config.yaml's
    datasets (Snakemake merges command-line config files into the `configfile:` one by default)."""
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")  # as in the repository root
    root = write_cifar(tmp_path / "data", "cifar10", train_size=300, test_size=300).folder
    other = tmp_path / "other.yaml"
    config = {
        **TINY,
        "datasets": {"cifar10": {"root": str(root), "augmentation": "none"}},
        "grid": {**TINY["grid"], "archs": ["resnet18"]},
    }
    other.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(tmp_path, other)
    assert jobs["train_dense"] == 1 and jobs["fig_transfer"] == 1
    assert not (tmp_path / "results").exists()


def test_command_line_keys_without_datasets_override_the_default_config(tmp_path):
    """`--config key=value` (no `datasets`) edits config.yaml rather than replacing it; the edit
    reaches the gate (a refused value names its key)."""
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    command = [*SNAKEMAKE, "--snakefile", str(SNAKEFILE), "--directory", str(tmp_path), "-n"]
    planned = subprocess.run(
        [*command, "--quiet", "rules", "--config", "figures={palette: deep}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    # the demo's 2 archs and its 4 reference models
    assert parse_job_counts(planned.stdout + planned.stderr)["train_dense"] == 2 + 4
    refused = subprocess.run(
        [*command, "--config", "figures={context: huge}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "config key 'figures.context'" in refused.stdout + refused.stderr


def test_a_run_in_another_directory_without_a_config_plans_the_demo(tmp_path):
    """`--directory` elsewhere, no config there and none given: the workflow's config.yaml."""
    command = [*SNAKEMAKE, "--snakefile", str(SNAKEFILE), "--directory", str(tmp_path), "-n"]
    planned = subprocess.run(
        [*command, "--quiet", "rules"], capture_output=True, text=True, timeout=300, check=False
    )
    assert planned.returncode == 0, planned.stderr
    assert parse_job_counts(planned.stdout + planned.stderr)["train_dense"] == 2 + 4


def test_the_report_holds_every_figure_and_table_with_its_caption(tiny_run, tmp_path):
    """`make report` (snakemake --report): one self-contained page with every figure and Table 1."""
    run = copy_run(tiny_run, tmp_path / "run")
    report = tmp_path / "report.html"
    run_snakemake(run, TINY_CONFIG, "--report", str(report))
    html = report.read_text()
    figures = sorted((run / "results" / "figures").glob("*.png"))
    assert [path.name for path in figures] == [
        "fig1_test_accuracy.png",
        "fig2_attack_vs_sparsity.png",
        "fig3_attack_vs_samples.png",
        "fig4_transfer_digits.png",
        "fig5_roc_curves.png",
        "fig6_gap_vs_auc.png",
        "fig7_per_class.png",
        "fig7_per_class_frequency.png",
        "fig8_exposure_digits.png",
        "fig9_memorisation_digits.png",
        "fig_forest.png",
    ]
    tables = [run / "results" / "tables" / f"{name}.csv" for name in ("table1", "per_class")]
    for path in [*figures, *tables]:
        assert base64.b64encode(path.read_bytes()).decode() in html, f"{path.name} not embedded"
    captions = ("Figure 1.", "Figure 2.", "Figure 3.", "Figure 4.", "Figure 5.", "Figure 6.")
    extra = ("Figure 8.", "Figure 9.", "Per-class vulnerability against class frequency.")
    for caption in (*captions, *extra, "Table 1.", "Per-class vulnerability."):
        assert caption in html, caption
    assert "Membership inference on lottery-ticket networks" in html  # report/workflow.rst
