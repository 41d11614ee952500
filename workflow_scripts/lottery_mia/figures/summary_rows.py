"""Choosing the summary rows a figure or table shows, and the note saying what its error bars are.

The seed means and intervals themselves are ``stats.over_seeds.seed_means_by_group``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from lottery_mia.figures.style import SPARSITY_TOLERANCE
from lottery_mia.stats.over_seeds import (
    INTERVAL_KINDS,
    NO_INTERVAL,
    ROW_BOOTSTRAP,
    SEEDS_AND_ROWS,
    SEEDS_ONLY,
)
from lottery_mia.summary import TEST_ACCURACY_INTERVAL

#: How a title names each kind of error bar (``seed_means_by_group``'s ``interval`` column).
INTERVAL_NOTES = {
    ROW_BOOTSTRAP: "bootstrap interval over evaluation rows",
    SEEDS_AND_ROWS: "interval over seeds and evaluation rows",
    SEEDS_ONLY: "t-interval over seeds",
}
#: What a one-seed test accuracy's bar is (``attack_steps.target_accuracy_interval``).
TEST_ROWS_NOTE = "Wilson interval over the test rows"


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{source} is missing column(s) {missing}; found columns {list(frame.columns)}"
        )


def rows_for_attack(summary: pd.DataFrame, attack: str) -> pd.DataFrame:
    """The summary rows of one attack, or an error listing the attacks that were run."""
    require_columns(summary, ("dataset", "arch", "seed", "sparsity", "attack"), "summary")
    rows = summary[summary["attack"] == attack]
    if rows.empty:
        found = sorted(summary["attack"].dropna().unique())
        raise ValueError(f"summary has no rows for attack {attack!r}; attacks present: {found}")
    return rows


def rows_of_method(summary: pd.DataFrame, method: str) -> pd.DataFrame:
    """The rows of one pruning method's tickets and of the dense model they all share."""
    if "method" not in summary.columns:
        return summary
    rows = summary[summary["method"].isin(["dense", method])]
    if not (rows["method"] == method).any():
        found = sorted(summary["method"].dropna().unique())
        raise ValueError(f"summary has no tickets of method {method!r}; methods present: {found}")
    return rows


def with_method(plot: Callable[..., Any]) -> Callable[..., Any]:
    """``plot`` (a figure or table of tickets vs the dense model) drawn for one pruning method."""

    def draw(summary: pd.DataFrame, method: str, **kwargs: Any) -> Any:
        return plot(summary=rows_of_method(summary, method), **kwargs)

    return draw


def nearest_sparsity(
    available: Iterable[float], requested: float, *, exclude_dense: bool = False
) -> float:
    """The available sparsity closest to ``requested`` (ties: the lower one).

    With ``exclude_dense`` the dense model (sparsity 0) is never chosen: a "ticket" must be pruned.
    """
    candidates = sorted({float(p) for p in available if not (exclude_dense and p == 0.0)})
    if not candidates:
        kind = "non-zero sparsity" if exclude_dense else "sparsity"
        raise ValueError(f"no {kind} available to match the requested sparsity {requested:g}")
    return min(candidates, key=lambda p: (abs(p - requested), p))


def same_sparsity(a: float, b: float) -> bool:
    return abs(a - b) <= SPARSITY_TOLERANCE


def sample_count_for(rows: pd.DataFrame, requested: int) -> tuple[int, str]:
    """Use ``requested`` if it was run, else the largest sample count run; say which in a note."""
    available = sorted(int(n) for n in rows["n_samples"].unique())
    if requested in available:
        return requested, f"n = {requested:,}"
    chosen = available[-1]
    return chosen, f"n = {chosen:,} ({requested:,} not run)"


def seed_note(
    stats: pd.DataFrame, rows_note: str = INTERVAL_NOTES[ROW_BOOTSTRAP], points: bool = True
) -> str:
    """Title suffix saying what the points and their error bars are, group by group: a figure
    mixing one-seed and several-seed groups names both kinds of bar. ``rows_note`` says what a
    one-seed bar is (a test accuracy's is not a bootstrap); ``points=False`` leaves out what the
    points are, for a second note in one title."""
    counts = sorted(set(stats["seeds"].astype(int)))
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    kinds = [kind for kind in INTERVAL_KINDS if kind in set(stats["interval"])]
    with_bars = [kind for kind in kinds if kind != NO_INTERVAL]
    mixed = len(with_bars) > 1  # then say which groups the one-seed bars are for
    names = {**INTERVAL_NOTES, ROW_BOOTSTRAP: rows_note}
    bars = [
        names[kind] + (" (one-seed groups)" if mixed and kind == ROW_BOOTSTRAP else "")
        for kind in with_bars
    ]
    notes = []
    if points:
        notes.append("one seed" if counts[-1] <= 1 else f"mean over {seeds} seeds")
    if bars:
        notes.append("bars: 95% " + "; ".join(bars))
    if 2 in counts and any(kind in (SEEDS_AND_ROWS, SEEDS_ONLY) for kind in kinds):
        notes.append("two seeds give the seed share 1 df")
    if NO_INTERVAL in kinds or stats["low"].isna().any():
        notes.append("no bar: no interval")
    return "; ".join(notes)


def model_accuracies(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per target model (dataset, arch, seed, sparsity) with its train and test accuracy
    and, where the summary has it, the test accuracy's interval over the test rows.

    The summary repeats a model's accuracies on every attack row; differing copies mean two runs
    were mixed in one summary, which is reported instead of silently averaged.
    """
    keys = ["dataset", "arch", "seed", "sparsity"]
    accuracies = ["train_accuracy", "test_accuracy"]
    require_columns(summary, (*keys, *accuracies), "summary")
    interval = [column for column in TEST_ACCURACY_INTERVAL if column in summary.columns]
    per_model = summary.groupby(keys, observed=True, sort=True)[[*accuracies, *interval]]
    spread = per_model.max()[accuracies] - per_model.min()[accuracies]
    inconsistent = spread[(spread > 1e-9).any(axis=1)]
    if not inconsistent.empty:
        first = dict(zip(keys, inconsistent.index[0], strict=True))
        raise ValueError(
            f"summary rows of model {first} disagree on train/test accuracy; expected every "
            "attack row of one model to carry the same accuracies"
        )
    return per_model.first().reset_index()
