"""Late rewinding (the ticket starts from m ⊙ w_k) and masks of every method holding through SGD."""

import pytest
import torch

from lottery_mia import training
from lottery_mia.data import load_dataset
from lottery_mia.models import ModelSpec, build_model
from lottery_mia.prune.snip import snip_scores
from lottery_mia.prune.synflow import synflow_mask
from lottery_mia.pruning import global_magnitude_mask, masked_state, random_mask_like, select_global
from lottery_mia.training import TrainSettings, train

SPEC = ModelSpec("resnet18", 10, in_channels=1, image_size=8, width=8)
#: Constant rate: the first k epochs of a longer run are then exactly a k-epoch run.
SETTINGS = {
    "epochs": 3,
    "batch_size": 128,
    "lr": 0.05,
    "schedule": "constant",
    "momentum": 0.9,
    "weight_decay": 0.01,
    "device": "cpu",
    "channels_last": False,
}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", {"test_fraction": 0.5, "split_seed": 0})


def _state(model):
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def test_the_epoch_hook_sees_the_weights_after_epoch_k(digits):
    seen = {}
    train(
        build_model(SPEC, seed=0),
        digits,
        TrainSettings.from_config(SETTINGS),
        seed=0,
        on_epoch_end=lambda epoch, model: seen.setdefault(epoch, _state(model)),
    )
    assert sorted(seen) == [1, 2, 3]
    short = build_model(SPEC, seed=0)
    train(short, digits, TrainSettings.from_config({**SETTINGS, "epochs": 2}), seed=0)
    for name, tensor in short.state_dict().items():
        assert torch.equal(seen[2][name], tensor), name
    assert not torch.equal(seen[1]["conv1.weight"], seen[2]["conv1.weight"])


def test_a_ticket_rewound_to_epoch_k_starts_from_mask_times_w_k(digits, monkeypatch):
    seen = {}
    dense = build_model(SPEC, seed=0)
    train(
        dense,
        digits,
        TrainSettings.from_config(SETTINGS),
        seed=0,
        on_epoch_end=lambda epoch, model: seen.setdefault(epoch, _state(model)),
    )
    mask = global_magnitude_mask(dense, 0.8)
    w_k = seen[1]

    starts = []
    real_epoch = training._train_one_epoch

    def spy(model, *args, **kwargs):
        starts.append(_state(model))
        return real_epoch(model, *args, **kwargs)

    monkeypatch.setattr(training, "_train_one_epoch", spy)
    ticket = build_model(SPEC)
    ticket.load_state_dict(masked_state(w_k, mask))
    train(ticket, digits, TrainSettings.from_config({**SETTINGS, "epochs": 1}), seed=0, mask=mask)
    for name, start in starts[0].items():
        expected = w_k[name] * mask[name] if name in mask else w_k[name]
        assert torch.equal(start, expected), name
    assert not torch.equal(starts[0]["conv1.weight"], dense.state_dict()["conv1.weight"])


def _masks(model, digits):
    batches = list(digits.train.batches(range(64), 64, torch.device("cpu"), augment=False))
    return {
        "random": random_mask_like(global_magnitude_mask(model, 0.8), seed=0),
        "snip": select_global(snip_scores(model, batches), 0.8),
        "synflow": synflow_mask(model, 0.8, (1, 8, 8), rounds=5),
    }


@pytest.mark.slow
def test_masks_of_every_method_hold_through_momentum_and_weight_decay(digits):
    w0 = build_model(SPEC, seed=0)
    for method, mask in _masks(w0, digits).items():
        model = build_model(SPEC, seed=0)
        result = train(model, digits, TrainSettings.from_config(SETTINGS), seed=0, mask=mask)
        params = dict(model.named_parameters())
        for name, layer_mask in mask.items():
            assert torch.all(params[name][~layer_mask] == 0), (method, name)
            assert not torch.equal(params[name][layer_mask], w0.get_parameter(name)[layer_mask])
        assert result.test_accuracy > 0.2, method  # it learned (chance is 0.1)
