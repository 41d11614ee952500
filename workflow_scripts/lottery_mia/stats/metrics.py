"""Attack metrics of evaluation rows: point values, ROC points, and what the rows can resolve.

Member is the positive class and a higher score means "more likely member". Every metric here is
computed for a whole matrix of resamples at once (``metrics_of_counts``), so the bootstrap
(``stats.resampling``) and the paired comparison (``stats.paired``) reuse the one definition.

Definitions (``docs/attacks_and_statistics.md``; Carlini et al. 2022, "Membership Inference Attacks
From First Principles"; Yeom et al. 2018 for the advantage):

- accuracy, precision, recall and ``advantage`` (TPR - FPR) use the attack's hard decision
  ``predicted``, whose threshold the attack chose on its own training rows. Precision with no
  predicted member is NaN, never 0.
- ``advantage_oracle`` is max over thresholds of TPR - FPR on the evaluation rows themselves: an
  optimistic number (the threshold sees the labels it is judged on), kept as a labelled extra
  *without* an interval (``WITHOUT_INTERVAL``): a maximum re-optimised on every resample is
  biased upward (about two resamples in three exceed the estimate), and its percentile interval
  covered the truth in only 66-84% of simulated studies. ``advantage`` carries the honest one.
- ``auc`` is the Mann-Whitney statistic (ties count one half), equal to
  ``sklearn.metrics.roc_auc_score``.
- TPR at FPR bound b is the largest TPR of any ROC point (``roc_curve(..., drop_intermediate=False)``)
  whose FPR is strictly below b, as in the reference code of Carlini et al. (``fpr < b``). With m
  evaluation non-members the smallest non-zero FPR is 1/m (``min_resolvable_fpr``); a bound of
  1/m or less admits no false positive at all, which cannot be told apart from "zero false
  positives", so it is reported as NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from sklearn.metrics import roc_curve

#: FPR bound of each low-FPR metric.
FPR_BOUNDS: dict[str, float] = {"tpr_at_1pct_fpr": 0.01, "tpr_at_0.1pct_fpr": 0.001}
#: Every attack metric (each gets a bootstrap interval), in report order: the one list.
METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "auc",
    *FPR_BOUNDS,
    "advantage",
    "advantage_oracle",
)
#: Metrics reported without a bootstrap interval, and why (their ``_ci_`` columns are NaN).
WITHOUT_INTERVAL: dict[str, str] = {
    "advantage_oracle": "a maximum over thresholds re-optimised on each resample is biased upward",
}


@dataclass(frozen=True)
class EvaluationRows:
    """One attack's evaluation rows: membership truth, score and hard decision, aligned by row."""

    member: np.ndarray
    score: np.ndarray
    predicted: np.ndarray

    def __post_init__(self) -> None:
        member, score = checked_scores(self.member, self.score)
        predicted = as_bool_vector(self.predicted, "predicted")
        if predicted.shape != member.shape:
            raise ValueError(
                f"predicted has shape {predicted.shape}, expected {member.shape} like member"
            )
        object.__setattr__(self, "member", member)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "predicted", predicted)

    @property
    def n_members(self) -> int:
        return int(self.member.sum())

    @property
    def n_non_members(self) -> int:
        return int(self.member.size - self.member.sum())

    @property
    def min_resolvable_fpr(self) -> float:
        return min_resolvable_fpr(self.n_non_members)


