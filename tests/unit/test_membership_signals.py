"""Per-row membership signals: values, orientation (higher = member) and numerical stability."""

from __future__ import annotations

import numpy as np
import pytest

from lottery_mia.membership_signals import (
    SIGNAL_NAMES,
    logit_scaled_confidence,
    logit_scaled_features,
    membership_signal,
)

MODERATE = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-3.0, 4.0, 1.0]])
LABELS = np.array([0, 2, 0])


def _probabilities(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def test_logit_scaled_equals_log_odds_of_true_class_probability() -> None:
    p_true = _probabilities(MODERATE)[np.arange(3), LABELS]
    expected = np.log(p_true / (1 - p_true))
    np.testing.assert_allclose(logit_scaled_confidence(MODERATE, LABELS), expected, rtol=1e-12)


def test_logit_scaled_is_exact_where_probabilities_round_to_0_or_1() -> None:
    extreme = np.array([[1000.0, 0.0, 0.0], [0.0, 1000.0, 0.0]])
    phi = logit_scaled_confidence(extreme, np.array([0, 0]))
    # log(p/(1-p)) on rounded probabilities would give inf and -inf here.
    np.testing.assert_allclose(phi, [1000.0 - np.log(2.0), -1000.0], rtol=1e-12)


def test_loss_confidence_and_entropy_match_their_definitions() -> None:
    p = _probabilities(MODERATE)
    p_true = p[np.arange(3), LABELS]
    np.testing.assert_allclose(membership_signal(MODERATE, LABELS, "loss"), np.log(p_true))
    np.testing.assert_allclose(membership_signal(MODERATE, LABELS, "confidence"), p_true)
    np.testing.assert_allclose(
        membership_signal(MODERATE, LABELS, "entropy"), (p * np.log(p)).sum(axis=1)
    )


def test_modified_entropy_matches_song_and_mittal() -> None:
    p = _probabilities(MODERATE)
    expected = []
    for row, label in enumerate(LABELS):
        others = np.delete(np.arange(3), label)
        mentr = -(1 - p[row, label]) * np.log(p[row, label]) - sum(
            p[row, j] * np.log(1 - p[row, j]) for j in others
        )
        expected.append(-mentr)
    np.testing.assert_allclose(membership_signal(MODERATE, LABELS, "modified_entropy"), expected)


@pytest.mark.parametrize("signal", SIGNAL_NAMES)
def test_every_signal_ranks_confident_correct_above_uniform_above_confident_wrong(
    signal: str,
) -> None:
    logits = np.array([[60.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 60.0, 0.0]])
    values = membership_signal(logits, np.array([0, 0, 0]), signal)  # type: ignore[arg-type]
    assert np.isfinite(values).all()
    if signal == "entropy":  # blind to the label: both confident rows have the same entropy
        assert values[0] == values[2] > values[1]
    else:
        assert values[0] > values[1] > values[2]


def test_modified_entropy_stays_finite_when_a_wrong_class_takes_all_mass() -> None:
    logits = np.array([[0.0, 800.0, 0.0]])
    assert np.isfinite(membership_signal(logits, np.array([0]), "modified_entropy")).all()


def test_logit_scaled_features_are_phi_then_one_hot_label() -> None:
    features = logit_scaled_features(MODERATE, LABELS)
    assert features.shape == (3, 4)
    np.testing.assert_allclose(features[:, 0], logit_scaled_confidence(MODERATE, LABELS))
    np.testing.assert_array_equal(features[:, 1:], np.eye(3)[LABELS])


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (MODERATE, np.array([0, 3, 1]), "labels range"),
        (MODERATE, np.array([0.0, 1.0, 2.0]), "integer"),
        (np.array([[np.nan, 1.0]]), np.array([0]), "non-finite"),
        (np.ones(3), np.array([0]), "shape"),
    ],
)
def test_bad_input_is_refused(logits: np.ndarray, labels: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        membership_signal(logits, labels, "loss")
