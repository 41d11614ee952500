"""Metric attacks: thresholds from training rows only, per-class thresholds, score orientation."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from conftest import membership_metrics
from lottery_mia.attack.metric import (
    METRIC_ATTACK_NAMES,
    best_signal_threshold,
    fit_metric_attack,
    fit_thresholds,
    parse_metric_attack,
)


def _two_class_rows(phi: np.ndarray, labels: np.ndarray, member: np.ndarray) -> pd.DataFrame:
    """Rows whose true-class log-odds are exactly ``phi`` (two classes)."""
    logits = np.zeros((phi.size, 2), dtype=np.float32)
    logits[np.arange(phi.size), labels] = phi
    return pd.DataFrame({"logits": list(logits), "label": labels, "member": member})


def _shifted_classes(n_rows: int, seed: int) -> pd.DataFrame:
    """Members are 1.5 log-odds more confident; class 1 is 4 log-odds more confident overall."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_rows)
    member = rng.permutation(n_rows) < n_rows // 2
    phi = 4.0 * labels + 1.5 * member + rng.normal(0.0, 0.5, n_rows)
    return _two_class_rows(phi, labels, member)


def test_class_conditional_thresholds_beat_a_global_one_on_a_planted_class_shift() -> None:
    train_rows, eval_rows = _shifted_classes(400, seed=0), _shifted_classes(2000, seed=1)
    results = {}
    for name in ("loss_threshold", "loss_threshold_per_class"):
        attack = fit_metric_attack(name, train_rows)
        results[name] = membership_metrics(
            eval_rows["member"].to_numpy(),
            attack.membership_score(eval_rows),
            attack.predict(eval_rows),
        )
    per_class, single = results["loss_threshold_per_class"], results["loss_threshold"]
    assert per_class["accuracy"] > 0.9
    assert single["accuracy"] < 0.8
    assert per_class["auc"] > single["auc"] + 0.05


@pytest.mark.parametrize("name", METRIC_ATTACK_NAMES)
def test_every_metric_attack_scores_members_higher(name: str) -> None:
    """Members more confident on the true class: AUC well above 0.5 (a flipped sign gives < 0.5)."""
    rng = np.random.default_rng(2)
    n_rows = 600
    labels = rng.integers(0, 3, n_rows)
    member = rng.permutation(n_rows) < n_rows // 2
    logits = rng.normal(0.0, 1.0, (n_rows, 3)).astype(np.float32)
    logits[np.arange(n_rows), labels] += np.where(member, 4.0, 1.0)
    rows = pd.DataFrame({"logits": list(logits), "label": labels, "member": member})
    attack = fit_metric_attack(name, rows.iloc[:300])
    held_out = rows.iloc[300:]
    score = attack.membership_score(held_out)
    metrics = membership_metrics(held_out["member"].to_numpy(), score, attack.predict(held_out))
    assert metrics["auc"] > 0.75
    np.testing.assert_array_equal(attack.predict(held_out), score > 0)


def test_threshold_maximises_training_accuracy_of_signal_above_threshold() -> None:
    signal = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    member = np.array([False, False, False, True, True, True])
    assert best_signal_threshold(signal, member) == pytest.approx(0.5)
    # Reversed labels: the best rule "signal > t" can do is call everyone a member or no one.
    reversed_threshold = best_signal_threshold(signal, ~member)
    assert reversed_threshold >= 0.9


def test_a_label_with_too_few_rows_falls_back_to_the_global_threshold(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rng = np.random.default_rng(3)
    labels = np.concatenate([np.zeros(40, int), np.ones(40, int), np.full(4, 2)])
    member = np.tile([True, False], 42)
    signal = rng.normal(0.0, 1.0, labels.size) + member + 3.0 * labels
    with caplog.at_level(logging.WARNING):
        thresholds = fit_thresholds(signal, member, labels, per_class=True, min_rows_per_class=5)
    assert thresholds.fallback_labels == (2,)
    assert set(thresholds.per_label) == {0, 1}
    assert "[2]" in caplog.text
    applied = thresholds.for_labels(np.array([0, 1, 2, 7]))
    assert applied[2] == applied[3] == thresholds.global_threshold
    assert applied[0] != applied[1]


def test_thresholds_come_from_the_training_rows_only() -> None:
    rows = _shifted_classes(400, seed=4)
    attack = fit_metric_attack("confidence_per_class", rows.iloc[:200])
    again = fit_metric_attack("confidence_per_class", rows.iloc[:200])
    different = fit_metric_attack("confidence_per_class", rows.iloc[200:])
    assert attack.thresholds == again.thresholds
    assert attack.thresholds != different.thresholds


def test_names_parse_to_signal_and_variant() -> None:
    assert parse_metric_attack("modified_entropy_per_class") == ("modified_entropy", True)
    assert parse_metric_attack("loss_threshold") == ("loss", False)
    with pytest.raises(ValueError, match="unknown metric attack"):
        parse_metric_attack("entropy_by_class")


def test_training_rows_need_both_classes() -> None:
    with pytest.raises(ValueError, match="expected both"):
        fit_thresholds(np.zeros(4), np.ones(4, bool), np.zeros(4, int), per_class=False)
