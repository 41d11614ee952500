"""Learning-rate warm-up: per optimiser step from a small rate, and refused when it cannot end."""

import copy
import itertools

import pytest
import torch
import yaml

from conftest import REPO, TINY_CONFIG
from lottery_mia.config import ConfigError, load_schema, validate_config
from lottery_mia.config_checks import check_config
from lottery_mia.data import load_dataset, pool_sizes
from lottery_mia.models import ModelSpec, build_model
from lottery_mia.training import TrainSettings, learning_rate, train

SCHEMA = load_schema(REPO / "rules" / "schemas" / "config.schema.yaml")
TINY = yaml.safe_load(TINY_CONFIG.read_text())


def test_one_warmup_epoch_ramps_up_per_step_from_a_small_rate():
    settings = TrainSettings(epochs=3, batch_size=1, lr=1.0, schedule="constant", warmup_epochs=1)
    epoch0 = [learning_rate(0, step, 10, settings) for step in range(10)]
    assert epoch0[0] == pytest.approx(0.1)  # not the full rate from the first step on
    assert all(a < b for a, b in itertools.pairwise(epoch0))
    assert epoch0[-1] == pytest.approx(1.0)
    assert learning_rate(1, 0, 10, settings) == pytest.approx(1.0)


def test_warmup_hands_over_to_the_schedule_at_its_peak():
    settings = TrainSettings(epochs=6, batch_size=1, lr=0.4, schedule="cosine", warmup_epochs=2)
    warm = [learning_rate(epoch, step, 4, settings) for epoch in (0, 1) for step in range(4)]
    assert warm == pytest.approx([0.4 * (i + 1) / 8 for i in range(8)])
    after = [learning_rate(epoch, 0, 4, settings) for epoch in range(2, 6)]
    assert after[0] == pytest.approx(0.4)
    assert all(a > b for a, b in itertools.pairwise(after))


def test_training_applies_the_warmup_rate_at_every_step(monkeypatch):
    digits = load_dataset("digits", {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"})
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0)
    settings = TrainSettings(
        epochs=2, batch_size=128, lr=0.1, warmup_epochs=1, device="cpu", metrics_max_samples=64
    )
    rates = []
    original_step = torch.optim.SGD.step

    def recording_step(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", recording_step)
    train(model, digits, settings, seed=0)
    steps_per_epoch = len(rates) // 2
    assert steps_per_epoch == len(digits.train) // 128
    assert rates[0] == pytest.approx(0.1 / steps_per_epoch)
    assert all(a < b for a, b in itertools.pairwise(rates[:steps_per_epoch]))
    assert rates[steps_per_epoch - 1] == pytest.approx(0.1)


def validate(config):
    validated = validate_config(config, SCHEMA)
    check_config(validated, SCHEMA, pool_sizes)
    return validated


def test_a_warmup_as_long_as_training_is_refused_before_any_job():
    config = copy.deepcopy(TINY)
    config["training"]["warmup_epochs"] = config["training"]["epochs"]
    with pytest.raises(ConfigError) as refusal:
        validate(config)
    problems = str(refusal.value).splitlines()[1:]
    assert len(problems) == 1, problems
    assert "config key 'training.warmup_epochs': 2 with 2 training epochs" in problems[0]
    assert "expected fewer warm-up epochs than training epochs" in problems[0]
    config["training"]["warmup_epochs"] = 1
    assert validate(config)["training"]["warmup_epochs"] == 1


def test_a_dataset_override_that_shortens_training_below_the_warmup_is_refused():
    config = copy.deepcopy(TINY)
    config["training"]["warmup_epochs"] = 1
    config["datasets"]["digits"]["training"] = {"epochs": 1}
    with pytest.raises(
        ConfigError, match=r"config key 'datasets\.digits\.training\.warmup_epochs'"
    ):
        validate(config)
