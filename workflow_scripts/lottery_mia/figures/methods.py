"""The methods figure: attack AUC and test accuracy vs sparsity, one line per pruning method.

Every method's line starts at the dense model (sparsity 0), which all methods share. With one
seed the AUC carries its bootstrap interval (the summary's ``auc_ci_low``/``auc_ci_high``, when
the attack results have them); with several seeds, points are means with one standard deviation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import (
    chance_line,
    figure_legend,
    metric_axis,
    panel_grid,
    sparsity_axis,
    sparsity_panel_width,
)
from lottery_mia.figures.selection import require_columns, rows_for_attack, sample_count_for
from lottery_mia.figures.style import (
    arch_label,
    dataset_label,
    figure_style,
    ordered_archs,
    ordered_datasets,
    save_figure,
    styled,
)

_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
_CI_COLUMNS = ("auc_ci_low", "auc_ci_high")


def method_lines(rows: pd.DataFrame, value: str) -> pd.DataFrame:
    """Per (dataset, arch, method, sparsity): mean of ``value`` over seeds, its s.d., the seed
    count and, for ``auc`` with interval columns, the mean interval bounds. The dense model's
    rows are repeated under every ticket method, so each line starts at sparsity 0."""
    require_columns(rows, ("dataset", "arch", "seed", "method", "sparsity", value), "summary")
    methods = sorted(set(rows["method"]) - {"dense"})
    dense = rows[rows["method"] == "dense"]
    lines = pd.concat([rows[rows["method"] != "dense"], *(dense.assign(method=m) for m in methods)])
    keys = ["dataset", "arch", "method", "sparsity"]
    columns = [value, *(c for c in _CI_COLUMNS if value == "auc" and c in rows.columns)]
    grouped = lines.groupby(keys, observed=True, sort=True)
    stats = grouped[columns].mean().rename(columns={value: "mean"})
    stats["std"] = grouped[value].std().fillna(0.0)
    stats["seeds"] = grouped["seed"].nunique()
    return stats.reset_index()


def _draw(ax: Any, line: pd.DataFrame, label: str, look: Mapping[str, Any]) -> None:
    x = 1.0 - line["sparsity"].to_numpy()
    several = bool((line["seeds"] > 1).any())
    if several:
        errors = line["std"].to_numpy()
    elif {"auc_ci_low", "auc_ci_high"} <= set(line.columns):
        errors = np.vstack([line["mean"] - line["auc_ci_low"], line["auc_ci_high"] - line["mean"]])
    else:
        errors = None
    ax.errorbar(x, line["mean"], yerr=errors, label=label, capsize=3, linewidth=1.4,
                markersize=4.5, alpha=0.9, **look)  # fmt: skip


def plot_methods(
    summary: pd.DataFrame,
    attack: str,
    n_samples: int,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
) -> Figure:
    """Attack AUC (top) and test accuracy (bottom) vs sparsity, one line per pruning method, one
    column per dataset and architecture."""
    rows = rows_for_attack(summary, attack)
    n_samples, n_note = sample_count_for(rows, n_samples)
    rows = rows[rows["n_samples"] == n_samples]
    look = figure_style(style)
    methods = sorted(set(rows["method"]) - {"dense"})
    colours = sns.color_palette(look.palette, len(methods))
    method_looks = {
        m: {"color": colours[i], "marker": _MARKERS[i % len(_MARKERS)]}
        for i, m in enumerate(methods)
    }
    panels = [
        (d, a)
        for d in ordered_datasets(rows["dataset"])
        for a in ordered_archs(rows[rows["dataset"] == d]["arch"])
    ]
    auc, accuracy = method_lines(rows, "auc"), method_lines(rows, "test_accuracy")
    several_seeds = bool((auc["seeds"] > 1).any())
    has_ci = set(_CI_COLUMNS) <= set(auc.columns)
    interval = (
        "mean ± s.d. over seeds"
        if several_seeds
        else ("95% bootstrap interval" if has_ci else "no interval")
    )
    with styled(look):
        fig, axes = panel_grid(2, len(panels), sparsity_panel_width(rows, 3.4), 2.8)
        for column, (dataset, arch) in enumerate(panels):
            for row, (stats, metric, prefix) in enumerate(
                ((auc, "auc", "Attack "), (accuracy, "accuracy", "Test "))
            ):
                ax = axes[row, column]
                here = stats[(stats["dataset"] == dataset) & (stats["arch"] == arch)]
                for method in methods:
                    line = here[here["method"] == method].sort_values("sparsity")
                    if not line.empty:
                        _draw(ax, line, method, method_looks[method])
                sparsity_axis(ax, here["sparsity"])
                metric_axis(ax, metric, prefix)
                if row == 0:
                    chance_line(ax)
                    ax.set_title(f"{dataset_label(dataset)}, {arch_label(arch)}")
        fig.suptitle(
            f"Pruning methods: {attack} attack AUC ({n_note}; {interval}) and test accuracy"
        )
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig
