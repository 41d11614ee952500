"""Which attacks' membership scores depend on their sample count n. Light: the planner and the
table job read it without scikit-learn."""

from __future__ import annotations

from lottery_mia.membership_signals import METRIC_SIGNALS
from lottery_mia.reference_keep import SCORE_REFERENCE_ATTACKS


def scores_depend_on_n(attack: str) -> bool:
    """A global threshold attack scores by its signal alone (n only moves its threshold, so
    ``predicted``), and LiRA and RMIA fit nothing on the target's rows: their AUC and TPR are the
    same at every n. Learned attacks and per-class thresholds are fitted on n rows."""
    return attack not in (*METRIC_SIGNALS, *SCORE_REFERENCE_ATTACKS)


def compared_sample_counts(attack: str, sample_counts: list[int]) -> list[int]:
    """The sample counts at which Table 1 compares ``attack``: every n, or only the largest for an
    attack whose scores do not depend on n, so that Holm's adjustment counts each test once."""
    counts = sorted(sample_counts)
    return counts if scores_depend_on_n(attack) else counts[-1:]
