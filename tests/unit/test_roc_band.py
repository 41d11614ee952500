"""The ROC figure's pointwise band (``stats.roc_band``): its curve is the ROC step function, it
narrows as rows grow, and it covers the true TPR of a known score model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from lottery_mia.stats.metrics import roc_points
from lottery_mia.stats.roc_band import false_positive_budgets, roc_band, tpr_within_budgets

pytestmark = pytest.mark.unit


def binormal(rng, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    return member, np.r_[rng.normal(shift, 1, n), rng.normal(0, 1, n)]


def test_the_band_curve_is_the_roc_step_function_at_each_budget():
    member, score = binormal(np.random.default_rng(0), 300, 0.5)
    band = roc_band(member, score, n_resamples=100, seed=0)
    curve = roc_points(member, score)
    step = [curve.tpr[np.searchsorted(curve.fpr, f, side="right") - 1] for f in band.fpr]
    assert band.tpr == pytest.approx(step)
    assert band.fpr[0] == pytest.approx(1 / 300) and band.fpr[-1] == 1.0
    assert np.all(band.low <= band.high)


def width_near(band, fpr: float) -> float:
    """The band's width at the largest budget not above ``fpr``."""
    at = int(np.searchsorted(band.fpr, fpr, side="right") - 1)
    return float(band.high[at] - band.low[at])


def test_the_band_narrows_as_the_rows_grow():
    rng = np.random.default_rng(1)
    small, large = (roc_band(*binormal(rng, n, 0.5), 200, 0) for n in (200, 2000))
    for fpr in (0.05, 0.2, 0.5):
        assert width_near(large, fpr) < width_near(small, fpr) / 2


def test_the_band_covers_the_true_tpr_of_a_binormal_attack():
    """Members N(d, 1), non-members N(0, 1): TPR at FPR f is 1 - Phi(Phi^-1(1 - f) - d)."""
    rng, shift, n = np.random.default_rng(2), 0.8, 500
    held = []
    for replicate in range(100):
        band = roc_band(*binormal(rng, n, shift), n_resamples=200, seed=replicate)
        at = int(np.searchsorted(band.fpr, 0.1, side="right") - 1)
        truth = 1 - norm.cdf(norm.ppf(1 - band.fpr[at]) - shift)
        held.append(band.low[at] <= truth <= band.high[at])
    assert np.mean(held) >= 0.85


def test_ties_count_no_member_above_a_tied_threshold():
    members, non_members = np.zeros((1, 4)), np.zeros((1, 5))
    budgets = false_positive_budgets(5)
    tpr = tpr_within_budgets(members, non_members, budgets)[0]
    assert tpr[:-1] == pytest.approx(0.0) and tpr[-1] == 1.0  # every non-member allowed: all in
