"""Training: schedules, device choice, determinism, masks through real training, the ticket's start."""

import itertools
import logging

import numpy as np
import pytest
import torch

from lottery_mia import pruning_steps, training, training_steps
from lottery_mia.data import load_dataset
from lottery_mia.models import ModelSpec, build_model, load_state_dict
from lottery_mia.pruning import global_magnitude_mask
from lottery_mia.training import TrainSettings, learning_rate, resolve_device, train

DIGITS = {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"}
TINY = {"epochs": 2, "batch_size": 128, "lr": 0.1, "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", DIGITS)


def tiny_model(seed=0):
    return build_model(ModelSpec("resnet18", 10, in_channels=1, image_size=8, width=4), seed=seed)


def test_cosine_schedule_starts_at_peak_and_decays():
    settings = TrainSettings(epochs=10, batch_size=1, lr=0.2, schedule="cosine")
    rates = [learning_rate(e, 0, 1, settings) for e in range(10)]
    assert rates[0] == pytest.approx(0.2)
    assert all(a > b for a, b in itertools.pairwise(rates))
    assert rates[-1] < 0.01


def test_step_schedule_and_warmup():
    settings = TrainSettings(
        epochs=8, batch_size=1, lr=1.0, schedule="step", milestones=(0.5, 0.75), warmup_epochs=0
    )
    assert [learning_rate(e, 0, 1, settings) for e in range(8)] == pytest.approx(
        [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]
    )
    warm = TrainSettings(epochs=4, batch_size=1, lr=1.0, schedule="constant", warmup_epochs=2)
    assert [learning_rate(e, 0, 1, warm) for e in range(4)] == pytest.approx([0.5, 1, 1, 1])


def test_device_falls_back_to_cpu_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        assert resolve_device("cuda") == torch.device("cpu")
    assert "torch.cuda.is_available() is false" in caplog.text
    assert resolve_device("auto") == torch.device("cpu")


def test_training_is_deterministic_on_cpu(digits):
    settings = TrainSettings.from_config(TINY)
    first, second = tiny_model(), tiny_model()
    train(first, digits, settings, seed=0)
    train(second, digits, settings, seed=0)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_masked_training_keeps_pruned_weights_zero_and_learns(digits):
    model = tiny_model()
    mask = global_magnitude_mask(model, 0.7)
    settings = TrainSettings.from_config({**TINY, "epochs": 4, "batch_size": 32})
    result = train(model, digits, settings, seed=0, mask=mask)
    params = dict(model.named_parameters())
    assert all(torch.all(params[n][~m] == 0) for n, m in mask.items())
    assert result.test_accuracy > 0.3  # chance is 0.1
    assert len(result.history) == 4


def test_ticket_starts_from_mask_times_w0(tmp_path, digits, monkeypatch):
    """The rewind of Algorithm 1: the first batch sees exactly m ⊙ w0, BatchNorm from w0."""
    params = {"data": DIGITS, "model": {"width": 4, "zero_init_residual": True}, "training": TINY}
    key = {"dataset": "digits", "arch": "resnet18", "seed": 0, "sparsity": 0.0}
    dense = {name: tmp_path / name for name in ("init.pt", "model.pt", "train.json", "ckpt.pt")}
    training_steps.initialise(key, params, dense["init.pt"])
    training_steps.train_dense(key, params, *dense.values())
    pruning_steps.prune(
        "magnitude", 0.5, {"exclude": ["fc"]}, key, tmp_path / "mask.pt",
        dense_model_path=dense["model.pt"], dense_record_path=dense["train.json"],
    )  # fmt: skip

    seen = {}
    real_epoch = training._train_one_epoch

    def spy(model, *args, **kwargs):
        seen.setdefault("start", {k: v.clone() for k, v in model.state_dict().items()})
        return real_epoch(model, *args, **kwargs)

    monkeypatch.setattr(training, "_train_one_epoch", spy)
    training_steps.train_ticket(
        {**key, "sparsity": 0.5}, params, tmp_path / "mask.pt", tmp_path / "ticket.pt",
        tmp_path / "ticket.json", tmp_path / "t.pt", start_path=dense["init.pt"],
    )  # fmt: skip
    w0 = load_state_dict(dense["init.pt"])
    mask = load_state_dict(tmp_path / "mask.pt")
    for name, start in seen["start"].items():
        expected = w0[name] * mask[name] if name in mask else w0[name]
        assert torch.equal(start, expected), name
    ticket = load_state_dict(tmp_path / "ticket.pt")
    assert all(torch.all(ticket[n][~m] == 0) for n, m in mask.items())
    assert not any(torch.equal(ticket[n], w0[n] * mask[n]) for n in mask)  # it did train


def test_members_are_fit_better_than_non_members_after_overfitting(digits):
    """A sanity check that the train pool is what the model learns from."""
    model = tiny_model()
    result = train(model, digits, TrainSettings.from_config({**TINY, "epochs": 8}), seed=0)
    assert result.test_rows == len(digits.test)  # the n of the test accuracy's interval
    assert result.train_accuracy > result.test_accuracy
    assert result.train_loss < result.test_loss
    assert np.isfinite(result.train_loss)


def test_training_batches_are_all_full_size(digits, monkeypatch):
    """The last incomplete batch is dropped: BatchNorm on 2 samples at 1x1 resolution made
    ResNet-50 diverge on digits (898 = 14 x 64 + 2)."""
    sizes = []
    real_batches = type(digits.train).batches

    def recording(self, indices, batch_size, device, augment, generator=None):
        for images, labels in real_batches(self, indices, batch_size, device, augment, generator):
            if augment:
                sizes.append(len(labels))
            yield images, labels

    monkeypatch.setattr(type(digits.train), "batches", recording)
    train(tiny_model(), digits, TrainSettings.from_config({**TINY, "batch_size": 64}), seed=0)
    assert len(digits.train) % 64 != 0
    assert sizes and set(sizes) == {64}
    assert len(sizes) == 2 * (len(digits.train) // 64)
