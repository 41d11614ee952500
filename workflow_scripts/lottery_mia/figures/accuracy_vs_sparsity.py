"""Figure 1: test accuracy of the dense model and its tickets vs sparsity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import (
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
    panels_for,
    save_figure,
    styled,
)
from lottery_mia.figures.summary_rows import (
    TEST_ROWS_NOTE,
    model_accuracies,
    seed_note,
    with_method,
)
from lottery_mia.stats.over_seeds import seed_means_by_group


def plot_test_accuracy(
    summary: pd.DataFrame,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
) -> Figure:
    """Figure 1: test accuracy of the dense model and its tickets vs sparsity, per architecture,
    with the 95% interval of the test rows (one seed: Wilson; several: seeds and rows)."""
    models = model_accuracies(summary)
    look, datasets, archs, arch_looks = panels_for(models, style)
    stats = seed_means_by_group(models, ["dataset", "arch", "sparsity"], "test_accuracy")
    with styled(look):
        fig, axes = panel_grid(1, len(datasets), sparsity_panel_width(models, 3.6), 2.9)
        for ax, dataset in zip(axes[0], datasets, strict=True):
            in_dataset = stats[stats["dataset"] == dataset]
            for arch in archs:
                line = in_dataset[in_dataset["arch"] == arch]
                if not line.empty:
                    x = 1.0 - line["sparsity"].to_numpy()
                    draw_series(ax, x, line, arch_label(arch), arch_looks[arch])
            sparsity_axis(ax, in_dataset["sparsity"])
            metric_axis(ax, "accuracy", "Test ")
            ax.set_title(dataset_label(dataset))
        note = seed_note(stats, rows_note=TEST_ROWS_NOTE)
        fig.suptitle(f"Test accuracy of dense models and lottery tickets\n{note}")
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_test_accuracy"
draw = with_method(plot_test_accuracy)
