"""Per-example exposure: which examples leak, and does a ticket expose the same ones as its dense
parent?

Pure functions on arrays; the tables that assemble them live in ``exposure_table.py``.

* **Agreement** of two models' membership scores over the same members: Spearman's rank
  correlation, and the Jaccard overlap of their top-``fraction`` most exposed members. Intervals
  come from one paired bootstrap over members: every resample draws members with replacement and
  recomputes every pair's statistics on the same draw, so a dense-vs-ticket number and the
  dense-vs-dense level (two dense runs of different seeds: what retraining alone changes) are
  compared on the same resamples.
* **Memorisation** (Feldman & Zhang 2020): P(correct | IN) - P(correct | OUT) over reference
  models, each of which trained on a known half of the rows. With K keep-half references every row
  is IN for K/2 of them, so each probability moves in steps of 2/K: the estimate takes values in
  {-1, -1 + 2/K, ..., 1} (K = 4: -1, -0.5, 0, 0.5, 1).
* **Pruning-identified exemplars** (Hooker et al. 2019): rows the dense model classifies correctly
  and the ticket does not, by each side's modal prediction over seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import rankdata

from lottery_mia.stats.resampling import percentile_interval

#: A pair of score vectors over the same members, in the same order.
ScorePair = tuple[np.ndarray, np.ndarray]
NEEDS_TWO_SEEDS = "needs two seeds: the retraining level is the agreement of two dense runs"
#: The smallest top set whose Jaccard is reported. Below it the member bootstrap of a top-k set
#: (an extreme order statistic) does not cover: for a nominal 95%, 66% at k = 2 and 84% at k = 5
#: (rho 0.5), 87% to 94% from k = 10 (``tools/interval_coverage.py``, docs/exposure.md).
MIN_TOP_K = 10


def resolves_top_k(k: int) -> bool:
    """Whether the Jaccard of a top set of ``k`` members is reported (``MIN_TOP_K``)."""
    return k >= MIN_TOP_K


def top_set_too_small(k: int) -> str:
    """Why a Jaccard of a top set of ``k`` members is not reported."""
    return f"top {k} is under {MIN_TOP_K} members: the bootstrap cannot resolve its Jaccard"


# --- loss, correctness, memorisation, pruning-identified exemplars ------------------------------


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-row cross-entropy in float64: log(1 + sum_{j != y} exp(z_j - z_y)), through
    ``logaddexp``, so a confidently right row keeps its tiny positive loss instead of the 0 that
    logsumexp(z) - z_y rounds to (the loss attack ranks exactly those rows)."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.arange(labels.size)
    others = logits - logits[rows, labels][:, np.newaxis]
    others[rows, labels] = -np.inf
    return np.logaddexp(0.0, logsumexp(others, axis=1))


def predictions(logits: np.ndarray) -> np.ndarray:
    """The predicted label of every row (the first of tied maxima, as ``argmax``)."""
    return np.asarray(logits).argmax(axis=1)


def memorisation(correct: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """P(correct | IN) - P(correct | OUT) per row over K references.

    ``correct`` and ``keep`` are (K, rows) bool: reference k classified row j correctly, trained
    on it. A row that no reference holds IN (or OUT) has no estimate (NaN).
    """
    correct, keep = np.asarray(correct, dtype=bool), np.asarray(keep, dtype=bool)
    if correct.shape != keep.shape or correct.ndim != 2:
        raise ValueError(
            f"correct and keep have shapes {correct.shape} and {keep.shape}; expected the same "
            "(K references, rows) shape"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        p_in = (correct & keep).sum(axis=0) / keep.sum(axis=0)
        p_out = (correct & ~keep).sum(axis=0) / (~keep).sum(axis=0)
    return p_in - p_out


def memorisation_resolution(n_references: int) -> float:
    """The step of the estimate with K keep-half references (each row IN for K/2): 2/K."""
    if n_references < 2 or n_references % 2:
        raise ValueError(f"{n_references} references; the keep-half design needs an even K >= 2")
    return 2.0 / n_references


def modal_prediction(predicted: np.ndarray) -> np.ndarray:
    """The most frequent label per row over seeds (rows of ``predicted``, shape (seeds, rows)); a
    tie goes to the smallest label, so the result does not depend on the seeds' order."""
    predicted = np.asarray(predicted, dtype=np.int64)
    if predicted.ndim != 2 or predicted.shape[0] == 0:
        raise ValueError(f"predictions have shape {predicted.shape}; expected (seeds, rows)")
    n_labels = int(predicted.max()) + 1
    votes = np.zeros((predicted.shape[1], n_labels), dtype=np.int64)
    for seed_predictions in predicted:
        votes[np.arange(predicted.shape[1]), seed_predictions] += 1
    return votes.argmax(axis=1)


