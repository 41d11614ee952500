"""Membership metrics: agreement with scikit-learn and hand-computed ROC quantities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

from lottery_mia.metrics import METRIC_NAMES, membership_metrics, tpr_at_fpr

# Ranked by score: M 0.9, M 0.8, N 0.7, M 0.4, N 0.3, N 0.2.
# ROC points (FPR, TPR): (0,0) (0,1/3) (0,2/3) (1/3,2/3) (1/3,1) (2/3,1) (1,1).
TINY_MEMBER = np.array([True, True, True, False, False, False])
TINY_SCORE = np.array([0.9, 0.8, 0.4, 0.7, 0.3, 0.2])


def test_keys_are_exactly_the_contract() -> None:
    metrics = membership_metrics(TINY_MEMBER, TINY_SCORE, TINY_SCORE > 0.5)
    assert list(metrics) == list(METRIC_NAMES)
    assert set(metrics) == {
        "accuracy",
        "precision",
        "recall",
        "auc",
        "tpr_at_1pct_fpr",
        "tpr_at_0.1pct_fpr",
        "advantage",
        "n_eval",
    }
    assert all(isinstance(value, float) for value in metrics.values())


def test_hand_computed_tiny_example() -> None:
    predicted = TINY_SCORE > 0.5  # members 0.9, 0.8 and non-member 0.7
    metrics = membership_metrics(TINY_MEMBER, TINY_SCORE, predicted)
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["auc"] == pytest.approx(8 / 9)  # 8 of 9 member/non-member pairs ranked right
    assert metrics["tpr_at_1pct_fpr"] == pytest.approx(2 / 3)
    assert metrics["tpr_at_0.1pct_fpr"] == pytest.approx(2 / 3)
    assert metrics["advantage"] == pytest.approx(2 / 3)
    assert metrics["n_eval"] == 6.0


@pytest.mark.parametrize(
    ("max_fpr", "expected"),
    [(0.0, 2 / 3), (0.2, 2 / 3), (1 / 3, 1.0), (1.0, 1.0)],
)
def test_tpr_at_fpr_takes_largest_tpr_with_fpr_at_most_bound(
    max_fpr: float, expected: float
) -> None:
    assert tpr_at_fpr(TINY_MEMBER, TINY_SCORE, max_fpr) == pytest.approx(expected)


def test_low_fpr_bound_is_inclusive() -> None:
    # One non-member outranks all 5 members: FPR is exactly 1/100 when every member is found.
    member = np.array([True] * 5 + [False] * 100)
    score = np.array([9.0, 8.0, 7.0, 6.0, 5.0, 10.0] + [0.0] * 99)
    metrics = membership_metrics(member, score, score > 4)
    assert metrics["tpr_at_1pct_fpr"] == 1.0
    assert metrics["tpr_at_0.1pct_fpr"] == 0.0
    assert tpr_at_fpr(member, score, 0.0099) == 0.0


def test_tpr_at_fpr_keeps_collinear_roc_points() -> None:
    # Three tied member/non-member pairs: ROC points (0,0) (1/3,1/3) (2/3,2/3) (1,1) are collinear,
    # and scikit-learn's default drop_intermediate would discard the point at FPR 2/3.
    member = np.array([True, False, True, False, True, False])
    score = np.array([0.9, 0.9, 0.5, 0.5, 0.1, 0.1])
    assert tpr_at_fpr(member, score, 0.7) == pytest.approx(2 / 3)
    assert membership_metrics(member, score, score > 0.3)["advantage"] == pytest.approx(0.0)


def test_agrees_with_sklearn_on_random_scores() -> None:
    rng = np.random.default_rng(3)
    member = rng.random(500) < 0.5
    score = rng.normal(size=500) + 0.8 * member
    predicted = score > 0.3
    metrics = membership_metrics(member, score, predicted)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(member, predicted))
    assert metrics["precision"] == pytest.approx(precision_score(member, predicted))
    assert metrics["recall"] == pytest.approx(recall_score(member, predicted))
    assert metrics["auc"] == pytest.approx(roc_auc_score(member, score))
    assert 0.6 < metrics["auc"] < 0.9


def test_advantage_matches_brute_force_over_thresholds() -> None:
    rng = np.random.default_rng(4)
    member = rng.random(200) < 0.5
    score = np.round(rng.normal(size=200) + member, 1)  # rounding creates ties
    best = max((score[member] >= t).mean() - (score[~member] >= t).mean() for t in np.unique(score))
    assert membership_metrics(member, score, score > 0)["advantage"] == pytest.approx(best)


def test_reversed_score_has_auc_below_half() -> None:
    forward = membership_metrics(TINY_MEMBER, TINY_SCORE, TINY_SCORE > 0.5)
    reversed_ = membership_metrics(TINY_MEMBER, -TINY_SCORE, TINY_SCORE > 0.5)
    assert reversed_["auc"] < 0.5
    assert reversed_["auc"] == pytest.approx(1 - forward["auc"])


def test_precision_is_zero_when_nothing_is_predicted_member() -> None:
    metrics = membership_metrics(TINY_MEMBER, TINY_SCORE, np.zeros(6, dtype=bool))
    assert metrics["precision"] == 0.0
    assert metrics["recall"] == 0.0
    assert metrics["accuracy"] == pytest.approx(0.5)


def test_accepts_zero_one_labels() -> None:
    as_bool = membership_metrics(TINY_MEMBER, TINY_SCORE, TINY_SCORE > 0.5)
    as_int = membership_metrics(TINY_MEMBER.astype(int), TINY_SCORE, (TINY_SCORE > 0.5).astype(int))
    assert as_int == as_bool


@pytest.mark.parametrize(
    ("member", "score", "predicted", "message"),
    [
        (TINY_MEMBER, TINY_SCORE[:5], TINY_SCORE > 0.5, "score has shape"),
        (TINY_MEMBER, TINY_SCORE, (TINY_SCORE > 0.5)[:4], "predicted has shape"),
        (np.ones(6, dtype=bool), TINY_SCORE, TINY_SCORE > 0.5, "6 members and 0 non-members"),
        (np.array([0, 1, 2, 0, 1, 0]), TINY_SCORE, TINY_SCORE > 0.5, "boolean"),
        (TINY_MEMBER, np.array([0.9, np.nan, 0.4, 0.7, 0.3, 0.2]), TINY_SCORE > 0.5, "non-finite"),
    ],
)
def test_rejects_bad_inputs(
    member: np.ndarray, score: np.ndarray, predicted: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        membership_metrics(member, score, predicted)


def test_tpr_at_fpr_rejects_rate_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="max_fpr"):
        tpr_at_fpr(TINY_MEMBER, TINY_SCORE, 1.5)
