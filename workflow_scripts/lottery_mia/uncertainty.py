"""Honest membership-inference numbers: bootstrap intervals, paired differences, a tested verdict.

Member is the positive class and a higher score means "more likely member". Every metric comes
with a 95% percentile-bootstrap interval, resampled *within* members and *within* non-members
(stratified), so every resample keeps the evaluation set's class sizes. The resamples are one
seeded index matrix of shape (B, n) applied to the whole evaluation set at once; only memory
bounds it into blocks of resamples, never a Python loop over single resamples.

Definitions (``../shared/attacks.md``; Carlini et al. 2022, "Membership Inference Attacks From
First Principles"; Yeom et al. 2018 for the advantage):

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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_curve

from lottery_mia.over_seeds import SeedMean, seed_mean_from_draws

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
DEFAULT_RESAMPLES = 1000
DEFAULT_MARGIN = 0.02
Verdict = Literal["equivalent", "ticket leaks more", "ticket leaks less", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = (
    "equivalent",
    "ticket leaks more",
    "ticket leaks less",
    "inconclusive",
)
# Elements of one (resamples x rows) block: bounds memory at a few float64 arrays of 16 MiB.
_BLOCK_ELEMENTS = 2**21


@dataclass(frozen=True)
class EvaluationRows:
    """One attack's evaluation rows: membership truth, score and hard decision, aligned by row."""

    member: np.ndarray
    score: np.ndarray
    predicted: np.ndarray

    def __post_init__(self) -> None:
        member, score = _checked_scores(self.member, self.score)
        predicted = _as_bool_vector(self.predicted, "predicted")
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


