"""The methods figure: attack AUC and test accuracy vs sparsity, one line per pruning method.

Every method's line starts at the dense model (sparsity 0), which all methods share. Points and
bars are those of every figure (``stats.over_seeds.seed_means_by_group``): one seed's bootstrap interval, or
with several seeds the interval over seeds and evaluation rows; test accuracy has a t-interval
over seeds only (it is measured on the whole test pool).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import (
    chance_line,
    draw_series,
    figure_legend,
    metric_axis,
    panel_grid,
    sparsity_axis,
    sparsity_panel_width,
)
from lottery_mia.figures.style import (
    arch_label,
    dataset_label,
    figure_style,
    ordered_archs,
    ordered_datasets,
    save_figure,
    styled,
)
from lottery_mia.figures.summary_rows import (
    TEST_ROWS_NOTE,
    require_columns,
    rows_for_attack,
    sample_count_for,
    seed_note,
)
from lottery_mia.stats.over_seeds import seed_means_by_group

_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")


def method_lines(rows: pd.DataFrame, value: str) -> pd.DataFrame:
    """Per (dataset, arch, method, sparsity): ``stats.over_seeds.seed_means_by_group`` of ``value``. The
    dense model's rows are repeated under every ticket method, so each line starts at sparsity 0."""
    require_columns(rows, ("dataset", "arch", "seed", "method", "sparsity", value), "summary")
    methods = sorted(set(rows["method"]) - {"dense"})
    dense = rows[rows["method"] == "dense"]
    lines = pd.concat([rows[rows["method"] != "dense"], *(dense.assign(method=m) for m in methods)])
    return seed_means_by_group(lines, ["dataset", "arch", "method", "sparsity"], value)


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
                        x = 1.0 - line["sparsity"].to_numpy()
                        draw_series(ax, x, line, method, method_looks[method])
                sparsity_axis(ax, here["sparsity"])
                metric_axis(ax, metric, prefix)
                if row == 0:
                    chance_line(ax)
                    ax.set_title(f"{dataset_label(dataset)}, {arch_label(arch)}")
        accuracy_note = seed_note(accuracy, rows_note=TEST_ROWS_NOTE, points=False)
        fig.suptitle(
            f"Pruning methods: {attack} attack AUC ({n_note}) and test accuracy\n"
            f"{seed_note(auc)}\ntest accuracy {accuracy_note}"
        )
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_methods"
draw = plot_methods
