"""Tested verdicts on ticket - dense: p-values, Holm's adjustment, and the equivalence verdict.

A difference in leakage is only worth reporting if it is larger than a margin that matters
(``DEFAULT_MARGIN`` in AUC), so the verdict asks two questions: is the difference bounded inside
the margin (equivalence, two one-sided tests), and is it non-zero (two-sided test)? Table 1 asks
them for many rows at once, so its p-values are adjusted by Holm over the table. Definitions:
``docs/attacks_and_statistics.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from lottery_mia.stats.metrics import FPR_BOUNDS

DEFAULT_MARGIN = 0.02
Verdict = Literal["equivalent", "ticket leaks more", "ticket leaks less", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = (
    "equivalent",
    "ticket leaks more",
    "ticket leaks less",
    "inconclusive",
)


class Difference(Protocol):
    """What a verdict reads of a difference (``stats.paired.PairedDifference`` is one): its
    estimate, 95% and 90% intervals, and p-values at a margin."""

    @property
    def estimate(self) -> float: ...

    @property
    def ci95(self) -> tuple[float, float]: ...

    @property
    def ci90(self) -> tuple[float, float]: ...

    def verdict(self, margin: float) -> Verdict: ...

    def p_values(self, margin: float) -> tuple[float, float]: ...


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


def equivalence_verdict(difference: Difference, margin: float = DEFAULT_MARGIN) -> Verdict:
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


def difference_columns(differences: Mapping[str, Difference], margin: float) -> dict[str, Any]:
    """Table columns: each difference with its 95% and 90% intervals (the verdict reads the 90%
    one against the margin), and the AUC verdict with its p-values at ``margin``."""
    columns: dict[str, Any] = {}
    for name, difference in differences.items():
        prefix = "tpr" if name in FPR_BOUNDS else name
        columns[f"{prefix}_difference"] = difference.estimate
        columns[f"{prefix}_difference_ci_low"], columns[f"{prefix}_difference_ci_high"] = (
            difference.ci95
        )
        columns[f"{prefix}_difference_ci90_low"], columns[f"{prefix}_difference_ci90_high"] = (
            difference.ci90
        )
    columns["verdict"] = differences["auc"].verdict(margin)
    columns["equivalence_margin"] = float(margin)
    columns["p_difference"], columns["p_equivalence"] = differences["auc"].p_values(margin)
    return columns


def with_holm_verdicts(table: pd.DataFrame, level: float = 0.05) -> pd.DataFrame:
    """``table`` with each AUC p-value adjusted by Holm over all its rows (each test a family of
    its own: differences, equivalences) and the verdict those adjusted p-values give. Table 1
    makes one comparison per dataset, architecture and sample count; at 5% each, one of twenty
    true nulls would read as an effect by chance."""
    adjusted = table.assign(
        p_difference_holm=holm_adjusted(table["p_difference"].to_numpy(dtype=float)),
        p_equivalence_holm=holm_adjusted(table["p_equivalence"].to_numpy(dtype=float)),
    )
    adjusted["verdict_holm"] = [
        verdict_from_p_values(
            row.p_difference_holm, row.p_equivalence_holm, row.auc_difference, level
        )
        for row in adjusted.itertuples(index=False)
    ]
    return adjusted
