"""Figure 6: generalisation gap (train - test accuracy) vs attack AUC, every model of the grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import chance_line, figure_legend, panel_grid
from lottery_mia.figures.style import arch_label, dataset_label, panels_for, save_figure, styled
from lottery_mia.figures.summary_rows import (
    require_columns,
    rows_for_attack,
    sample_count_for,
    with_method,
)


def gap_bars(points: pd.DataFrame) -> np.ndarray | None:
    """(2, n) horizontal bars of the gap: train accuracy is measured on every member, so the gap's
    interval is the test accuracy's (``test_accuracy_ci_low/high``) mirrored; None without one."""
    if not {"test_accuracy_ci_low", "test_accuracy_ci_high"} <= set(points.columns):
        return None
    test = points["test_accuracy"].to_numpy()
    bars = np.vstack(
        [points["test_accuracy_ci_high"].to_numpy() - test, test - points["test_accuracy_ci_low"]]
    )
    return bars if np.isfinite(bars).any() else None


def plot_gap_vs_auc(
    summary: pd.DataFrame,
    n_samples: int,
    attack: str,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
) -> Figure:
    """One point per model (architecture x sparsity x seed) at ``n_samples``: x the model's
    generalisation gap with its interval (``gap_bars``), y the attack's AUC with its 95%
    bootstrap interval."""
    rows = rows_for_attack(summary, attack)
    require_columns(rows, ("generalization_gap", "auc", "auc_ci_low", "auc_ci_high"), "summary")
    panels = panels_for(rows, style)
    with styled(panels.look):
        fig, axes = panel_grid(1, len(panels.datasets), 3.8, 3.2)
        for ax, dataset in zip(axes[0], panels.datasets, strict=True):
            in_dataset = rows[rows["dataset"] == dataset]
            n_used, note = sample_count_for(in_dataset, n_samples)
            at_n = in_dataset[in_dataset["n_samples"] == n_used]
            for arch in panels.archs:
                points = at_n[at_n["arch"] == arch]
                if points.empty:
                    continue
                auc = points["auc"].to_numpy()
                bars = np.vstack(
                    [auc - points["auc_ci_low"].to_numpy(), points["auc_ci_high"].to_numpy() - auc]
                )
                ax.errorbar(
                    points["generalization_gap"], auc, xerr=gap_bars(points), yerr=bars,
                    linestyle="none", capsize=2, markersize=5,  # NaN: no bar
                    label=arch_label(arch), **panels.arch_looks[arch],
                )  # fmt: skip
            chance_line(ax)
            ax.set_xlabel("Generalisation gap (train - test accuracy)")
            ax.set_ylabel("Attack AUC")
            ax.set_title(f"{dataset_label(dataset)}, {note}")
        fig.suptitle(
            f"Does the gap predict leakage? ({attack} attack; every model)\n"
            "bars: AUC 95% bootstrap interval; gap: 95% Wilson interval of the test accuracy"
        )
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, panels.look.dpi)
    return fig


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_gap_vs_auc"
draw = with_method(plot_gap_vs_auc)
