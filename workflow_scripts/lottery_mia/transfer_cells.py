"""Intervals of the transfer matrix: each (source, target) pair's, and each Figure 4 cell's.

A pair is one source model's attack scored on one target model's evaluation rows; it gets every
metric with its 95% stratified-bootstrap interval, drawn exactly as the attack job draws the
ordinary attack's (same rows in the same order, same resamples and seed), so the diagonal pair
of a model carries the interval of that model's ``{attack}.json``.

A cell of Figure 4 is a (source kind, target kind), a kind being (arch, method, sparsity); it
averages seed pairs:

- on the diagonal (same kind), matching seeds only: S pairs, each the ordinary attack on one
  seed's model (seed 0's attack applied to seed 1's model of the same kind is a transfer);
- off the diagonal, every pair: S_source x S_target.

A cell's interval is ``stats.over_seeds.SeedMean``'s: t * sqrt(training + rows) with
Welch-Satterthwaite degrees of freedom.

- rows: the variance over bootstrap resamples b of the mean over the cell's pairs of their metric
  on resample b. Every target is scored on the same evaluation rows (``check_same_samples``) and
  every pair resampled with the same seeded index matrix, so the draws are aligned as
  ``stats.over_seeds.seed_mean_from_draws`` requires. They are accumulated as running sums, so a cell
  holds two numbers per resample and metric whatever its number of pairs.
- training, diagonal: the seeds' models are independent, so s^2 / S as in
  ``stats.over_seeds.seed_mean_from_draws``.
- training, off the diagonal: the S_source x S_target pairs are not independent, since pairs
  sharing a source share its training noise (and likewise a target). Treating them as S^2
  independent seeds would understate the source and target terms by a factor up to S. Instead,
  as in a two-way crossed design, var(source-seed means) / S_source + var(target-seed means) /
  S_target: unbiased for the source and target terms and counting the interaction twice
  (conservative), with min(S_source, S_target) - 1 degrees of freedom for this part.
- a cell of one pair keeps the pair's own percentile-bootstrap interval, as one seed does
  elsewhere; a metric undefined on the rows (NaN) has no interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lottery_mia.stats.metrics import METRIC_NAMES, EvaluationRows
from lottery_mia.stats.over_seeds import SeedMean
from lottery_mia.stats.resampling import MetricReport, metrics_and_draws
from lottery_mia.summary import METRIC_AND_INTERVAL_COLUMNS

#: The level of every interval, as in the attack records.
CONFIDENCE = 0.95
KIND_FIELDS: tuple[str, ...] = ("arch", "method", "sparsity")
#: Columns of the cells table (``{attack}_n{n}.cells.parquet``), one row per kind pair.
CELL_COLUMNS: tuple[str, ...] = (
    *(f"source_{field}" for field in KIND_FIELDS),
    *(f"target_{field}" for field in KIND_FIELDS),
    "attack",
    "n_samples",
    "n_pairs",
    "n_source_seeds",
    "n_target_seeds",
    *METRIC_AND_INTERVAL_COLUMNS,
    "n_bootstrap",
    "bootstrap_seed",
)

Kind = tuple[str, str, float]


@dataclass(frozen=True)
class PairMetrics:
    """One pair's metrics with their intervals, and the bootstrap draws the intervals come from."""

    report: MetricReport
    draws: Mapping[str, np.ndarray]


def pair_metrics(rows: EvaluationRows, n_resamples: int, seed: int) -> PairMetrics:
    """``stats.resampling.metrics_with_intervals`` of ``rows``, keeping the draws for the cells."""
    return PairMetrics(*metrics_and_draws(rows, n_resamples, seed, CONFIDENCE))


def in_cell(source: Kind, source_seed: int, target: Kind, target_seed: int) -> bool:
    """Whether a pair counts in its Figure 4 cell: off the diagonal always, on it (same kind)
    only when the seeds match, the pair then being the ordinary attack."""
    return source != target or source_seed == target_seed


