"""Axes shared by the figures: sparsity and sample-count axes, metric axes, legends, panels."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator, PercentFormatter

from lottery_mia.figures.style import (
    CHANCE_LEVEL,
    METRIC_LABELS,
    PERCENT_METRICS,
    SAMPLES_AXIS_LABEL,
    sparsity_label,
)

_MAX_UPRIGHT_TICKS = 5


def rotate_tick_labels(ax: plt.Axes) -> None:
    """Slant crowded x tick labels, anchored at their tick so they do not run into each other."""
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")


def sparsity_axis(ax: plt.Axes, sparsities: Iterable[float]) -> None:
    """Log-spaced axis of weights kept, ticked and labelled with the sparsities of the grid."""
    grid = sorted({float(p) for p in sparsities})
    crowded = len(grid) > _MAX_UPRIGHT_TICKS
    labels = [sparsity_label(p) for p in grid]
    if crowded:  # slanted labels read badly on two lines
        labels = [label.replace("\n", " ") for label in labels]
    kept = [1.0 - p for p in grid]
    ax.set_xscale("log")
    ax.set_xticks(kept, labels)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(max(kept) * 1.25, min(kept) / 1.25)  # reversed: sparsity grows to the right
    ax.set_xlabel("Sparsity (% of prunable weights pruned, log-spaced)")
    if crowded:
        rotate_tick_labels(ax)


def sparsity_panel_width(summary: pd.DataFrame, base: float) -> float:
    """Panel width in inches: wider when the sparsity grid has many ticks to label."""
    n_ticks = summary.groupby("dataset", observed=True)["sparsity"].nunique().max()
    return max(base, 0.38 * n_ticks + 0.8)


def samples_axis(ax: plt.Axes, counts: Iterable[int]) -> None:
    """Axis of attack training samples, log-scaled when the counts span a factor of 10 or more."""
    grid = sorted({int(n) for n in counts})
    if grid[-1] / grid[0] >= 10:
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(grid, [f"{n:,}" for n in grid])
    if len(grid) > _MAX_UPRIGHT_TICKS:
        rotate_tick_labels(ax)
    ax.set_xlabel(SAMPLES_AXIS_LABEL)


def metric_axis(ax: plt.Axes, metric: str, prefix: str) -> None:
    if metric in PERCENT_METRICS:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, symbol=""))
        ax.set_ylabel(f"{prefix}{METRIC_LABELS[metric]} (%)")
    else:
        ax.set_ylabel(f"{prefix}{METRIC_LABELS[metric]}")


def chance_line(ax: plt.Axes) -> None:
    ax.axhline(CHANCE_LEVEL, linestyle="--", color="0.35", linewidth=1.0, label="chance (0.5)")


def draw_series(
    ax: plt.Axes, x: Sequence[float], stats: pd.DataFrame, label: str, look: Mapping[str, Any]
) -> None:
    """One line with markers and its 95% intervals (``low``, ``high``) as error bars, where known.

    A point without an interval (NaN) gets no bar at all: a zero-length bar would read as "no
    uncertainty". The bars take part in autoscaling, so the y axis never zooms in further than
    the noise.
    """
    mean = stats["mean"].to_numpy(dtype=float)
    bars = np.vstack([mean - stats["low"].to_numpy(dtype=float), stats["high"] - mean])
    has_bars = bool(np.isfinite(bars).any())
    ax.errorbar(
        x,
        mean,
        yerr=bars if has_bars else None,  # a NaN bar is left out by matplotlib
        label=label,
        capsize=3 if has_bars else 0,
        linewidth=1.5,
        markersize=5,
        **look,
    )


def figure_legend(fig: Figure, axes: np.ndarray, extra: Sequence[Any] = ()) -> None:
    """One legend for the whole figure, below the panels (each panel shows the same series),
    plus ``extra`` labelled proxy artists for what the axes draw without a label."""
    handles: dict[str, Any] = {}
    for handle in extra:
        handles.setdefault(handle.get_label(), handle)
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="outside lower center",
        ncol=len(handles),
        frameon=False,
    )


def panel_grid(nrows: int, ncols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width * ncols, height * nrows + 0.6),
        squeeze=False,
        layout="constrained",
    )
    return fig, axes


def boxplot(data: pd.DataFrame, ax: plt.Axes, **options: Any) -> None:
    """``seaborn.boxplot``, without the deprecation warning it triggers in matplotlib 3.11 (it
    passes the deprecated ``vert``): seaborn's code, not ours, so kept out of the figure logs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="vert: bool was deprecated")
        sns.boxplot(data, ax=ax, **options)
