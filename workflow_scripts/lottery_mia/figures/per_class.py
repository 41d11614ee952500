"""Per-class vulnerability: attack AUC within each class label, dense model vs its ticket.

The table drawn here is ``per_class_table.per_class_table``'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import boxplot, chance_line, figure_legend, panel_grid
from lottery_mia.figures.style import (
    CHANCE_LEVEL,
    arch_label,
    dataset_label,
    figure_style,
    ordered_datasets,
    save_figure,
    styled,
)
from lottery_mia.stats.resampling import MIN_CLASS_ROWS

#: Label of the grey band, so that a reader of the figure object can find it.
SAMPLING_BAND_LABEL = "median class's 95% interval"
#: What a panel says when no class has enough evaluation rows for an AUC.
NO_RATED_CLASS = (
    f"no class has {MIN_CLASS_ROWS} evaluated members\nand {MIN_CLASS_ROWS} non-members: "
    "no per-class AUC"
)


def plot_per_class(
    table: pd.DataFrame, png: PathLike, pdf: PathLike, style: Mapping[str, Any]
) -> Figure:
    """Distribution of per-class AUC (box) with every class as a point, dense vs ticket, per
    architecture; a distribution, so 1,000 classes read as well as 10.

    A class holds few evaluation rows, so its AUC is noisy: a grey band around chance shows the
    median class's 95% interval (``sampling_band``, its half-width in the panel's title), the
    spread that sampling alone gives."""
    look = figure_style(style)
    datasets = ordered_datasets(table["dataset"])
    models = sorted(table["model"].unique(), key=lambda model: (model != "dense", model))
    with styled(look):
        fig, axes = panel_grid(1, len(datasets), 4.0, 3.2)
        for ax, dataset in zip(axes[0], datasets, strict=True):
            rows = table[table["dataset"] == dataset].assign(
                architecture=lambda frame: frame["arch"].map(arch_label)
            )
            half = sampling_band(rows)
            if np.isfinite(half):
                ax.axhspan(CHANCE_LEVEL - half, CHANCE_LEVEL + half, color="0.9", zorder=0,
                           label=SAMPLING_BAND_LABEL)  # fmt: skip
            rated = rows.dropna(subset=["auc"])
            if rated.empty:
                ax.text(0.5, 0.5, NO_RATED_CLASS, ha="center", va="center", transform=ax.transAxes)
            else:
                _class_boxes(ax, rated, models, look.palette)
            chance_line(ax)
            band = f"; band ±{half:.2f}" if np.isfinite(half) else ""
            ax.set_title(f"{dataset_label(dataset)} ({_class_count(rows)}{band})")
            ax.set_ylabel("Attack AUC within a class")
            ax.set_xlabel("")
        _model_legend(fig, axes, models, look.palette)
        fig.suptitle(
            "Per-class vulnerability: attack AUC by class label, dense vs ticket\n"
            "grey band: the median class's 95% interval around chance (sampling noise alone)"
        )
        save_figure(fig, png, pdf, look.dpi)
    return fig


def _class_boxes(ax: Any, rated: pd.DataFrame, models: list[str], palette: Any) -> None:
    """A box per architecture and model over the classes with an AUC, each class a dot."""
    boxplot(rated, ax, x="architecture", y="auc", hue="model", hue_order=models,
            fliersize=0, palette=palette, legend=False)  # fmt: skip
    with _seeded_jitter():
        sns.stripplot(rated, x="architecture", y="auc", hue="model", hue_order=models,
                      dodge=True, ax=ax, size=3, palette="dark:0.25", legend=False)  # fmt: skip


def _class_count(rows: pd.DataFrame) -> str:
    """``10 classes``, or ``4 of 10 classes rated`` when some class has too few evaluation rows
    for an AUC under every model (``stats.resampling.MIN_CLASS_ROWS``)."""
    n_classes, n_rated = rows["label"].nunique(), rows.dropna(subset=["auc"])["label"].nunique()
    return (
        f"{n_classes} classes"
        if n_rated == n_classes
        else f"{n_rated} of {n_classes} classes rated"
    )


def sampling_band(rows: pd.DataFrame) -> float:
    """Half-width of the median class's 95% interval: how far from chance a class's AUC may
    lie by the sampling of its few evaluation rows alone (NaN when no class has an interval)."""
    half_widths = (rows["auc_ci_high"] - rows["auc_ci_low"]) / 2
    return float(half_widths.median()) if half_widths.notna().any() else float("nan")


def _model_legend(fig: Figure, axes: np.ndarray, models: list[str], palette: Any) -> None:
    """One legend below the panels: the models' box colours, chance and the sampling band."""
    colours = sns.color_palette(palette, n_colors=len(models))
    boxes = [
        Patch(facecolor=colour, label=model) for model, colour in zip(models, colours, strict=True)
    ]
    figure_legend(fig, axes, extra=boxes)


