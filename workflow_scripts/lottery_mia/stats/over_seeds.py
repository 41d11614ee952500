"""A metric averaged over training seeds, with an interval that counts both sources of noise.

Every seed's model is scored on the same evaluation rows (``outputs.selection_seed``). The spread
of the seeds' estimates therefore measures training randomness *given those rows*; the choice of
rows moves every seed's estimate together and never shows in that spread. A t-interval over seeds
alone can come out narrower than one seed's bootstrap interval.

The interval here adds the two variances of the seed mean (a variance-components interval):

- training: ``s² / S``, the sample variance of the S seeds' estimates over S;
- rows: the variance of the seed mean under the stratified bootstrap of the shared rows. With
  the seeds' bootstrap draws on one shared index matrix (``row_draws``, shape (S, B): the same
  resample b for every seed) it is the variance over b of the mean over seeds. Without the draws
  (a summary table holds only each seed's interval) it is the square of the mean of the seeds'
  bootstrap standard errors, read off their 95% intervals: exact when the seeds' row errors are
  perfectly correlated and an upper bound otherwise.

The half-width is ``t(df) * sqrt(training + rows)`` with Welch-Satterthwaite degrees of freedom,
the row part counting as known (infinite df): with two seeds of near-equal estimates the interval
rests on the rows (about one seed's bootstrap width), not on a t quantile with df = 1. One seed
keeps its own percentile-bootstrap interval (``stats.resampling``), which needs no normal shape.

``seed_means_by_group`` applies this to a summary table, group by group (every figure's error bars
and Table 1's sides); ``t_interval_over_seeds`` is the interval for values that carry no row
interval (a test accuracy recorded before its Wilson interval was), where only training noise is
counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: z of a central 95% interval: a 95% percentile interval spans about 2 * 1.96 standard errors.
_Z95 = float(stats.norm.ppf(0.975))
#: What an interval is (``seed_means_by_group``'s ``interval`` column), in the order a note names them.
ROW_BOOTSTRAP, SEEDS_AND_ROWS, SEEDS_ONLY, NO_INTERVAL = (
    "rows",
    "seeds and rows",
    "seeds",
    "none",
)
INTERVAL_KINDS = (ROW_BOOTSTRAP, SEEDS_AND_ROWS, SEEDS_ONLY, NO_INTERVAL)


@dataclass(frozen=True)
class SeedMean:
    """Mean over seeds, its standard error from both sources, and the pieces behind it."""

    mean: float
    training_variance: float  # s^2 / S
    row_variance: float  # variance of the seed mean over bootstrap resamples of the rows
    n_seeds: int

    @property
    def standard_error(self) -> float:
        return float(np.sqrt(self.training_variance + self.row_variance))

    @property
    def degrees_of_freedom(self) -> float:
        """Welch-Satterthwaite df; infinite when the seeds do not spread (rows only)."""
        total = self.training_variance + self.row_variance
        if not self.training_variance > 0:
            return float("inf")
        return float(total**2 / (self.training_variance**2 / (self.n_seeds - 1)))

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence is {confidence}, expected a level in (0, 1)")
        if np.isnan(self.standard_error) or self.n_seeds < 2:
            return float("nan"), float("nan")
        half_width = (
            stats.t.ppf(0.5 + confidence / 2, self.degrees_of_freedom) * self.standard_error
        )
        return float(self.mean - half_width), float(self.mean + half_width)

    def p_values(self, margin: float) -> tuple[float, float]:
        """(two-sided p of "the mean is 0", TOST p of "|mean| >= margin"), from the same t."""
        error, degrees = self.standard_error, self.degrees_of_freedom
        if self.n_seeds < 2 or not error > 0:
            return float("nan"), float("nan")
        p_zero = float(2 * stats.t.sf(abs(self.mean) / error, degrees))
        p_below = stats.t.sf((self.mean + margin) / error, degrees)  # H0: mean <= -margin
        p_above = stats.t.cdf((self.mean - margin) / error, degrees)  # H0: mean >= +margin
        return p_zero, float(max(p_below, p_above))


def seed_mean_from_draws(estimates: Sequence[float], row_draws: np.ndarray) -> SeedMean:
    """``SeedMean`` of the seeds' ``estimates``, the rows' share from their aligned bootstrap draws
    (``row_draws[s, b]``: seed s on resample b, every seed resampled with the same indices).
    Seeds whose estimate is NaN are left out; NaN draws (an undefined resample) are skipped."""
    values = np.asarray(estimates, dtype=np.float64)
    draws = np.asarray(row_draws, dtype=np.float64)
    if draws.ndim != 2 or draws.shape[0] != values.size:
        raise ValueError(
            f"row_draws has shape {draws.shape}, expected ({values.size}, resamples): one row of "
            "bootstrap draws per seed"
        )
    defined = ~np.isnan(values)
    seed_means = _nan_mean(draws[defined], axis=0)
    row_variance = float(np.nanvar(seed_means, ddof=1)) if np.isfinite(seed_means).any() else np.nan
    return _seed_mean(values[defined], row_variance)


def seed_mean_from_intervals(
    estimates: Sequence[float], ci_low: Sequence[float], ci_high: Sequence[float]
) -> SeedMean:
    """``SeedMean`` when only each seed's 95% bootstrap interval is known: the rows' standard
    error is the mean of the seeds' interval widths over 2 * 1.96 (see the module's note)."""
    values = np.asarray(estimates, dtype=np.float64)
    widths = np.asarray(ci_high, dtype=np.float64) - np.asarray(ci_low, dtype=np.float64)
    defined = ~np.isnan(values)
    row_errors = widths[defined] / (2 * _Z95)
    row_variance = float(np.mean(row_errors) ** 2) if row_errors.size else float("nan")
    return _seed_mean(values[defined], row_variance)


def _seed_mean(values: np.ndarray, row_variance: float) -> SeedMean:
    if values.size == 0:
        return SeedMean(float("nan"), float("nan"), float("nan"), 0)
    training = float(np.var(values, ddof=1) / values.size) if values.size > 1 else float("nan")
    return SeedMean(float(values.mean()), training, row_variance, int(values.size))


def _nan_mean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean ignoring NaN, NaN (without a warning) where every value is NaN."""
    counts = (~np.isnan(values)).sum(axis=axis)
    totals = np.nansum(values, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def t_interval_over_seeds(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of one value over seeds with a Student-t interval of that mean: training randomness
    only, for values without a row interval (``SeedMean`` covers the rows too).

    NaN values (a metric undefined for that seed) are left out, never counted as 0. With fewer
    than two defined values there is no spread to estimate: the interval is (NaN, NaN).
    """
    defined = np.asarray(values, dtype=np.float64)
    defined = defined[~np.isnan(defined)]
    if defined.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(defined.mean())
    if defined.size < 2:
        return mean, float("nan"), float("nan")
    half_width = stats.t.ppf(0.5 + confidence / 2, df=defined.size - 1) * stats.sem(defined)
    return mean, float(mean - half_width), float(mean + half_width)


def seed_means_by_group(rows: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Per group: mean of ``value``, its 95% interval (``low``, ``high``), the seed count and
    which interval it is (``interval``, one of ``INTERVAL_KINDS``).

    One seed: the row's own bootstrap interval over evaluation rows (``{value}_ci_low`` /
    ``_ci_high``), or none (NaN) for values without one. Several seeds with those columns: the
    interval over seeds *and* rows (``seed_mean_from_intervals``): every seed is scored
    on the same rows, so the seeds' spread alone would forget them (the test accuracy's Wilson
    interval over the test pool counts as such a row interval). Several seeds of a value without
    a row interval: a t-interval over seeds.
    NaN values are left out, never counted as 0.
    """
    with_rows = f"{value}_ci_low" in rows.columns
    records = []
    for key, group in rows.groupby(by, observed=True, sort=True):
        defined = group[group[value].notna()]
        records.append((*key, *_seed_interval(defined, value, with_rows), len(defined)))
    return pd.DataFrame.from_records(
        records, columns=[*by, "mean", "low", "high", "interval", "seeds"]
    )


def _seed_interval(defined: pd.DataFrame, value: str, with_rows: bool) -> tuple[Any, ...]:
    values = defined[value].to_numpy(dtype=float)
    if len(defined) == 1 and with_rows:
        low, high = defined[f"{value}_ci_low"].iloc[0], defined[f"{value}_ci_high"].iloc[0]
        return float(values[0]), float(low), float(high), ROW_BOOTSTRAP
    if len(defined) > 1 and with_rows:
        seed_mean = seed_mean_from_intervals(
            values, defined[f"{value}_ci_low"], defined[f"{value}_ci_high"]
        )
        return seed_mean.mean, *seed_mean.interval(0.95), SEEDS_AND_ROWS
    mean, low, high = t_interval_over_seeds(values)
    return mean, low, high, (SEEDS_ONLY if len(defined) > 1 else NO_INTERVAL)
