"""Output export: the same balanced rows for every model, eval mode, members from the train pool."""

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from lottery_mia.config import queries_flipped
from lottery_mia.data import load_dataset
from lottery_mia.models import ModelSpec, build_model
from lottery_mia.outputs import export_outputs
from lottery_mia.outputs_table import FLIPPED_COLUMN, OUTPUT_SCHEMA, logits_matrix, read_outputs
from lottery_mia.selection import max_sample_count, select_samples
from lottery_mia.training import TrainSettings

DIGITS = {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", DIGITS)


def test_selection_is_balanced_seeded_and_model_independent():
    first = select_samples(900, 700, eval_size=100, max_per_pool=None, seed=3)
    again = select_samples(900, 700, eval_size=100, max_per_pool=None, seed=3)
    assert first.per_pool == 700 == len(first.test_ids)
    assert np.array_equal(first.train_ids, again.train_ids)
    assert len(set(first.train_ids)) == 700 and first.train_ids.max() < 900
    capped = select_samples(900, 700, eval_size=100, max_per_pool=300, seed=3)
    assert capped.per_pool == 300
    assert max_sample_count(300, 100) == 500


def test_selection_rejects_an_eval_set_larger_than_the_pools():
    with pytest.raises(ValueError, match=r"attack\.eval_size 700"):
        select_samples(300, 300, eval_size=700, max_per_pool=None, seed=0)


def export(model, dataset, path, eval_batch_size=512, eval_size=100):
    selection = select_samples(
        len(dataset.train), len(dataset.test), eval_size, max_per_pool=None, seed=0
    )
    settings = TrainSettings(epochs=1, batch_size=1, lr=0.1, eval_batch_size=eval_batch_size)
    export_outputs(model, dataset, selection, settings, torch.device("cpu"), path)
    return read_outputs(path)


def test_export_follows_the_contract(tmp_path, digits):
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=4), seed=0)
    frame = export(model, digits, tmp_path / "outputs.parquet")
    assert pq.read_schema(tmp_path / "outputs.parquet").equals(OUTPUT_SCHEMA)
    members = frame[frame["member"]]
    assert (members["pool"] == "train").all() and (frame[~frame["member"]]["pool"] == "test").all()
    assert len(members) == len(frame) / 2
    # Members are training-pool samples: their labels are the train pool's labels.
    assert np.array_equal(members["label"], digits.train.labels[members["sample_id"]])
    others = frame[~frame["member"]]
    assert np.array_equal(others["label"], digits.test.labels[others["sample_id"]])
    assert frame.groupby("member")["attack_eval"].sum().tolist() == [50, 50]
    logits = logits_matrix(frame)
    assert logits.shape == (len(frame), 10)
    loss = torch.nn.functional.cross_entropy(
        torch.from_numpy(logits), torch.from_numpy(frame["label"].to_numpy()), reduction="none"
    )
    assert np.allclose(loss.numpy(), frame["loss"], atol=1e-5)
    assert np.array_equal(frame["correct"], logits.argmax(1) == frame["label"])


def test_export_uses_eval_mode_even_if_the_model_was_left_training(tmp_path, digits):
    """In train mode BatchNorm uses batch statistics, so a row's output would depend on its batch."""
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=4), seed=0)
    with torch.no_grad():  # non-trivial running statistics
        model.train()(torch.randn(256, 1, 8, 8) * 3 + 1)
    model.train()
    big = export(model, digits, tmp_path / "big.parquet", eval_batch_size=512)
    model.train()
    small = export(model, digits, tmp_path / "small.parquet", eval_batch_size=7)
    assert np.allclose(logits_matrix(big), logits_matrix(small), atol=1e-4)
    assert not model.training


def test_a_failed_export_leaves_no_file(tmp_path, digits):
    class Broken(torch.nn.Module):
        def forward(self, images):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        export(Broken(), digits, tmp_path / "outputs.parquet")
    assert list(tmp_path.iterdir()) == []


def test_flip_queries_export_the_mirror_images_logits(tmp_path, digits):
    """logits_flipped is the model on the image mirrored left to right, row by row; other
    attacks do not read it, and without query flips the file has no such column."""
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=4), seed=0).eval()
    selection = select_samples(len(digits.train), len(digits.test), 100, None, seed=0)
    settings = TrainSettings(epochs=1, batch_size=1, lr=0.1, eval_batch_size=64)
    path = tmp_path / "flipped.parquet"
    export_outputs(model, digits, selection, settings, torch.device("cpu"), path, flip=True)
    assert pq.read_schema(path).names == [*OUTPUT_SCHEMA.names, FLIPPED_COLUMN]
    frame = read_outputs(path, flipped=True)
    images, _ = next(digits.train.batches(selection.train_ids[:5], 5, torch.device("cpu"), False))
    with torch.no_grad():
        expected = model(images.flip(-1)).numpy()
        unflipped = model(images).numpy()
    np.testing.assert_allclose(logits_matrix(frame, FLIPPED_COLUMN)[:5], expected, atol=1e-5)
    np.testing.assert_allclose(logits_matrix(frame)[:5], unflipped, atol=1e-5)
    assert not np.allclose(expected, unflipped, atol=1e-3)  # a digit and its mirror differ
    assert FLIPPED_COLUMN not in read_outputs(path).columns
    plain = tmp_path / "plain.parquet"
    export_outputs(model, digits, selection, settings, torch.device("cpu"), plain)
    assert pq.read_schema(plain).equals(OUTPUT_SCHEMA)


@pytest.mark.parametrize(
    ("query_flips", "augmentation", "flipped"),
    [
        ("auto", "flip_crop", True),
        ("auto", "random_resized_crop", True),
        ("auto", "crop", False),
        ("auto", "none", False),
        ("always", "none", True),
        ("never", "flip_crop", False),
    ],
)
def test_query_flips_auto_follows_the_training_augmentation(query_flips, augmentation, flipped):
    assert queries_flipped(query_flips, augmentation) is flipped