class CellPairs:
    """The pairs of one cell, added as they are scored: each pair's seeds and report, and per
    metric the running sum and count of the draws on each resample (pairs whose estimate is NaN
    left out, as ``stats.over_seeds`` leaves out such seeds; NaN draws skipped)."""

    def __init__(self, n_resamples: int) -> None:
        self.n_resamples = n_resamples
        self.pairs: list[tuple[int, int, MetricReport]] = []
        self._sums = {name: np.zeros(n_resamples) for name in METRIC_NAMES}
        self._counts = {name: np.zeros(n_resamples, dtype=np.int64) for name in METRIC_NAMES}

    def add(self, source_seed: int, target_seed: int, pair: PairMetrics) -> None:
        self.pairs.append((source_seed, target_seed, pair.report))
        for name in METRIC_NAMES:
            if np.isnan(pair.report.estimate[name]):
                continue
            draws = pair.draws[name]
            defined = ~np.isnan(draws)
            self._sums[name] += np.where(defined, draws, 0.0)
            self._counts[name] += defined

    def row_variance(self, name: str) -> float:
        """Variance over resamples of the mean over pairs: the rows' share of the cell mean's
        variance (``stats.over_seeds.seed_mean_from_draws``, from running sums)."""
        counts = self._counts[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, self._sums[name] / np.maximum(counts, 1), np.nan)
        return float(np.nanvar(means, ddof=1)) if np.isfinite(means).sum() > 1 else np.nan

    def mean_and_interval(self, name: str, diagonal: bool) -> tuple[float, float, float]:
        """Mean of metric ``name`` over the pairs and its 95% interval (see the module's note)."""
        defined = [
            (source, target, report.estimate[name], report)
            for source, target, report in self.pairs
            if not np.isnan(report.estimate[name])
        ]
        if not defined:
            return np.nan, np.nan, np.nan
        if len(defined) == 1:
            report = defined[0][3]
            return report.estimate[name], report.ci_low[name], report.ci_high[name]
        values = pd.DataFrame([row[:3] for row in defined], columns=["source", "target", "value"])
        training, n_seeds = (independent_seeds if diagonal else crossed_seeds)(values)
        seed_mean = SeedMean(
            float(values["value"].mean()), training, self.row_variance(name), n_seeds
        )
        return (seed_mean.mean, *seed_mean.interval(CONFIDENCE))


def independent_seeds(values: pd.DataFrame) -> tuple[float, int]:
    """Training variance of the mean of independent seeds' ``value``: s^2 / S, and S."""
    return float(values["value"].var(ddof=1) / len(values)), len(values)


def crossed_seeds(values: pd.DataFrame) -> tuple[float, int]:
    """Training variance of the mean of a source seed x target seed table of ``value``, and the
    seed count behind its degrees of freedom: var(source means) / S_source + var(target means)
    / S_target over the sides with several seeds; the smaller such S."""
    variance, sizes = 0.0, []
    for side in ("source", "target"):
        means = values.groupby(side)["value"].mean()
        if means.size > 1:
            variance += float(means.var(ddof=1) / means.size)
            sizes.append(means.size)
    return variance, min(sizes)


def cell_record(
    source: Kind, target: Kind, attack: str, n_samples: int, cell: CellPairs, bootstrap_seed: int
) -> dict[str, object]:
    """One row of the cells table: the kinds, the pair and seed counts, every metric's mean over
    the pairs with its interval."""
    record: dict[str, object] = {
        **{f"source_{field}": value for field, value in zip(KIND_FIELDS, source, strict=True)},
        **{f"target_{field}": value for field, value in zip(KIND_FIELDS, target, strict=True)},
        "attack": attack,
        "n_samples": int(n_samples),
        "n_pairs": len(cell.pairs),
        "n_source_seeds": len({source_seed for source_seed, _, _ in cell.pairs}),
        "n_target_seeds": len({target_seed for _, target_seed, _ in cell.pairs}),
    }
    for name in METRIC_NAMES:
        mean, low, high = cell.mean_and_interval(name, diagonal=source == target)
        record.update({name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
    record.update(n_bootstrap=cell.n_resamples, bootstrap_seed=bootstrap_seed)
    return record
