"""Ticket against dense on the same evaluation rows: paired differences and their alignment.

Both models are scored on the same rows, so the row-to-row variation they share cancels in their
difference; two separate intervals would count it twice. The pairing is kept through the
bootstrap by resampling each row index once and using it for both models. With one seed the
interval of a difference is that paired bootstrap over evaluation rows; with several seeds it is
the interval of the seeds' mean difference over seeds *and* rows (``stats.over_seeds``): every
seed is scored on the same rows, which the seeds' spread alone forgets. Either way the verdict
follows ``stats.verdicts.equivalence_verdict``. Definitions: ``docs/attacks_and_statistics.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lottery_mia.attack_scores import ScoreKey, score_key, scores_of
from lottery_mia.stats.metrics import (
    METRIC_NAMES,
    EvaluationRows,
    metrics_of_counts,
    point_metrics,
)
from lottery_mia.stats.over_seeds import SeedMean, seed_mean_from_draws
from lottery_mia.stats.resampling import (
    DEFAULT_RESAMPLES,
    bootstrap_count_blocks,
    percentile_interval,
)
from lottery_mia.stats.verdicts import (
    DEFAULT_MARGIN,
    Verdict,
    bootstrap_p_values,
    equivalence_verdict,
)

COMPARED_METRICS: tuple[str, ...] = ("auc", "accuracy")


@dataclass(frozen=True)
class PairedDifference:
    """Difference ticket - dense of one metric on the same rows, with its paired-bootstrap
    intervals at 90% (for the two one-sided tests) and 95% (for the two-sided test), and what
    its p-values come from: the bootstrap ``draws`` (one seed) or, over several seeds, the
    ``stats.over_seeds.SeedMean`` of the seeds' differences (training and row noise)."""

    metric: str
    estimate: float
    ci90: tuple[float, float]
    ci95: tuple[float, float]
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    seed_mean: SeedMean | None = None

    def verdict(self, margin: float = DEFAULT_MARGIN) -> Verdict:
        return equivalence_verdict(self, margin)

    def p_values(self, margin: float = DEFAULT_MARGIN) -> tuple[float, float]:
        """(p of "the difference is 0", two-sided; p of "the difference is at least ``margin``
        in size", the larger of the two one-sided tests, TOST): bootstrap p-values from the
        draws, or t-tests over seeds and rows. NaN when neither is there."""
        if self.draws is not None:
            return bootstrap_p_values(self.draws, margin)
        if self.seed_mean is not None:
            return self.seed_mean.p_values(margin)
        return float("nan"), float("nan")

    @classmethod
    def from_seeds(cls, per_seed: Sequence[PairedDifference]) -> PairedDifference:
        """The mean of several seeds' paired differences (each with its bootstrap ``draws`` on
        the same resampled rows) with the seeds-and-rows interval of ``stats.over_seeds``."""
        seed_mean = seed_mean_from_draws(
            [difference.estimate for difference in per_seed],
            np.stack([difference.draws for difference in per_seed]),
        )
        return cls(
            per_seed[0].metric,
            seed_mean.mean,
            seed_mean.interval(0.90),
            seed_mean.interval(0.95),
            seed_mean=seed_mean,
        )


def paired_differences(
    ticket: EvaluationRows,
    dense: EvaluationRows,
    metrics: Sequence[str] = ("auc", "accuracy"),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, PairedDifference]:
    """Ticket - dense for each metric, resampling each row index once and using it for both models.

    Both models must be scored on the same rows in the same order (see ``align_paired``): the
    pairing removes the row-to-row variation the two models share, which an unpaired comparison
    of two separate intervals would count twice.
    """
    if not np.array_equal(ticket.member, dense.member):
        raise ValueError("ticket and dense rows differ in membership: align them by sample first")
    unknown = sorted(set(metrics) - set(METRIC_NAMES))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; expected some of {METRIC_NAMES}")
    gaps: dict[str, list[np.ndarray]] = {name: [] for name in metrics}
    for counts in bootstrap_count_blocks(ticket.member, n_resamples, seed):
        ticket_values = metrics_of_counts(ticket, counts)
        dense_values = metrics_of_counts(dense, counts)
        for name in metrics:
            gaps[name].append(ticket_values[name] - dense_values[name])
    ticket_point, dense_point = point_metrics(ticket), point_metrics(dense)
    return {
        name: PairedDifference(
            metric=name,
            estimate=ticket_point[name] - dense_point[name],
            ci90=percentile_interval(np.concatenate(gaps[name]), 0.90),
            ci95=percentile_interval(np.concatenate(gaps[name]), 0.95),
            draws=np.concatenate(gaps[name]),
        )
        for name in metrics
    }


