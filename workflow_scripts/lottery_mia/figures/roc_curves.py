"""Figure 5: ROC curves on log-log axes, dense model vs its tickets (Carlini et al. 2022), each
with its pointwise 95% bootstrap band (``stats.roc_band``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.attack_scores import ScoreKey, read_score_files
from lottery_mia.figures.axes import figure_legend, panel_grid
from lottery_mia.figures.style import (
    arch_label,
    dataset_label,
    figure_style,
    ordered_archs,
    ordered_datasets,
    save_figure,
    sparsity_label,
    styled,
)
from lottery_mia.stats.metrics import roc_points
from lottery_mia.stats.roc_band import roc_band


def plot_roc_curves(
    scores: Mapping[ScoreKey, pd.DataFrame],
    attacks: Sequence[str],
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
    bootstrap: Mapping[str, int],
) -> Figure:
    """One panel per attack (rows) and dataset x architecture (columns): the ROC curve of the
    dense model and of each ticket (first seed), on log-log axes from one row to 1, each in a
    band of its pointwise 95% interval (``bootstrap``: the attacks' resamples and seed).

    Each axis starts at its resolution: FPR 1/(non-members) and TPR 1/(members); rates below it
    are drawn at the axis floor. The dotted diagonal is a guessing attack.
    """
    look = figure_style(style)
    keys = list(scores)
    columns = [
        (dataset, arch)
        for dataset in ordered_datasets(k[1] for k in keys)
        for arch in ordered_archs(k[2] for k in keys if k[1] == dataset)
    ]
    sparsities = sorted({k[4] for k in keys})
    colours = dict(zip(sparsities, sns.color_palette("rocket_r", len(sparsities)), strict=True))
    with styled(look):
        fig, axes = panel_grid(len(attacks), len(columns), 3.0, 3.0)
        for row, attack in enumerate(attacks):
            for column, (dataset, arch) in enumerate(columns):
                ax = axes[row, column]
                curves = _panel_keys(keys, attack, dataset, arch)
                if not curves:  # e.g. LiRA where attack.reference_archs gives no references
                    ax.set_axis_off()
                    ax.text(0.5, 0.5, f"{attack}: not run\nfor {arch_label(arch)}",
                            ha="center", va="center", transform=ax.transAxes)  # fmt: skip
                    continue
                for key in curves:
                    _draw_curve(ax, scores[key], sparsity_label(key[4]).replace("\n", " "),
                                colours[key[4]], bootstrap)  # fmt: skip
                n_samples = curves[0][5] if curves else "?"
                ax.set_title(
                    f"{dataset_label(dataset)}, {arch_label(arch)}\n{attack}, n = {n_samples}"
                )
        fig.suptitle(
            "ROC curves of the attacks (log-log; first seed; bands: pointwise 95% bootstrap)"
        )
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


def _panel_keys(keys: Sequence[ScoreKey], attack: str, dataset: str, arch: str) -> list[ScoreKey]:
    """The scores of one panel: each sparsity's model of the first seed, dense first."""
    here = [k for k in keys if k[:3] == (attack, dataset, arch)]
    if not here:
        return []
    first_seed = min(k[3] for k in here)
    return sorted((k for k in here if k[3] == first_seed), key=lambda k: k[4])


def _draw_curve(
    ax: Any, frame: pd.DataFrame, label: str, colour: Any, bootstrap: Mapping[str, int]
) -> None:
    member, score = frame["member"].to_numpy(), frame["score"].to_numpy()
    curve = roc_points(member, score)
    fpr, tpr = curve.for_log_axes()
    ax.step(fpr, tpr, where="post", color=colour, label=label, linewidth=1.4)
    band = roc_band(member, score, bootstrap["resamples"], bootstrap["seed"])
    low, high = (np.clip(edge, curve.min_tpr, 1.0) for edge in (band.low, band.high))
    ax.fill_between(band.fpr, low, high, step="post", color=colour, alpha=0.15, linewidth=0)
    floor = min(curve.min_fpr, curve.min_tpr)
    chance = np.array([floor, 1.0])
    ax.plot(chance, chance, linestyle=":", color="0.4", linewidth=1.0, label="chance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(curve.min_fpr, 1.0)
    ax.set_ylim(curve.min_tpr, 1.05)
    ax.set_xlabel(f"False-positive rate (from 1/{round(1 / curve.min_fpr)})")
    ax.set_ylabel("True-positive rate")


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_roc_curves"


def draw(
    scores: Sequence[PathLike],
    score_keys: Sequence[Mapping[str, Any]],
    attacks: Sequence[str],
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
    bootstrap: Mapping[str, int],
) -> Figure:
    """Figure 5 from the rule's params: the scores files (``scores``) and their keys."""
    curves = read_score_files(score_keys, scores)
    return plot_roc_curves(curves, attacks, png, pdf, style, bootstrap)
