"""Metric definitions (stats.metrics.point_metrics): hand-computed ROC quantities and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lottery_mia.stats.metrics import METRIC_NAMES, EvaluationRows, point_metrics

# Ranked by score: M 0.9, M 0.8, N 0.7, M 0.4, N 0.3, N 0.2.
# ROC points (FPR, TPR): (0,0) (0,1/3) (0,2/3) (1/3,2/3) (1/3,1) (2/3,1) (1,1).
TINY_MEMBER = np.array([True, True, True, False, False, False])
TINY_SCORE = np.array([0.9, 0.8, 0.4, 0.7, 0.3, 0.2])


def metrics(member, score, predicted):
    return point_metrics(EvaluationRows(member, score, predicted))


def test_keys_are_exactly_the_contract() -> None:
    values = metrics(TINY_MEMBER, TINY_SCORE, TINY_SCORE > 0.5)
    assert list(values) == list(METRIC_NAMES)
    assert set(values) == {
        "accuracy",
        "precision",
        "recall",
        "auc",
        "tpr_at_1pct_fpr",
        "tpr_at_0.1pct_fpr",
        "advantage",
        "advantage_oracle",
    }
    assert all(isinstance(value, float) for value in values.values())


def test_hand_computed_tiny_example() -> None:
    predicted = TINY_SCORE > 0.5  # members 0.9, 0.8 and non-member 0.7
    values = metrics(TINY_MEMBER, TINY_SCORE, predicted)
    assert values["accuracy"] == pytest.approx(4 / 6)
    assert values["precision"] == pytest.approx(2 / 3)
    assert values["recall"] == pytest.approx(2 / 3)
    assert values["auc"] == pytest.approx(8 / 9)  # 8 of 9 member/non-member pairs ranked right
    assert values["advantage"] == pytest.approx(2 / 3 - 1 / 3)  # TPR - FPR of the decision
    assert values["advantage_oracle"] == pytest.approx(2 / 3)  # best threshold, at (0, 2/3)
    # Three non-members resolve FPR steps of 1/3 only: 1% and 0.1% are not measurable.
    assert math.isnan(values["tpr_at_1pct_fpr"]) and math.isnan(values["tpr_at_0.1pct_fpr"])


def test_low_fpr_bound_is_strict() -> None:
    # 200 non-members; one of them outranks every member: FPR 1/200 < 1%, every member found.
    member = np.array([True] * 5 + [False] * 200)
    score = np.array([9.0, 8.0, 7.0, 6.0, 5.0, 10.0] + [0.0] * 199)
    assert metrics(member, score, score > 4)["tpr_at_1pct_fpr"] == 1.0
    # Two outrank every member: FPR 2/200 is exactly 1%, not below it (Carlini et al.'s fpr < b).
    score[6] = 11.0
    assert metrics(member, score, score > 4)["tpr_at_1pct_fpr"] == 0.0
    assert math.isnan(metrics(member, score, score > 4)["tpr_at_0.1pct_fpr"])  # 1/200 > 0.1%


def test_tpr_at_fpr_keeps_collinear_roc_points() -> None:
    # 200 tied member/non-member pairs: the ROC points (k/200, k/200) are collinear, and
    # scikit-learn's default drop_intermediate would discard the one at FPR 0.5%.
    member = np.tile([True, False], 200)
    score = np.repeat(np.arange(200.0), 2)
    values = metrics(member, score, score > 10)
    assert values["tpr_at_1pct_fpr"] == pytest.approx(0.005)
    assert values["advantage_oracle"] == pytest.approx(0.0)


def test_advantage_oracle_matches_brute_force_over_thresholds() -> None:
    rng = np.random.default_rng(4)
    member = rng.random(200) < 0.5
    score = np.round(rng.normal(size=200) + member, 1)  # rounding creates ties
    best = max((score[member] >= t).mean() - (score[~member] >= t).mean() for t in np.unique(score))
    assert metrics(member, score, score > 0)["advantage_oracle"] == pytest.approx(best)


def test_precision_is_nan_when_nothing_is_predicted_member() -> None:
    values = metrics(TINY_MEMBER, TINY_SCORE, np.zeros(6, dtype=bool))
    assert math.isnan(values["precision"])
    assert values["recall"] == 0.0
    assert values["accuracy"] == pytest.approx(0.5)


def test_accepts_zero_one_labels() -> None:
    as_bool = metrics(TINY_MEMBER, TINY_SCORE, TINY_SCORE > 0.5)
    as_int = metrics(TINY_MEMBER.astype(int), TINY_SCORE, (TINY_SCORE > 0.5).astype(int))
    assert as_int == pytest.approx(as_bool, nan_ok=True)


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
        EvaluationRows(member, score, predicted)