def pruning_identified_exemplars(
    dense_predicted: np.ndarray, ticket_predicted: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """Rows the dense model's modal prediction gets right and the ticket's gets wrong."""
    labels = np.asarray(labels, dtype=np.int64)
    dense_right = modal_prediction(dense_predicted) == labels
    ticket_right = modal_prediction(ticket_predicted) == labels
    return dense_right & ~ticket_right


# --- agreement of two models' scores over the same members ---------------------------------------


def top_count(n_members: int, fraction: float) -> int:
    """How many members the top ``fraction`` holds: ceil(fraction x n), at least one."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"top fraction is {fraction}, expected a value in (0, 1]")
    return max(1, math.ceil(fraction * n_members - 1e-9))


def _spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair of (resamples, n) matrices (average ranks for ties)."""
    ranks_a = rankdata(a, axis=1) - (a.shape[1] + 1) / 2
    ranks_b = rankdata(b, axis=1) - (b.shape[1] + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ranks_a * ranks_b).sum(axis=1) / np.sqrt(
            (ranks_a**2).sum(axis=1) * (ranks_b**2).sum(axis=1)
        )


def _top_members(score: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """(resamples, n) bool: which members are among the k highest scores of each resample.

    ``rows`` (resamples, n) are member positions; a member drawn twice counts once, so a top set
    may hold fewer than k distinct members. Ties go to the earlier draw (a stable sort).
    """
    order = np.argsort(-score[rows], axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(rows, order, axis=1)
    marked = np.zeros((rows.shape[0], score.size), dtype=bool)
    np.put_along_axis(marked, chosen, True, axis=1)
    return marked


def _jaccard_rows(a: np.ndarray, b: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    top_a, top_b = _top_members(a, rows, k), _top_members(b, rows, k)
    return (top_a & top_b).sum(axis=1) / (top_a | top_b).sum(axis=1)


def _checked_pairs(pairs: Sequence[ScorePair]) -> list[ScorePair]:
    checked = [(np.asarray(a, np.float64), np.asarray(b, np.float64)) for a, b in pairs]
    sizes = {array.shape for pair in checked for array in pair}
    if len(sizes) > 1 or any(len(size) != 1 for size in sizes):
        raise ValueError(f"score vectors have shapes {sorted(sizes)}; expected one 1-D shape")
    return checked


@dataclass(frozen=True)
class AgreementDraws:
    """Mean agreement over pairs: the point estimate and one value per bootstrap resample."""

    spearman: float
    jaccard: float
    spearman_draws: np.ndarray
    jaccard_draws: np.ndarray


def _nan_draws(n_resamples: int) -> AgreementDraws:
    nan = np.full(n_resamples, np.nan)
    return AgreementDraws(float("nan"), float("nan"), nan, nan)


def agreement_draws(
    pairs: Sequence[ScorePair], resampled: np.ndarray, fraction: float
) -> AgreementDraws:
    """Spearman and top-``fraction`` Jaccard, each averaged over ``pairs``, on all members and on
    each row of ``resampled`` (the same member draws for every pair). No pair: NaN throughout."""
    if not pairs:
        return _nan_draws(resampled.shape[0])
    pairs = _checked_pairs(pairs)
    everyone = np.arange(pairs[0][0].size)[np.newaxis, :]
    k = top_count(pairs[0][0].size, fraction)

    def mean_over_pairs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rho = np.mean([_spearman_rows(a[rows], b[rows]) for a, b in pairs], axis=0)
        overlap = np.mean([_jaccard_rows(a, b, rows, k) for a, b in pairs], axis=0)
        return rho, overlap

    (rho,), (overlap,) = mean_over_pairs(everyone)
    rho_draws, overlap_draws = mean_over_pairs(resampled)
    return AgreementDraws(float(rho), float(overlap), rho_draws, overlap_draws)


def member_resamples(n_members: int, n_resamples: int, seed: int) -> np.ndarray:
    """Seeded (n_resamples, n_members) member positions drawn with replacement."""
    if n_members < 2:
        raise ValueError(f"{n_members} member(s); agreement needs at least two")
    return np.random.default_rng(seed).integers(0, n_members, size=(n_resamples, n_members))


def spearman_with_interval(
    a: np.ndarray, b: np.ndarray, resampled: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Spearman's rho of two vectors over the same members, and the percentile interval of its
    bootstrap over the member draws ``resampled`` (``member_resamples``; a draw in which one
    vector is constant has no rho: left out)."""
    ((a, b),) = _checked_pairs([(a, b)])
    rho = _spearman_rows(a[np.newaxis, :], b[np.newaxis, :])[0]
    low, high = percentile_interval(_spearman_rows(a[resampled], b[resampled]), confidence)
    return float(rho), low, high


def mean_with_interval(
    values: np.ndarray, resampled: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """The mean of per-member ``values`` and the percentile interval of its bootstrap over the
    member draws ``resampled`` (a share is the mean of a 0/1 vector)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = percentile_interval(values[resampled].mean(axis=1), confidence)
    return float(values.mean()), low, high


def agreement_verdict(low: float, high: float) -> str:
    """Reading of the interval of (dense-vs-ticket) - (dense-vs-dense) agreement."""
    if math.isnan(low) or math.isnan(high):
        return NEEDS_TWO_SEEDS
    if high < 0:
        return "ticket differs more than retraining"
    if low > 0:
        return "ticket agrees more than retraining"
    return "within the retraining level"


def compare_agreement(
    ticket_pairs: Sequence[ScorePair],
    dense_pairs: Sequence[ScorePair],
    n_resamples: int,
    seed: int,
    fraction: float = 0.01,
    confidence: float = 0.95,
) -> dict[str, float | int | str]:
    """Dense-vs-ticket agreement beside the dense-vs-dense level, with percentile intervals.

    ``ticket_pairs``: (dense seed s, ticket seed s) member scores; ``dense_pairs``: (dense seed s,
    dense seed s') for s < s', empty with one seed (then the level, the difference and the verdict
    are NaN and say so). Every pair is over the same members in the same order.
    """
    if not ticket_pairs:
        raise ValueError("no dense-vs-ticket pair to compare")
    n_members = np.asarray(ticket_pairs[0][0]).size
    resampled = member_resamples(n_members, n_resamples, seed)
    ticket = agreement_draws(ticket_pairs, resampled, fraction)
    dense = agreement_draws(dense_pairs, resampled, fraction)
    k = top_count(n_members, fraction)
    row: dict[str, float | int | str] = {
        "n_members": n_members,
        "top_k": k,
        "n_seed_pairs": len(ticket_pairs),
        "n_dense_pairs": len(dense_pairs),
    }
    row.update(_metric_columns("spearman", ticket, dense, confidence))
    if resolves_top_k(k):
        row.update(_metric_columns("jaccard", ticket, dense, confidence))
    else:
        row.update(_unresolved("jaccard", top_set_too_small(k)))
    return row


#: The three numbers of an agreement metric, by column suffix: dense vs ticket, the dense-vs-dense
#: level, and their difference.
_COMPARED = ("", "_dense_dense", "_difference")


def _metric_columns(
    metric: str, ticket: AgreementDraws, dense: AgreementDraws, confidence: float
) -> dict[str, float | str]:
    """One agreement metric: dense vs ticket, the dense-vs-dense level and their difference, each
    with its interval, and the verdict on the difference."""
    draws, level_draws = getattr(ticket, f"{metric}_draws"), getattr(dense, f"{metric}_draws")
    point, level = getattr(ticket, metric), getattr(dense, metric)
    row: dict[str, float | str] = {}
    for part, value, value_draws in zip(
        _COMPARED, (point, level, point - level), (draws, level_draws, draws - level_draws),
        strict=True,
    ):  # fmt: skip
        name = f"{metric}{part}"
        low, high = percentile_interval(value_draws, confidence)
        row.update({name: value, f"{name}_ci_low": low, f"{name}_ci_high": high})
    # The last interval drawn is the difference's: the verdict reads it.
    return {**row, f"{metric}_verdict": agreement_verdict(low, high)}


def _unresolved(metric: str, reason: str) -> dict[str, float | str]:
    """A metric's columns when the members cannot resolve it: NaN throughout, the verdict says
    why (the columns and order of ``_metric_columns``)."""
    names = [
        f"{metric}{part}{bound}" for part in _COMPARED for bound in ("", "_ci_low", "_ci_high")
    ]
    return {**dict.fromkeys(names, np.nan), f"{metric}_verdict": reason}
