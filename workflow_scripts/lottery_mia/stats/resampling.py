"""The stratified bootstrap: resampled row indices, percentile intervals, metrics with intervals.

Every metric comes with a 95% percentile-bootstrap interval, resampled *within* members and
*within* non-members (stratified), so every resample keeps the evaluation set's class sizes: a
resample with another member share would move accuracy and the FPR resolution for no reason of
the attack's. The resamples are one seeded index matrix of shape (B, n) applied to the whole
evaluation set at once; only memory bounds it into blocks of resamples, never a Python loop over
single resamples. The same matrix, reused for two models, is what pairs them (``stats.paired``).
Definitions: ``docs/attacks_and_statistics.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from lottery_mia.stats.metrics import (
    METRIC_NAMES,
    WITHOUT_INTERVAL,
    EvaluationRows,
    as_bool_vector,
    auc_of_resamples,
    checked_scores,
    metrics_of_counts,
    min_resolvable_fpr,
    point_metrics,
    resample_counts,
)

DEFAULT_RESAMPLES = 1000
# Elements of one (resamples x rows) block: bounds memory at a few float64 arrays of 16 MiB.
_BLOCK_ELEMENTS = 2**21


def bootstrap_index_blocks(member: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Consecutive blocks of rows of the stratified bootstrap index matrix.

    One generator fills the matrix row by row with uniform numbers, each mapped into its column's
    stratum, so the matrix is the same whatever the block size: memory changes nothing.
    """
    if n_resamples <= 0:
        raise ValueError(f"n_resamples is {n_resamples}, expected a positive number of resamples")
    if seed < 0:
        raise ValueError(f"seed is {seed}, expected a non-negative integer")
    rng = np.random.default_rng(seed)
    strata = [(in_stratum, np.flatnonzero(in_stratum)) for in_stratum in (member, ~member)]
    rows_per_block = max(1, _BLOCK_ELEMENTS // member.size)
    for start in range(0, n_resamples, rows_per_block):
        uniform = rng.random((min(rows_per_block, n_resamples - start), member.size))
        indices = np.empty(uniform.shape, dtype=np.int64)
        for in_stratum, positions in strata:
            draws = (uniform[:, in_stratum] * positions.size).astype(np.int64)
            # u * size can round up to size itself for u just below 1.
            indices[:, in_stratum] = positions[np.minimum(draws, positions.size - 1)]
        yield indices


def stratified_bootstrap_indices(member: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Seeded (n_resamples, n) matrix of row indices; row b is one bootstrap resample.

    Column j always holds a row of the same class as row j (members are drawn with replacement
    from the members, non-members from the non-members), so ``member[indices[b]] == member``.
    """
    member = as_bool_vector(member, "member")
    return np.concatenate(list(bootstrap_index_blocks(member, n_resamples, seed)))


def bootstrap_count_blocks(member: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """``bootstrap_index_blocks`` as draw counts (``stats.metrics.resample_counts``), which is what
    the metrics read. A matrix of one block is remembered: a job that bootstraps many models on
    the same rows (the transfer matrix, the paired comparisons) draws it once."""
    member = as_bool_vector(member, "member")
    if n_resamples * member.size <= _BLOCK_ELEMENTS:
        yield from _remembered_count_blocks(member.tobytes(), member.size, n_resamples, seed)
        return
    for indices in bootstrap_index_blocks(member, n_resamples, seed):
        yield resample_counts(indices, member.size)


@lru_cache(maxsize=4)
def _remembered_count_blocks(
    member_bytes: bytes, n_rows: int, n_resamples: int, seed: int
) -> tuple[np.ndarray, ...]:
    member = np.frombuffer(member_bytes, dtype=np.bool_, count=n_rows)
    blocks = tuple(
        resample_counts(indices, n_rows)
        for indices in bootstrap_index_blocks(member, n_resamples, seed)
    )
    for block in blocks:
        block.flags.writeable = False  # shared by every caller
    return blocks


def bootstrap_distribution(
    rows: EvaluationRows, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, np.ndarray]:
    """Each metric on every stratified resample: arrays of shape (n_resamples,)."""
    blocks = [
        metrics_of_counts(rows, counts)
        for counts in bootstrap_count_blocks(rows.member, n_resamples, seed)
    ]
    return {name: np.concatenate([block[name] for block in blocks]) for name in METRIC_NAMES}


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Central percentile interval of the defined (non-NaN) values; (NaN, NaN) if none is defined.

    A NaN resample (precision with no predicted member) is left out, never counted as 0: the
    interval is then conditional on the attack predicting at least one member.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence is {confidence}, expected a level in (0, 1)")
    defined = np.asarray(values, dtype=np.float64)
    defined = defined[~np.isnan(defined)]
    if defined.size == 0:
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class MetricReport:
    """Point estimates with percentile-bootstrap intervals, and the evaluation set's resolution."""

    estimate: Mapping[str, float]
    ci_low: Mapping[str, float]
    ci_high: Mapping[str, float]
    n_members: int
    n_non_members: int
    n_resamples: int
    confidence: float

    @property
    def min_resolvable_fpr(self) -> float:
        return min_resolvable_fpr(self.n_non_members)

    def as_record(self) -> dict[str, float | int]:
        """Flat columns: ``{metric}``, ``{metric}_ci_low``, ``{metric}_ci_high``, and the sizes."""
        record: dict[str, float | int] = {}
        for name in METRIC_NAMES:
            record[name] = self.estimate[name]
            record[f"{name}_ci_low"] = self.ci_low[name]
            record[f"{name}_ci_high"] = self.ci_high[name]
        record.update(
            min_resolvable_fpr=self.min_resolvable_fpr,
            n_eval=self.n_members + self.n_non_members,
            n_eval_members=self.n_members,
            n_eval_non_members=self.n_non_members,
            n_bootstrap=self.n_resamples,
            ci_level=self.confidence,
        )
        return record


def metrics_with_intervals(
    rows: EvaluationRows,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> MetricReport:
    """Point estimate and stratified percentile-bootstrap interval of every metric."""
    return metrics_and_draws(rows, n_resamples, seed, confidence)[0]


def metrics_and_draws(
    rows: EvaluationRows,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[MetricReport, dict[str, np.ndarray]]:
    """``metrics_with_intervals`` and the bootstrap draws its intervals come from (for callers
    that combine several models' draws, as the transfer cells do)."""
    distribution = bootstrap_distribution(rows, n_resamples, seed)
    intervals = {
        name: (np.nan, np.nan)
        if name in WITHOUT_INTERVAL
        else percentile_interval(draws, confidence)
        for name, draws in distribution.items()
    }
    report = MetricReport(
        estimate=point_metrics(rows),
        ci_low={name: low for name, (low, _) in intervals.items()},
        ci_high={name: high for name, (_, high) in intervals.items()},
        n_members=rows.n_members,
        n_non_members=rows.n_non_members,
        n_resamples=n_resamples,
        confidence=confidence,
    )
    return report, distribution


#: The fewest members, and non-members, of a class whose AUC is reported. Below it the stratified
#: bootstrap does not cover: for a nominal 95%, 72% to 79% with 3 members and 80% to 92% with 5,
#: 90% to 95% from 10 (binormal scores, true AUC 0.6 to 0.9; ``tools/interval_coverage.py``).
MIN_CLASS_ROWS = 10


def per_class_auc(
    member: np.ndarray,
    score: np.ndarray,
    label: np.ndarray,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
    min_class_rows: int = MIN_CLASS_ROWS,
) -> pd.DataFrame:
    """Attack AUC within each class label, with a stratified bootstrap interval per class.

    A class with fewer than ``min_class_rows`` members or non-members among the evaluation rows
    has no AUC: its row keeps the counts and says so with NaN (3 members all ranked first would
    otherwise read 1.000 [1.000, 1.000]). Columns: ``label, n_members, n_non_members, auc,
    auc_ci_low, auc_ci_high``.
    """
    member = as_bool_vector(member, "member")
    score, label = np.asarray(score, dtype=np.float64), np.asarray(label)
    if score.shape != member.shape or label.shape != member.shape:
        raise ValueError(
            f"member, score and label have shapes {member.shape}, {score.shape} and "
            f"{label.shape}; expected one value per evaluation row in each"
        )
    records = []
    for value in np.unique(label):
        in_class = label == value
        n_members = int(member[in_class].sum())
        n_non_members = int(in_class.sum()) - n_members
        auc = low = high = float("nan")
        if min(n_members, n_non_members) >= max(min_class_rows, 1):
            auc, low, high = _class_auc_with_bootstrap_interval(
                member[in_class], score[in_class], n_resamples, seed, confidence
            )
        records.append((value, n_members, n_non_members, auc, low, high))
    columns = ["label", "n_members", "n_non_members", "auc", "auc_ci_low", "auc_ci_high"]
    return pd.DataFrame.from_records(records, columns=columns)


def _class_auc_with_bootstrap_interval(
    member: np.ndarray, score: np.ndarray, n_resamples: int, seed: int, confidence: float
) -> tuple[float, float, float]:
    """AUC of one class's rows and its percentile interval (``per_class_auc``): only the AUC is
    resampled, since the other metrics are not reported per class."""
    member, score = checked_scores(member, score)
    point = float(auc_of_resamples(score, member, np.arange(member.size)[np.newaxis, :])[0])
    blocks = bootstrap_index_blocks(member, n_resamples, seed)
    resampled = np.concatenate([auc_of_resamples(score, member, indices) for indices in blocks])
    return (point, *percentile_interval(resampled, confidence))
