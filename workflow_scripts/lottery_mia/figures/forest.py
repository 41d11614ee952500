"""The forest plot: Table 1's ticket - dense AUC difference of every attack, with its intervals.

One panel per dataset and architecture, one row per attack (and sample count): the point is the
difference, the thick bar its 90% interval (what the verdict reads against the margin), the thin
bar its 95% interval (the two-sided test). The shaded band is the equivalence margin: a thick bar
inside it is ``equivalent``; a thin bar clear of 0 is a difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import panel_grid
from lottery_mia.figures.style import (
    arch_label,
    dataset_label,
    figure_style,
    ordered_archs,
    ordered_datasets,
    save_figure,
    styled,
)
from lottery_mia.figures.summary_rows import require_columns

#: Marker of each Holm verdict: filled where the table concludes, hollow where it does not.
VERDICT_MARKERS: dict[str, dict[str, Any]] = {
    "equivalent": {"marker": "o", "fillstyle": "full"},
    "ticket leaks more": {"marker": ">", "fillstyle": "full"},
    "ticket leaks less": {"marker": "<", "fillstyle": "full"},
    "inconclusive": {"marker": "o", "fillstyle": "none"},
}
_NEEDED = (
    "attack",
    "dataset",
    "arch",
    "n_samples",
    "auc_difference",
    "auc_difference_ci_low",
    "auc_difference_ci_high",
    "auc_difference_ci90_low",
    "auc_difference_ci90_high",
    "equivalence_margin",
    "verdict_holm",
    "n_seeds",
)


def plot_forest(
    table: pd.DataFrame, png: PathLike, pdf: PathLike, style: Mapping[str, Any]
) -> Figure:
    """Draw Table 1's AUC differences (``table1.csv``) as a forest plot; see the module's note."""
    require_columns(table, _NEEDED, "table1.csv")
    look = figure_style(style)
    panels = [
        (dataset, arch)
        for dataset in ordered_datasets(table["dataset"])
        for arch in ordered_archs(table.loc[table["dataset"] == dataset, "arch"])
    ]
    height = 0.45 * max(len(_rows(table, *panel)) for panel in panels) + 1.0
    margin = float(table["equivalence_margin"].iloc[0])
    with styled(look):
        fig, axes = panel_grid(1, len(panels), 4.2, height)
        limits = _shared_limits(table, margin)  # one scale: panels compare at a glance
        for ax, (dataset, arch) in zip(axes[0], panels, strict=True):
            _draw_panel(ax, _rows(table, dataset, arch), margin)
            ax.set_xlim(*limits)
            ax.set_title(f"{dataset_label(dataset)}, {arch_label(arch)}")
        fig.suptitle(
            f"Ticket - dense AUC per attack (thick: 90% interval, thin: 95%; band: ±{margin:g} "
            f"equivalence margin; {_seed_note(table)})"
        )
        _verdict_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


def _rows(table: pd.DataFrame, dataset: str, arch: str) -> pd.DataFrame:
    rows = table[(table["dataset"] == dataset) & (table["arch"] == arch)]
    several_n = rows["n_samples"].nunique() > 1
    labels = [
        f"{row.attack} (n={row.n_samples:,})" if several_n else str(row.attack)
        for row in rows.itertuples()
    ]
    return rows.assign(label=labels)


def _draw_panel(ax: Any, rows: pd.DataFrame, margin: float) -> None:
    y = np.arange(len(rows))[::-1]  # the table's first attack on top
    ax.axvspan(-margin, margin, color="0.88", zorder=0, label=f"±{margin:g} margin")
    ax.axvline(0.0, color="0.35", linewidth=1.0, linestyle="--")
    for position, row in zip(y, rows.itertuples(), strict=True):
        if math.isnan(row.auc_difference_ci_low):  # no interval: draw the point, no bar
            ax.plot([row.auc_difference], [position], color="C0", **_marker(row.verdict_holm))
            continue
        ax.plot(
            [row.auc_difference_ci_low, row.auc_difference_ci_high],
            [position] * 2,
            color="C0",
            linewidth=1.0,
        )
        ax.plot(
            [row.auc_difference_ci90_low, row.auc_difference_ci90_high],
            [position] * 2,
            color="C0",
            linewidth=3.5,
            solid_capstyle="butt",
        )
        ax.plot(
            [row.auc_difference],
            [position],
            color="C0",
            markersize=7,
            markerfacecolor="white" if row.verdict_holm == "inconclusive" else "C0",
            **_marker(row.verdict_holm),
        )
    ax.set_yticks(y, rows["label"])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("AUC ticket - dense")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # narrow panels: few ticks


def _shared_limits(table: pd.DataFrame, margin: float) -> tuple[float, float]:
    """x limits that keep the margin band and every interval of every panel on screen."""
    low = np.nanmin([table["auc_difference_ci_low"].min(), table["auc_difference"].min(), -margin])
    high = np.nanmax([table["auc_difference_ci_high"].max(), table["auc_difference"].max(), margin])
    pad = 0.1 * (high - low)
    return float(low - pad), float(high + pad)


def _marker(verdict: str) -> dict[str, Any]:
    return {"linestyle": "none", **VERDICT_MARKERS.get(verdict, VERDICT_MARKERS["inconclusive"])}


def _seed_note(table: pd.DataFrame) -> str:
    seeds = sorted(set(table["n_seeds"].astype(int)))
    if seeds == [1]:
        return "one seed: paired bootstrap over evaluation rows"
    counts = ", ".join(str(s) for s in seeds)
    return f"{counts} seeds: interval over seeds and evaluation rows"


def _verdict_legend(fig: Figure, axes: np.ndarray) -> None:
    handles = [
        Line2D(
            [],
            [],
            color="C0",
            markerfacecolor="white" if name == "inconclusive" else "C0",
            **_marker(name),
            label=name,
        )
        for name in VERDICT_MARKERS
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles),
        frameon=False,
        title="verdict (Holm-adjusted over the table)",
    )


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_forest"
draw = plot_forest