def _checked_scores(member: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``member`` as bool with both classes present, ``score`` as finite float64 of equal length."""
    member = _as_bool_vector(member, "member")
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


def _as_bool_vector(values: np.ndarray, name: str) -> np.ndarray:
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


# --- resampling --------------------------------------------------------------------------------


def _index_blocks(member: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
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
    member = _as_bool_vector(member, "member")
    return np.concatenate(list(_index_blocks(member, n_resamples, seed)))


# --- metrics of many resamples at once -----------------------------------------------------------


def _roc_counts(
    scores: np.ndarray, member: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resample row: cumulative TP and FP counts down the descending scores, and where a
    threshold may cut (after the last of a run of tied scores): the ROC points of each row."""
    order = np.argsort(-scores, axis=1, kind="stable")
    sorted_scores = np.take_along_axis(scores, order, axis=1)
    true_positives = np.cumsum(member[order], axis=1)
    false_positives = np.arange(1, member.size + 1) - true_positives
    at_threshold = np.ones_like(sorted_scores, dtype=bool)
    at_threshold[:, :-1] = sorted_scores[:, :-1] != sorted_scores[:, 1:]
    return true_positives, false_positives, at_threshold


def _auc(scores: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per row: rank sum of the members, ties at their average rank."""
    n_members = int(member.sum())
    n_non_members = member.size - n_members
    ranks = stats.rankdata(scores, axis=1)
    member_rank_sum = ranks[:, member].sum(axis=1)
    return (member_rank_sum - n_members * (n_members + 1) / 2) / (n_members * n_non_members)


def _metrics_of_resamples(rows: EvaluationRows, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``METRIC_NAMES`` for each row of ``indices`` (shape (r, n) -> (r,))."""
    member = rows.member
    n_members, n_non_members = rows.n_members, rows.n_non_members
    scores, decisions = rows.score[indices], rows.predicted[indices]
    true_pos = (decisions & member).sum(axis=1)
    false_pos = (decisions & ~member).sum(axis=1)
    called = true_pos + false_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(called > 0, true_pos / called, np.nan)
    tp_curve, fp_curve, at_threshold = _roc_counts(scores, member)
    youden = np.where(at_threshold, tp_curve / n_members - fp_curve / n_non_members, 0.0)
    values = {
        "accuracy": (true_pos + n_non_members - false_pos) / member.size,
        "precision": precision,
        "recall": true_pos / n_members,
        "auc": _auc(scores, member),
        "advantage": true_pos / n_members - false_pos / n_non_members,
        "advantage_oracle": np.maximum(youden.max(axis=1), 0.0),  # (0, 0) is an ROC point too
    }
    for name, bound in FPR_BOUNDS.items():
        if not resolves_fpr(bound, n_non_members):
            values[name] = np.full(len(indices), np.nan)
            continue
        allowed = at_threshold & (fp_curve <= allowed_false_positives(bound, n_non_members))
        values[name] = np.where(allowed, tp_curve, 0).max(axis=1) / n_members
    return {name: values[name] for name in METRIC_NAMES}


def point_metrics(rows: EvaluationRows) -> dict[str, float]:
    """Every metric of ``METRIC_NAMES`` on the evaluation rows as they are."""
    identity = np.arange(rows.member.size)[np.newaxis, :]
    return {name: float(value[0]) for name, value in _metrics_of_resamples(rows, identity).items()}


def bootstrap_distribution(
    rows: EvaluationRows, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, np.ndarray]:
    """Each metric on every stratified resample: arrays of shape (n_resamples,)."""
    blocks = [
        _metrics_of_resamples(rows, idx) for idx in _index_blocks(rows.member, n_resamples, seed)
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


# --- ticket vs dense -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedDifference:
    """Difference ticket - dense of one metric on the same rows, with its paired-bootstrap
    intervals at 90% (for the two one-sided tests) and 95% (for the two-sided test), and what
    its p-values come from: the bootstrap ``draws`` (one seed) or, over several seeds, the
    ``over_seeds.SeedMean`` of the seeds' differences (training and row noise)."""

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
    def over_seeds(cls, per_seed: Sequence[PairedDifference]) -> PairedDifference:
        """The mean of several seeds' paired differences (each with its bootstrap ``draws`` on
        the same resampled rows) with the seeds-and-rows interval of ``over_seeds``."""
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


def bootstrap_p_values(draws: np.ndarray, margin: float) -> tuple[float, float]:
    """Percentile-bootstrap p-values of a difference (``PairedDifference.p_values``). Counts get
    +1 in numerator and denominator (Davison & Hinkley 1997), so no p-value is 0 with finitely
    many draws: with B = 1,000 the smallest two-sided p is 0.002."""
    values = np.asarray(draws, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")

    def tail(count: int) -> float:
        return (count + 1) / (values.size + 1)

    p_zero = min(1.0, 2 * tail(int(min((values <= 0).sum(), (values >= 0).sum()))))
    p_equivalence = max(tail(int((values <= -margin).sum())), tail(int((values >= margin).sum())))
    return p_zero, p_equivalence


def holm_adjusted(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment (1979) of a family of p-values: controls the chance of any
    false rejection at the level, whatever the dependence between the tests. NaN p-values stay
    NaN and do not count in the family."""
    values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full_like(values, np.nan)
    defined = np.flatnonzero(~np.isnan(values))
    order = defined[np.argsort(values[defined], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (order.size - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def verdict_from_p_values(
    p_zero: float, p_equivalence: float, estimate: float, level: float = 0.05
) -> Verdict:
    """The verdict of ``equivalence_verdict`` from (adjusted) p-values: equivalent if the TOST
    rejects, else a difference if the two-sided test rejects, else inconclusive."""
    if p_equivalence < level:
        return "equivalent"
    if p_zero < level:
        return "ticket leaks more" if estimate > 0 else "ticket leaks less"
    return "inconclusive"


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
    for indices in _index_blocks(ticket.member, n_resamples, seed):
        ticket_values = _metrics_of_resamples(ticket, indices)
        dense_values = _metrics_of_resamples(dense, indices)
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


def equivalence_verdict(difference: PairedDifference, margin: float = DEFAULT_MARGIN) -> Verdict:
    """Verdict on ticket - dense, in this order (the first rule that holds wins):

    1. ``equivalent``: the 90% interval lies inside [-margin, +margin]. This is the two one-sided
       tests (TOST) at 5%: both "difference <= -margin" and "difference >= +margin" are rejected.
    2. ``ticket leaks more`` / ``ticket leaks less``: the 95% interval lies strictly above /
       below 0 (the two-sided test at 5% finds a difference).
    3. ``inconclusive``: otherwise (the data neither bound the difference within the margin nor
       exclude 0), or when an interval is undefined (NaN).

    Overlap: a difference that is significantly non-zero but whose 90% interval lies inside the
    margin is ``equivalent``. The margin states which difference matters; a smaller one, however
    certain, is not a difference in leakage worth reporting. The interval is shown beside the
    verdict, so a reader still sees its sign.
    """
    if not margin > 0:
        raise ValueError(f"equivalence margin is {margin}, expected a positive number")
    low90, high90 = difference.ci90
    low95, high95 = difference.ci95
    if -margin <= low90 and high90 <= margin:
        return "equivalent"
    if low95 > 0:
        return "ticket leaks more"
    if high95 < 0:
        return "ticket leaks less"
    return "inconclusive"


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


# --- curves, classes, seeds ----------------------------------------------------------------------


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
    member, score = _checked_scores(member, score)
    fpr, tpr, _ = roc_curve(member, score, drop_intermediate=False)
    n_members = int(member.sum())
    return RocCurve(fpr, tpr, min_resolvable_fpr(member.size - n_members), 1.0 / n_members)


def per_class_auc(
    member: np.ndarray,
    score: np.ndarray,
    label: np.ndarray,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Attack AUC within each class label, with a stratified bootstrap interval per class.

    A class without both members and non-members among the evaluation rows has no AUC: its row
    says so with NaN. Columns: ``label, n_members, n_non_members, auc, auc_ci_low, auc_ci_high``.
    """
    member = _as_bool_vector(member, "member")
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
        if n_members and n_non_members:
            auc, low, high = _auc_with_interval(
                member[in_class], score[in_class], n_resamples, seed, confidence
            )
        records.append((value, n_members, n_non_members, auc, low, high))
    columns = ["label", "n_members", "n_non_members", "auc", "auc_ci_low", "auc_ci_high"]
    return pd.DataFrame.from_records(records, columns=columns)


def _auc_with_interval(
    member: np.ndarray, score: np.ndarray, n_resamples: int, seed: int, confidence: float
) -> tuple[float, float, float]:
    member, score = _checked_scores(member, score)
    point = float(_auc(score[np.newaxis, :], member)[0])
    blocks = _index_blocks(member, n_resamples, seed)
    resampled = np.concatenate([_auc(score[indices], member) for indices in blocks])
    return (point, *percentile_interval(resampled, confidence))


def t_interval_over_seeds(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of one value over seeds with a Student-t interval of that mean: training randomness
    only, for values measured without row sampling (``over_seeds`` covers the rows too).

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
