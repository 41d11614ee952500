"""Reference models in the workflow: made like targets, members = keep column, reruns when K grows.

One run of tests/configs/tiny_references.yaml (resnet18, a dense target and its ticket at 0.5,
K = 4 references for the dense target only) serves every test; the rerun tests dry-run a copy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from test_reruns import dry_run

from conftest import REPO, copy_run, run_snakemake, write_config
from lottery_mia.outputs_table import read_outputs
from lottery_mia.reference_keep import keep_from_frame, reference_training_seed

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

CONFIG = REPO / "tests" / "configs" / "tiny_references.yaml"
K = 4
REFERENCE_ATTACKS = ("shadow_mlp", "lira_online", "lira_offline", "rmia", "rmia_offline")


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("reference_run")
    run_snakemake(workdir, CONFIG, "--cores", "2")
    return workdir


def _keep(run: Path) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_parquet(run / "results/digits/reference_keep.parquet")
    return frame, keep_from_frame(frame)


def test_every_reference_output_lists_its_own_keep_half_as_members(reference_run: Path) -> None:
    frame, keep = _keep(reference_run)
    assert keep.shape[0] == K
    np.testing.assert_array_equal(keep.sum(axis=0), K // 2)  # balanced: each row IN for K/2
    target = read_outputs(reference_run / "results/digits/resnet18/seed0/sparsity0/outputs.parquet")
    np.testing.assert_array_equal(frame["sample_id"], target["sample_id"])
    for k in range(K):
        path = reference_run / f"results/digits/resnet18/ref{k}/sparsity0/outputs.parquet"
        outputs = read_outputs(path, expected_member=keep[k])
        assert (outputs["pool"] == "test").to_numpy()[keep[k]].any()  # IN rows from both pools
        np.testing.assert_array_equal(outputs["sample_id"], target["sample_id"])
    # References exist only where configured: not at sparsity 0.5.
    assert not (reference_run / "results/digits/resnet18/ref0/sparsity0.5").exists()


def test_each_reference_has_its_own_w0_and_seed(reference_run: Path) -> None:
    models = reference_run / "results/digits/resnet18"
    target_w0 = torch.load(models / "seed0/init.pt", weights_only=True)
    for k in range(K):
        w0 = torch.load(models / f"ref{k}/init.pt", weights_only=True)
        assert not torch.equal(w0["conv1.weight"], target_w0["conv1.weight"])
        record = json.loads((models / f"ref{k}/sparsity0/train.json").read_text())
        assert record["reference"] == k
        assert record["seed"] == reference_training_seed(k)


def test_reference_attacks_reach_the_summary(reference_run: Path) -> None:
    summary = pd.read_parquet(reference_run / "results/summary.parquet")
    dense = summary[summary["sparsity"] == 0]
    assert set(REFERENCE_ATTACKS) <= set(dense["attack"])
    assert not set(REFERENCE_ATTACKS) & set(summary[summary["sparsity"] == 0.5]["attack"])
    lira = json.loads(
        (
            reference_run
            / "results/digits/resnet18/seed0/sparsity0/reference_attack/n200/lira_online.json"
        ).read_text()
    )
    assert lira["n_reference_models"] == K
    assert lira["lira_queries"] == 2  # the image and its mirror (outputs.query_flips: always)
    # LiRA scores every exported row that no attack trains on: 898 per pool - 100 training rows.
    assert lira["n_eval"] == 2 * (898 - 100)


def test_growing_k_trains_only_the_new_references(reference_run: Path, tmp_path: Path) -> None:
    finished = copy_run(reference_run, tmp_path / "run")
    config = yaml.safe_load(CONFIG.read_text())
    grown = write_config(
        tmp_path / "k8.yaml", base=CONFIG, attack={**config["attack"], "reference_models": 8}
    )
    plan = dry_run(finished, grown)
    for rule in ("train_dense", "export_outputs"):
        assert plan.values(rule, "run") == {f"ref{k}" for k in range(4, 8)}, rule
        assert plan.counts[rule] == 4, rule
    assert plan.counts["reference_statistics"] == 1
    assert plan.counts["reference_attacks"] == 1
    assert plan.counts["reference_keep"] == 1
    # Nothing that reads no reference model reruns.
    for rule in ("run_attacks", "transfer", "train_ticket", "prune"):
        assert rule not in plan.counts, rule


def test_a_new_sample_count_reuses_the_reference_statistics(reference_run: Path, tmp_path: Path):
    """LiRA's and RMIA's statistics do not depend on n: a new n reads no reference model. (The
    reference attacks of every n rerun: the rows they score are those beyond the largest n's.)"""
    finished = copy_run(reference_run, tmp_path / "run")
    config = yaml.safe_load(CONFIG.read_text())
    grown = write_config(
        tmp_path / "n300.yaml", base=CONFIG, grid={**config["grid"], "sample_counts": [200, 300]}
    )
    plan = dry_run(finished, grown)
    assert plan.values("reference_attacks", "n") == {"200", "300"}
    assert "reference_statistics" not in plan.counts
    for rule in ("train_dense", "export_outputs", "reference_keep"):
        assert rule not in plan.counts, rule
