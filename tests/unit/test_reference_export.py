"""Reference models: trained on their keep-half, exported with the keep column as `member`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lottery_mia.data import load_dataset
from lottery_mia.job_inputs import dataset_and_spec
from lottery_mia.models import ModelSpec, build_model
from lottery_mia.outputs import export_outputs
from lottery_mia.outputs_table import read_outputs
from lottery_mia.reference_keep import parse_run, reference_population, reference_training_seed
from lottery_mia.selection import select_samples
from lottery_mia.training import TrainSettings

DIGITS = {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"}
REFERENCE = {"index": 3, "keep_seed": 0, "max_per_pool": 300, "selection_seed": 0}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", DIGITS)


def test_reference_outputs_carry_the_keep_column_as_member(tmp_path: Path, digits) -> None:
    selection = select_samples(len(digits.train), len(digits.test), 100, 300, seed=0)
    *_, keep = reference_population(REFERENCE, len(digits.train), len(digits.test))
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0)
    settings = TrainSettings(epochs=1, batch_size=1, lr=0.1, eval_batch_size=128)
    path = tmp_path / "outputs.parquet"
    export_outputs(model, digits, selection, settings, torch.device("cpu"), path, member=keep)
    frame = read_outputs(path, expected_member=keep)
    np.testing.assert_array_equal(frame["member"], keep)
    assert (frame["pool"] == "test").to_numpy()[keep].any()  # non-members of the target too
    with pytest.raises(ValueError, match="exactly for rows of the 'train' pool"):
        read_outputs(path)
    with pytest.raises(ValueError, match="differs from the reference's keep column"):
        read_outputs(path, expected_member=~keep)


def test_reference_trains_on_its_keep_half_and_as_many_rows_as_the_target(digits) -> None:
    key = {"dataset": "digits", "arch": "resnet18", "seed": reference_training_seed(3)}
    settings = {"data": DIGITS, "model": {"width": 8, "zero_init_residual": True}}
    target_data, _ = dataset_and_spec(key, settings)
    reference_data, _ = dataset_and_spec(key, {**settings, "reference": REFERENCE})
    assert len(reference_data.train) == len(target_data.train)
    train_ids, test_ids, keep = reference_population(REFERENCE, len(digits.train), len(digits.test))
    assert len(reference_data.test) == int((~keep).sum())
    unexported = np.setdiff1d(np.arange(len(digits.train)), train_ids)
    expected = np.r_[
        digits.train.labels[train_ids[keep[:300]]],
        digits.train.labels[unexported],
        digits.test.labels[test_ids[keep[300:]]],
    ]
    np.testing.assert_array_equal(np.sort(reference_data.train.labels), np.sort(expected))


def test_runs_name_targets_and_references() -> None:
    assert parse_run("seed12") == ("seed", 12)
    assert parse_run("ref3") == ("ref", 3)
    assert reference_training_seed(3) != reference_training_seed(4)
    with pytest.raises(ValueError, match="neither"):
        parse_run("reference3")
