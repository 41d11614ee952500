"""What a config can conclude, predicted from a pilot run: Table 1's interval widths and power.

The pilot itself (its rows, and the check that it comes from this config) is ``power_pilot``'s.

For each Table 1 row (attack, dataset, arch, n) the pilot gives the 90% interval half-width h_p of
the AUC difference ticket - dense on r_p paired evaluation rows and S_p seeds. Two sources of
noise make it (``stats.over_seeds``):

- rows: the paired bootstrap's variance of the difference, ``V_row``, which scales as 1 / rows
  (each row is one independent draw of the evaluation set). One seed's interval is the
  percentile bootstrap, about ``z_0.95 * sqrt(V_row)``: so ``V_row = (h_p / z_0.95)^2`` and at r
  rows ``h = h_p * sqrt(r_p / r)``. The rows are those each model is scored on (``scored_rows``):
  the ``attack.eval_size`` evaluation rows, or for LiRA and RMIA every exported row outside the
  largest sample count's attack-training rows, whatever ``eval_size`` (their paired rows are a
  fixed share of them: rows both models were scored on).
- seeds: the spread s^2 of the seeds' differences (from the pilot's summary), which the seed mean
  divides by S. With S >= 2 seeds Table 1's interval is ``t_0.95(df) * sqrt(s^2 / S + V_row)``,
  df from Welch-Satterthwaite (``stats.over_seeds.SeedMean``). A pilot of several seeds gives s^2,
  and its V_row is what is left of its own interval (solved from the same formula). A pilot of
  one seed cannot say how the seeds spread: a seed count above one is then not predicted.

Equivalence with 80% power at a true difference of 0. Table 1 says ``equivalent`` when the 90%
interval lies within +-m (TOST, 5% each side): |D| + q_0.95 * SE <= m, for an estimate D ~ SE * T
with T normal (one seed) or t(df) (seeds). At true difference 0 this happens with probability
P(|T| <= m / SE - q_0.95) = 2 F(m / SE - q_0.95) - 1, which is >= 0.80 when
m / SE - q_0.95 >= q_0.90, that is when

    SE <= m / (q_0.95 + q_0.90)        (normal: m / 2.926; the t quantiles for seeds)

(treating SE as known; with few seeds its estimate is itself noisy, so the power is a little
lower). The smallest ``eval_size`` at the config's seeds and the smallest seed count at the
config's ``eval_size`` that meet it are reported; ``eval_size`` is bounded by the pool: the
exported rows per pool must leave room for the largest sample count
(``selection.max_sample_count``); LiRA's and RMIA's rows do not change with it, only with the
pool and the largest sample count. Row noise is shared by every seed (all are scored on the same
rows), so seeds never bring V_row down: when the largest allowed ``eval_size`` leaves SE above the
bound, no seed count helps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from lottery_mia.attack.registry import SCORE_REFERENCE_ATTACKS
from lottery_mia.config import sample_counts
from lottery_mia.plan_disk import scored_rows
from lottery_mia.power_pilot import Pilot, PilotRow, check_pilot_matches, planned_rows, ticket_of
from lottery_mia.resources import DATASETS
from lottery_mia.selection import samples_per_pool
from lottery_mia.stats.over_seeds import SeedMean

#: Power the plan asks for at a true difference of 0, and the one-sided level of each TOST test.
POWER = 0.80
ALPHA = 0.05
#: The largest seed count the plan searches.
MAX_SEEDS = 64


@dataclass(frozen=True)
class Noise:
    """A row's noise, free of the rows and seeds it was measured on."""

    row_variance_times_rows: float  # V_row * rows: the variance one row contributes
    seed_variance: float | None  # s^2 of one seed's difference; None from a one-seed pilot


def _quantile(level: float, df: float) -> float:
    return float(stats.norm.ppf(level) if math.isinf(df) else stats.t.ppf(level, df))


def _seed_mean(noise: Noise, rows: float, seeds: int) -> SeedMean | None:
    """The ``stats.over_seeds.SeedMean`` (at difference 0) a run of ``rows`` and ``seeds`` would give;
    None when it needs a seed spread the pilot did not measure."""
    row_variance = noise.row_variance_times_rows / rows
    if seeds == 1:
        return SeedMean(0.0, 0.0, row_variance, 1)
    if noise.seed_variance is None:
        return None
    return SeedMean(0.0, noise.seed_variance / seeds, row_variance, seeds)