def align_paired(
    ticket: pd.DataFrame, dense: pd.DataFrame, common_only: bool = False
) -> tuple[EvaluationRows, EvaluationRows, pd.DataFrame]:
    """Both models' evaluation rows matched by (``pool``, ``sample_id``), in one common order,
    and those keys.

    Refuses frames that repeat a key or disagree on ``member`` or ``label``: a paired comparison
    of different rows would be no comparison at all. Rows scored for only one model are refused
    too, unless ``common_only`` (reference attacks score every row their references allow, which
    may differ between two models): then the comparison is on the rows both were scored on.
    """
    keys = ["pool", "sample_id"]
    for side, frame in (("ticket", ticket), ("dense", dense)):
        repeated = int(frame.duplicated(keys).sum())
        if repeated:
            raise ValueError(f"{side} scores repeat {repeated} (pool, sample_id) key(s)")
    columns = [*keys, "member", "label", "score", "predicted"]
    merged = ticket[columns].merge(
        dense[columns], on=keys, how="outer", suffixes=("_ticket", "_dense"), indicator=True
    )
    unmatched = merged["_merge"] != "both"
    if unmatched.any() and not common_only:
        raise ValueError(
            f"{int(unmatched.sum())} evaluation row(s) appear for only one of ticket and dense"
        )
    merged = merged[~unmatched]
    for column in ("member", "label"):
        if not (merged[f"{column}_ticket"] == merged[f"{column}_dense"]).all():
            raise ValueError(f"ticket and dense rows disagree on '{column}' for the same sample")
    merged = merged.sort_values(keys, kind="stable").reset_index(drop=True)
    ticket_rows, dense_rows = (
        EvaluationRows(
            member=merged["member_ticket"].to_numpy(dtype=bool),
            score=merged[f"score_{side}"].to_numpy(dtype=np.float64),
            predicted=merged[f"predicted_{side}"].to_numpy(dtype=bool),
        )
        for side in ("ticket", "dense")
    )
    return ticket_rows, dense_rows, merged[keys]


@dataclass(frozen=True)
class Comparison:
    """Ticket - dense of each compared metric, which interval that is, and the paired rows."""

    differences: dict[str, PairedDifference]
    interval: str
    n_rows: int
    n_non_members: int


def ticket_minus_dense(
    scores: Mapping[ScoreKey, pd.DataFrame],
    model: tuple[str, str, str, int],
    ticket_sparsity: float,
    seeds: Sequence[int],
    n_resamples: int,
    bootstrap_seed: int,
    metrics: Sequence[str] = COMPARED_METRICS,
) -> Comparison:
    """Ticket - dense in each of ``metrics`` for (attack, dataset, arch, n_samples) ``model``, on
    the rows both models were scored on (``align_paired(common_only=True)``)."""
    attack, dataset, arch, n_samples = model
    per_seed, row_keys = [], []
    for seed in seeds:
        ticket, dense, keys = align_paired(
            scores_of(scores, score_key(attack, dataset, arch, seed, ticket_sparsity, n_samples)),
            scores_of(scores, score_key(attack, dataset, arch, seed, 0.0, n_samples)),
            common_only=True,
        )
        row_keys.append(keys)
        per_seed.append(paired_differences(ticket, dense, metrics, n_resamples, bootstrap_seed))
    if any(not keys.equals(row_keys[0]) for keys in row_keys[1:]):
        raise ValueError(
            f"{attack} scores of {dataset} {arch} n={n_samples} cover other rows for other seeds; "
            "expected every seed scored on the same evaluation rows (outputs.selection_seed)"
        )
    n_rows, n_non_members = len(row_keys[0]), int((~ticket.member).sum())
    if len(per_seed) == 1:
        interval = "paired bootstrap over evaluation rows"
        return Comparison(per_seed[0], interval, n_rows, n_non_members)
    seed_means = {
        name: PairedDifference.from_seeds([difference[name] for difference in per_seed])
        for name in metrics
    }
    interval = f"interval over {len(per_seed)} seeds and evaluation rows"
    return Comparison(seed_means, interval, n_rows, n_non_members)
