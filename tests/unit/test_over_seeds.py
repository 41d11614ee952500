"""The interval of a metric averaged over seeds covers row noise and training noise together."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lottery_mia.stats.over_seeds import seed_mean_from_draws, seed_mean_from_intervals
from lottery_mia.stats.resampling import stratified_bootstrap_indices

N_PER_CLASS, N_SEEDS, N_RESAMPLES, N_SIMULATIONS = 100, 3, 300, 300
NOISE_WITHIN_SEED = 0.3  # row x seed noise: how much two seeds' scores of one row differ


def _aucs(scores: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC of each row of ``scores`` (independent of the code under test)."""
    ranks = stats.rankdata(scores, axis=-1)
    n_in = int(member.sum())
    n_out = member.size - n_in
    return (ranks[..., member].sum(axis=-1) - n_in * (n_in + 1) / 2) / (n_in * n_out)


def _true_mean_auc(shift: float, training_sd: float) -> float:
    """E over training seeds of the population AUC: scores are N(shift_s, 1 + noise²) for members
    and N(0, 1 + noise²) for non-members, shift_s ~ N(shift, training_sd²)."""
    shifts = shift + training_sd * np.random.default_rng(99).standard_normal(400_000)
    return float(stats.norm.cdf(shifts / np.sqrt(2 * (1 + NOISE_WITHIN_SEED**2))).mean())


def _simulated_study(rng: np.random.Generator, shift: float, training_sd: float):
    """One study: fresh evaluation rows shared by every seed, one model (shift) per seed."""
    member = np.repeat([True, False], N_PER_CLASS)
    row_effect = rng.standard_normal(member.size)  # the rows' own difficulty: shared by seeds
    seed_shift = shift + training_sd * rng.standard_normal(N_SEEDS)
    noise = NOISE_WITHIN_SEED * rng.standard_normal((N_SEEDS, member.size))
    scores = row_effect + noise + np.outer(seed_shift, member)
    indices = stratified_bootstrap_indices(member, N_RESAMPLES, seed=int(rng.integers(1 << 30)))
    estimates = _aucs(scores, member)
    draws = np.stack([_aucs(seed_scores[indices], member) for seed_scores in scores])
    return estimates, draws


def _coverage(shift: float, training_sd: float) -> tuple[float, float, float]:
    """Coverage of the true mean AUC by: the seeds-and-rows interval from aligned draws, the same
    from the seeds' own 95% intervals, and the plain t-interval over seeds."""
    truth = _true_mean_auc(shift, training_sd)
    rng = np.random.default_rng(2024)
    hits = np.zeros(3)
    for _ in range(N_SIMULATIONS):
        estimates, draws = _simulated_study(rng, shift, training_sd)
        low_ci, high_ci = np.percentile(draws, [2.5, 97.5], axis=1)
        intervals = [
            seed_mean_from_draws(estimates, draws).interval(0.95),
            seed_mean_from_intervals(estimates, low_ci, high_ci).interval(0.95),
            stats.t.interval(0.95, N_SEEDS - 1, estimates.mean(), stats.sem(estimates)),
        ]
        hits += [low <= truth <= high for low, high in intervals]
    return tuple(hits / N_SIMULATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("training_sd", [0.01, 0.25], ids=["rows-dominate", "training-dominates"])
def test_interval_over_seeds_covers_both_sources_of_noise(training_sd):
    from_draws, from_intervals, t_over_seeds = _coverage(shift=0.6, training_sd=training_sd)
    assert 0.91 <= from_draws <= 0.99
    assert 0.91 <= from_intervals <= 1.0
    if training_sd < 0.05:  # the seeds agree given the rows: the t-interval forgets the rows
        assert t_over_seeds < 0.6


def test_two_agreeing_seeds_rest_on_the_rows_not_on_one_degree_of_freedom():
    """Two near-equal seeds: the t-interval over seeds alone is about as wide as their gap, the
    seeds-and-rows interval about as wide as one seed's bootstrap interval (here +-0.05)."""
    estimates = [0.50, 0.52]
    seed_mean = seed_mean_from_intervals(estimates, [0.45, 0.47], [0.55, 0.57])
    low, high = seed_mean.interval(0.95)
    assert seed_mean.degrees_of_freedom > 1
    assert high - low == pytest.approx(2 * np.sqrt(0.01**2 / 2 + (0.1 / 3.92) ** 2) * 2.0, rel=0.1)
    assert low < 0.50 - 0.03 and high > 0.52 + 0.03  # at least one seed's row noise


def test_one_seed_gives_no_interval_here_and_nan_estimates_are_left_out():
    assert np.isnan(seed_mean_from_intervals([0.6], [0.5], [0.7]).interval()).all()
    seed_mean = seed_mean_from_draws([0.6, np.nan, 0.7], np.full((3, 10), 0.65))
    assert seed_mean.n_seeds == 2 and seed_mean.mean == pytest.approx(0.65)


def test_p_values_follow_the_interval():
    """The 95% interval excludes 0 exactly when the two-sided p is below 0.05; the 90% interval
    lies inside +-margin exactly when the TOST p is below 0.05."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        estimates = rng.normal(rng.normal(0, 0.02), 0.01, size=3)
        draws = estimates[:, None] + rng.normal(0, 0.01, size=(1, 400))
        seed_mean = seed_mean_from_draws(estimates, draws)
        low95, high95 = seed_mean.interval(0.95)
        low90, high90 = seed_mean.interval(0.90)
        p_zero, p_equivalence = seed_mean.p_values(0.02)
        assert (p_zero < 0.05) == (low95 > 0 or high95 < 0)
        assert (p_equivalence < 0.05) == (low90 > -0.02 and high90 < 0.02)