def checked_scores(member: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``member`` as bool with both classes present, ``score`` as finite float64 of equal length."""
    member = as_bool_vector(member, "member")
    if member.all() or not member.any():
        raise ValueError(
            f"member has {int(member.sum())} members and {int((~member).sum())} "
            "non-members; expected both classes among the evaluation rows"
        )
    score = np.asarray(score, dtype=np.float64)
    if score.shape != member.shape:
        raise ValueError(f"score has shape {score.shape}, expected {member.shape} like member")
    if not np.isfinite(score).all():
        raise ValueError(f"score has {int((~np.isfinite(score)).sum())} non-finite value(s)")
    return member, score


def as_bool_vector(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as a 1-D bool array, refusing anything but bool or 0/1: a score passed where
    membership belongs would otherwise be silently cast to "member"."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, found shape {array.shape}")
    if array.dtype == np.bool_:
        return array
    if not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must be boolean (or 0/1), true meaning 'member'")
    return array.astype(bool)


def min_resolvable_fpr(n_non_members: int) -> float:
    """The smallest non-zero false-positive rate ``n_non_members`` rows can show: one false alarm."""
    if n_non_members <= 0:
        raise ValueError(f"n_non_members is {n_non_members}, expected a positive count")
    return 1.0 / n_non_members


def allowed_false_positives(fpr_bound: float, n_non_members: int) -> int:
    """Largest false-positive count k with k / n_non_members < fpr_bound, exact in floating
    point (the bound itself is excluded: 10 of 1,000 is not below 1%)."""
    count = int(np.ceil(fpr_bound * n_non_members))
    while count > 0 and count / n_non_members >= fpr_bound:
        count -= 1
    while count + 1 <= n_non_members and (count + 1) / n_non_members < fpr_bound:
        count += 1
    return count


def resolves_fpr(fpr_bound: float, n_non_members: int) -> bool:
    """Whether TPR at ``fpr_bound`` is measurable: the bound admits at least one false positive."""
    return allowed_false_positives(fpr_bound, n_non_members) >= 1


def resample_counts(indices: np.ndarray, n_rows: int) -> np.ndarray:
    """How often each row is drawn in each resample: (r, n) row indices -> (r, n_rows) counts."""
    offsets = (np.arange(indices.shape[0]) * n_rows)[:, np.newaxis]
    flat = np.bincount((indices + offsets).ravel(), minlength=indices.shape[0] * n_rows)
    return flat.reshape(indices.shape[0], n_rows)


@dataclass(frozen=True)
class RocCounts:
    """Per resample, cumulative TP and FP counts at each threshold: the ends of the runs of tied
    scores, in descending score order. Thresholds no resample row reaches repeat the previous
    point, which changes no metric below."""

    true_positives: np.ndarray
    false_positives: np.ndarray

    @classmethod
    def of(cls, score: np.ndarray, member: np.ndarray, counts: np.ndarray) -> RocCounts:
        """From draw counts (``resample_counts``): a resample holds each row as often as it was
        drawn, so sorting the scores once serves every resample (no sort per resample)."""
        order = np.argsort(-score, kind="stable")
        sorted_score, sorted_member = score[order], member[order]
        run_ends = np.flatnonzero(np.append(sorted_score[:-1] != sorted_score[1:], True))
        drawn = counts[:, order]
        true_positives = np.cumsum(np.where(sorted_member, drawn, 0), axis=1)
        false_positives = np.cumsum(drawn, axis=1) - true_positives
        return cls(true_positives[:, run_ends], false_positives[:, run_ends])

    def auc(self) -> np.ndarray:
        """Mann-Whitney AUC per resample, ties counting one half: each threshold's non-members
        lose to the members above it and tie with its own. Exact integer sums, then one division,
        so it equals the rank-sum formula to the last bit."""
        n_members = self.true_positives[:, -1:]
        n_non_members = self.false_positives[:, -1:]
        above = np.zeros_like(self.true_positives)
        above[:, 1:] = self.true_positives[:, :-1]
        new_false = np.diff(self.false_positives, axis=1, prepend=0)
        doubled = (new_false * (above + self.true_positives)).sum(axis=1)
        return doubled / (2 * n_members * n_non_members)[:, 0]


def auc_of_resamples(score: np.ndarray, member: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC of each resample (row of ``indices``, shape (r, n) -> (r,))."""
    return RocCounts.of(score, member, resample_counts(indices, member.size)).auc()


def metrics_of_counts(rows: EvaluationRows, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``METRIC_NAMES`` for each resample given as draw counts (``resample_counts``,
    shape (r, n) -> (r,)): the one definition the point estimate, the bootstrap and the paired
    comparison all use. The resamples must be stratified (each draws as many members as the rows
    hold), as the bootstrap's are."""
    member = rows.member
    n_members, n_non_members = rows.n_members, rows.n_non_members
    true_pos = counts[:, rows.predicted & member].sum(axis=1)
    false_pos = counts[:, rows.predicted & ~member].sum(axis=1)
    called = true_pos + false_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(called > 0, true_pos / called, np.nan)
    roc = RocCounts.of(rows.score, member, counts)
    tp_curve, fp_curve = roc.true_positives, roc.false_positives
    youden = tp_curve / n_members - fp_curve / n_non_members
    values = {
        "accuracy": (true_pos + n_non_members - false_pos) / member.size,
        "precision": precision,
        "recall": true_pos / n_members,
        "auc": roc.auc(),
        "advantage": true_pos / n_members - false_pos / n_non_members,
        "advantage_oracle": np.maximum(youden.max(axis=1), 0.0),  # (0, 0) is an ROC point too
    }
    for name, bound in FPR_BOUNDS.items():
        if not resolves_fpr(bound, n_non_members):
            values[name] = np.full(len(counts), np.nan)
            continue
        allowed = fp_curve <= allowed_false_positives(bound, n_non_members)
        values[name] = np.where(allowed, tp_curve, 0).max(axis=1) / n_members
    return {name: values[name] for name in METRIC_NAMES}


def point_metrics(rows: EvaluationRows) -> dict[str, float]:
    """Every metric of ``METRIC_NAMES`` on the evaluation rows as they are."""
    every_row_once = np.ones((1, rows.member.size), dtype=np.int64)
    return {
        name: float(value[0]) for name, value in metrics_of_counts(rows, every_row_once).items()
    }


@dataclass(frozen=True)
class RocCurve:
    """Every ROC point (no point dropped) and the rates the evaluation set can resolve."""

    fpr: np.ndarray
    tpr: np.ndarray
    min_fpr: float
    min_tpr: float

    def for_log_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Points clipped to [min_fpr, 1] x [min_tpr, 1]: a log axis cannot show 0, and a rate
        below one row is unresolved, so it is drawn at the axis floor instead of vanishing."""
        return np.clip(self.fpr, self.min_fpr, 1.0), np.clip(self.tpr, self.min_tpr, 1.0)


def roc_points(member: np.ndarray, score: np.ndarray) -> RocCurve:
    """ROC curve for log-log plots (Carlini et al. 2022): FPR from 1/non-members to 1."""
    member, score = checked_scores(member, score)
    fpr, tpr, _ = roc_curve(member, score, drop_intermediate=False)
    n_members = int(member.sum())
    return RocCurve(fpr, tpr, min_resolvable_fpr(member.size - n_members), 1.0 / n_members)


def wilson_interval(proportion: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion measured on ``n`` rows (a test accuracy on the test
    pool): it stays inside [0, 1] and is not degenerate at 0 or 1, unlike the normal one. (NaN,
    NaN) when ``n`` is unknown (NaN) or zero."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence is {confidence}, expected a level in (0, 1)")
    if not n > 0 or math.isnan(proportion):
        return math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2n = z * z / n
    centre = (proportion + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(proportion * (1 - proportion) / n + z2n / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)