@contextlib.contextmanager
def _seeded_jitter(seed: int = 0) -> Iterator[None]:
    """seaborn jitters strip points with numpy's global generator: seed it for this call only,
    so the same table always gives the same figure (and restore what the caller had)."""
    state = np.random.get_state()  # noqa: NPY002 (the generator seaborn draws from)
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _frequency_panel(ax: Any, rows: pd.DataFrame, look: Any) -> None:
    """AUC with its interval against the class's training frequency, one colour per model."""
    colours = sns.color_palette(look.palette, n_colors=rows["model"].nunique())
    rated = rows["class_frequency"][rows["auc"].notna()]  # the x range of what is drawn
    spread = rated.max() / max(rated.min(), 1) if not rated.empty else 1.0
    for i, (model, group) in enumerate(rows.groupby("model", sort=True)):
        # dodge the two models apart by 2% of x so that their bars do not overlap
        x = group["class_frequency"] * (1.02 if i else 0.98)
        ax.errorbar(
            x, group["auc"],
            yerr=[group["auc"] - group["auc_ci_low"], group["auc_ci_high"] - group["auc"]],
            fmt="o", ms=4, capsize=2, color=colours[i], label=model,
        )  # fmt: skip
    if spread >= 10:
        ax.set_xscale("log")
    chance_line(ax)
    ax.set_xlabel("Training examples of the class")
    ax.set_ylabel("Attack AUC within the class")


def plot_per_class_frequency(
    table: pd.DataFrame, png: PathLike, pdf: PathLike, style: Mapping[str, Any]
) -> Figure:
    """Per-class AUC (95% interval) against the class's training frequency, dense vs ticket, one
    panel per dataset x architecture (first seed): does a rare class leak more?"""
    look = figure_style(style)
    panels = table.dropna(subset=["class_frequency"])
    panels = panels[panels["seed"] == panels["seed"].min()]
    keys = sorted({(d, a) for d, a in zip(panels["dataset"], panels["arch"], strict=True)})
    with styled(look):
        fig, axes = panel_grid(1, max(len(keys), 1), 4.0, 3.2)
        for ax, (dataset, arch) in zip(axes[0], keys, strict=False):
            rows = panels[(panels["dataset"] == dataset) & (panels["arch"] == arch)]
            _frequency_panel(ax, rows, look)
            attack = rows["attack"].iloc[0]
            unrated = rows.loc[rows["auc"].isna(), "label"].nunique()
            classes = "class" if unrated == 1 else "classes"
            missing = f"\n{unrated} {classes} with too few rows: no AUC" if unrated else ""
            ax.set_title(f"{dataset_label(dataset)}, {arch_label(arch)} ({attack}){missing}")
            ax.legend(fontsize="x-small")
        fig.suptitle("Per-class vulnerability against class frequency in training, dense vs ticket")
        save_figure(fig, png, pdf, look.dpi)
    return fig
