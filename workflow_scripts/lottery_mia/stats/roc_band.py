"""A ROC curve's pointwise 95% band, for the log-log ROC figure (Figure 5).

At a false-positive budget of k non-members (FPR k / n), the curve's TPR is the share of members
scored strictly above the (k + 1)-th highest non-member score: the most an attack can flag with
at most k false alarms, which is the ROC step function's value at FPR k / n. The band is the
percentile interval of that TPR over the stratified bootstrap (``resampling.bootstrap_index_blocks``,
the resamples of every other interval), at about 40 budgets log-spaced from 1 to n non-members:
the region of the curve where it is wide is noise, however far apart the curves look there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lottery_mia.stats.metrics import checked_scores
from lottery_mia.stats.resampling import bootstrap_index_blocks

#: Log-spaced false-positive budgets per curve (fewer where the non-members are fewer).
BAND_POINTS = 40


@dataclass(frozen=True)
class RocBand:
    """TPR at each FPR of ``fpr`` (k / non-members), and its pointwise percentile interval."""

    fpr: np.ndarray
    tpr: np.ndarray
    low: np.ndarray
    high: np.ndarray


def false_positive_budgets(n_non_members: int, points: int = BAND_POINTS) -> np.ndarray:
    """Distinct budgets k from 1 to ``n_non_members``, log-spaced."""
    budgets = np.floor(np.geomspace(1, n_non_members, points) + 1e-9).astype(np.int64)
    return np.unique(budgets)


def tpr_within_budgets(
    member_scores: np.ndarray, non_member_scores: np.ndarray, budgets: np.ndarray
) -> np.ndarray:
    """(resamples, budgets) TPR: rows of ``member_scores`` above the (k + 1)-th highest score of
    the same row of ``non_member_scores``, for each budget k (k = all non-members: every member)."""
    ranked = -np.sort(-non_member_scores, axis=1)
    padded = np.concatenate([ranked, np.full((ranked.shape[0], 1), -np.inf)], axis=1)
    thresholds = padded[:, budgets]
    members = np.sort(member_scores, axis=1)
    at_or_below = np.stack(
        [
            np.searchsorted(row, cut, side="right")
            for row, cut in zip(members, thresholds, strict=True)
        ]
    )
    return (members.shape[1] - at_or_below) / members.shape[1]


def roc_band(
    member: np.ndarray, score: np.ndarray, n_resamples: int, seed: int, confidence: float = 0.95
) -> RocBand:
    """The curve's TPR at log-spaced FPR budgets and its pointwise bootstrap interval."""
    member, score = checked_scores(member, score)
    budgets = false_positive_budgets(int((~member).sum()))
    point = tpr_within_budgets(score[member][np.newaxis], score[~member][np.newaxis], budgets)[0]
    # Every resample keeps each column's class (stratified), so the member mask still applies.
    blocks = []
    for rows in bootstrap_index_blocks(member, n_resamples, seed):
        drawn = score[rows]
        blocks.append(tpr_within_budgets(drawn[:, member], drawn[:, ~member], budgets))
    draws = np.concatenate(blocks)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
    return RocBand(budgets / (~member).sum(), point, low, high)
