"""Figure 2: attack accuracy and AUC vs sparsity at a fixed sample count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
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
    panels_for,
    save_figure,
    styled,
)
from lottery_mia.figures.summary_rows import (
    rows_for_attack,
    sample_count_for,
    seed_note,
    with_method,
)
from lottery_mia.stats.over_seeds import seed_means_by_group


def plot_attack_vs_sparsity(
    summary: pd.DataFrame,
    n_samples: int,
    attack: str,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
) -> Figure:
    """Figure 2: attack accuracy (top row) and AUC (bottom row) vs sparsity at a fixed sample count.

    A dataset that did not run ``n_samples`` is shown at its largest sample count, noted in its
    column title.
    """
    rows = rows_for_attack(summary, attack)
    look, datasets, archs, arch_looks = panels_for(rows, style)
    metrics = ("accuracy", "auc")
    panel_stats: list[pd.DataFrame] = []
    with styled(look):
        fig, axes = panel_grid(len(metrics), len(datasets), sparsity_panel_width(rows, 3.6), 2.7)
        for column, dataset in enumerate(datasets):
            in_dataset = rows[rows["dataset"] == dataset]
            n_used, note = sample_count_for(in_dataset, n_samples)
            at_n = in_dataset[in_dataset["n_samples"] == n_used]
            for row, metric in enumerate(metrics):
                ax = axes[row, column]
                stats = seed_means_by_group(at_n, ["arch", "sparsity"], metric)
                panel_stats.append(stats)
                for arch in archs:
                    line = stats[stats["arch"] == arch]
                    if not line.empty:
                        x = 1.0 - line["sparsity"].to_numpy()
                        draw_series(ax, x, line, arch_label(arch), arch_looks[arch])
                chance_line(ax)
                sparsity_axis(ax, at_n["sparsity"])
                metric_axis(ax, metric, "Attack ")
                if row == 0:
                    ax.set_title(f"{dataset_label(dataset)}, {note}")
                if row < len(metrics) - 1:
                    ax.set_xlabel("")
        fig.suptitle(
            f"Membership inference ({attack} attack) vs sparsity\n"
            f"{seed_note(pd.concat(panel_stats))}"
        )
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_attack_vs_sparsity"
draw = with_method(plot_attack_vs_sparsity)