def half_width(noise: Noise, rows: float, seeds: int) -> float | None:
    """Predicted half-width of Table 1's 90% interval: the percentile bootstrap's (normal
    approximation) for one seed, the seeds-and-rows t-interval for several."""
    mean = _seed_mean(noise, rows, seeds)
    if mean is None:
        return None
    if seeds == 1:
        return _quantile(1 - ALPHA, math.inf) * mean.standard_error
    return mean.interval(1 - 2 * ALPHA)[1]


def needed_standard_error(margin: float, df: float = math.inf) -> float:
    """The largest SE at which TOST at ``ALPHA`` finds equivalence within +-``margin`` with
    probability ``POWER`` when the true difference is 0 (see the module's note)."""
    return margin / (_quantile(1 - ALPHA, df) + _quantile((1 + POWER) / 2, df))


def powered(noise: Noise, rows: float, seeds: int, margin: float) -> bool | None:
    """Whether ``rows`` and ``seeds`` reach 80% power for ``equivalent``; None if unknown."""
    mean = _seed_mean(noise, rows, seeds)
    if mean is None:
        return None
    return mean.standard_error <= needed_standard_error(margin, mean.degrees_of_freedom)


def noise_of(row: PilotRow) -> Noise:
    """The pilot row's noise per row and per seed, inverting Table 1's interval."""
    z = _quantile(1 - ALPHA, math.inf)
    if row.n_seeds < 2 or len(row.seed_differences) < 2:
        return Noise((row.half_width / z) ** 2 * row.n_rows, None)
    seed_variance = float(np.var(row.seed_differences, ddof=1))
    training = seed_variance / row.n_seeds

    def pilot_half_width(row_variance: float) -> float:
        mean = SeedMean(0.0, training, row_variance, row.n_seeds)
        return mean.interval(1 - 2 * ALPHA)[1]

    low, high = 0.0, (row.half_width / z) ** 2
    if pilot_half_width(low) >= row.half_width:
        return Noise(0.0, seed_variance)  # the seeds' spread alone explains the interval
    for _ in range(100):  # the half-width grows with the row variance: bisect
        middle = (low + high) / 2
        low, high = (middle, high) if pilot_half_width(middle) < row.half_width else (low, middle)
    return Noise((low + high) / 2 * row.n_rows, seed_variance)


def largest_eval_size(config: Mapping[str, Any], dataset: str) -> int:
    """The largest even ``eval_size`` that leaves the exported rows room for the dataset's
    largest sample count (official pool sizes): 2 * (per_pool - eval / 2) >= n_max."""
    pools = DATASETS[dataset]
    per_pool = samples_per_pool(pools.train, pools.test, config["outputs"]["max_per_pool"])
    largest = 2 * per_pool - max(sample_counts(config, dataset))
    return max(0, largest - largest % 2)


@dataclass(frozen=True)
class RowForecast:
    """What a Table 1 row of the config is predicted to show, and what would power it."""

    attack: str
    dataset: str
    arch: str
    n_samples: int
    pilot_seeds: int
    pilot_rows: int
    pilot_half_width: float
    rows: int  # paired rows at the config's eval_size
    seeds: int
    half_width: float | None  # predicted 90% half-width; None: needs the seeds' spread
    powered: bool | None  # 80% power for `equivalent` at the config's eval_size and seeds
    min_eval_size: int | None  # at the config's seeds; None: beyond the pool (or unknown)
    largest_eval_size: int
    min_seeds: int | None  # at the config's eval_size; None: unreachable or unknown
    note: str


def forecast_row(
    row: PilotRow, config: Mapping[str, Any], margin: float, eval_size: int, seeds: int
) -> RowForecast:
    noise = noise_of(row)
    attack, dataset = row.key[0], row.key[1]
    share = row.n_rows / row.scored_rows  # paired rows per scored row

    def rows_at(size: int) -> float:
        return share * scored_rows(config, dataset, attack, size)

    largest = largest_eval_size(config, dataset)
    fixed_rows = attack in SCORE_REFERENCE_ATTACKS
    min_eval = None if fixed_rows else _smallest_eval_size(noise, rows_at, seeds, margin, largest)
    min_seeds = _smallest_seed_count(noise, rows_at(eval_size), margin)
    return RowForecast(
        *row.key,
        pilot_seeds=row.n_seeds,
        pilot_rows=row.n_rows,
        pilot_half_width=row.half_width,
        rows=round(rows_at(eval_size)),
        seeds=seeds,
        half_width=half_width(noise, rows_at(eval_size), seeds),
        powered=powered(noise, rows_at(eval_size), seeds, margin),
        min_eval_size=min_eval,
        largest_eval_size=largest,
        min_seeds=min_seeds,
        note=_note(noise, rows_at, seeds, margin, largest, min_eval, min_seeds, fixed_rows),
    )


def _smallest_eval_size(
    noise: Noise, rows_at: Any, seeds: int, margin: float, largest: int
) -> int | None:
    """The smallest even eval_size <= ``largest`` with 80% power (power grows with it)."""
    if largest < 2 or not powered(noise, rows_at(largest), seeds, margin):
        return None
    low, high = 1, largest // 2  # in pairs: eval_size = 2 * pairs
    while low < high:
        middle = (low + high) // 2
        if powered(noise, rows_at(2 * middle), seeds, margin):
            high = middle
        else:
            low = middle + 1
    return 2 * low


def _smallest_seed_count(noise: Noise, rows: float, margin: float) -> int | None:
    for seeds in range(1, MAX_SEEDS + 1):
        if powered(noise, rows, seeds, margin):
            return seeds
    return None


def _note(
    noise: Noise,
    rows_at: Any,
    seeds: int,
    margin: float,
    largest: int,
    min_eval: int | None,
    min_seeds: int | None,
    fixed_rows: bool,
) -> str:
    """Plain words for a row that cannot get there, or cannot be predicted."""
    if math.isnan(noise.row_variance_times_rows):
        return "the pilot's interval is undefined (NaN): nothing to scale"
    if seeds > 1 and noise.seed_variance is None:
        return "the pilot has one seed: the seeds' spread, and so this interval, is unknown"
    if fixed_rows:
        if powered(noise, rows_at(largest), seeds, margin):
            return ""
        rows = round(rows_at(largest))
        return (
            f"scored on the {rows} exported rows outside the largest sample count's training "
            f"rows whatever eval_size, SE {math.sqrt(noise.row_variance_times_rows / rows):.4f} "
            f"> {needed_standard_error(margin):.4f}: the pool is too small for this attack "
            "(more rows need a larger pool or a smaller largest sample count)"
        )
    if min_eval is None:
        row_only = math.sqrt(noise.row_variance_times_rows / rows_at(largest)) if largest else 0
        return (
            f"the pool is too small: even eval_size {largest} (the most the pool allows with "
            f"this dataset's largest sample count) leaves the row noise alone at SE "
            f"{row_only:.4f}, above the {needed_standard_error(margin):.4f} that 80% power "
            f"needs at margin {margin:g}"
            + ("" if seeds == 1 else "; more seeds do not lower row noise (shared rows)")
        )
    if min_seeds is None and noise.seed_variance is None:
        return "one seed does not get there at this eval_size; the pilot cannot tell about more"
    return ""


@dataclass(frozen=True)
class PowerPlan:
    margin: float
    eval_size: int
    seeds: int
    needed_standard_error: float  # one seed (normal quantiles)
    rows: list[RowForecast]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": [asdict(row) for row in self.rows]}


def power_plan(
    pilot: Pilot, config: Mapping[str, Any], table1_keys: Sequence[Mapping[str, Any]]
) -> PowerPlan:
    """Forecasts of every Table 1 row of ``config`` from the pilot's rows (refused, naming the
    difference, when the pilot comes from another config)."""
    planned = planned_rows(table1_keys)
    check_pilot_matches(pilot, planned, ticket_of(config))
    margin = float(config["figures"]["equivalence_margin"])
    eval_size, seeds = int(config["attack"]["eval_size"]), len(config["grid"]["seeds"])
    forecasts = [
        forecast_row(row, config, margin, eval_size, seeds)
        for row in pilot.rows
        if row.key in planned
    ]
    return PowerPlan(margin, eval_size, seeds, needed_standard_error(margin), forecasts)
