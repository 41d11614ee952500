"""Figure 3: attack accuracy, precision and recall vs attack training samples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import (
    chance_line,
    draw_series,
    figure_legend,
    metric_axis,
    panel_grid,
    samples_axis,
)
from lottery_mia.figures.style import (
    arch_label,
    dataset_label,
    panels_for,
    save_figure,
    styled,
)
from lottery_mia.figures.summary_rows import (
    nearest_sparsity,
    rows_for_attack,
    same_sparsity,
    seed_note,
    with_method,
)
from lottery_mia.stats.over_seeds import seed_means_by_group


def plot_attack_vs_samples(
    summary: pd.DataFrame,
    sparsity: float,
    attack: str,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
) -> Figure:
    """Figure 3: attack accuracy, precision and recall vs attack training samples, fixed sparsity.

    One row of panels per dataset. A dataset that did not run ``sparsity`` is shown at its nearest
    sparsity, noted in its row's titles. Chance (0.5) is drawn for accuracy and precision, which a
    guessing attack reaches on the balanced evaluation set; recall has no fixed chance level.
    """
    rows = rows_for_attack(summary, attack)
    look, datasets, archs, arch_looks = panels_for(rows, style)
    metrics = ("accuracy", "precision", "recall")
    panel_stats: list[pd.DataFrame] = []
    with styled(look):
        fig, axes = panel_grid(len(datasets), len(metrics), 3.4, 2.8)
        for row, dataset in enumerate(datasets):
            in_dataset = rows[rows["dataset"] == dataset]
            used = nearest_sparsity(in_dataset["sparsity"], sparsity)
            note = f"p = {used:g}"
            if not same_sparsity(used, sparsity):
                note += f" ({sparsity:g} not run)"
            at_p = in_dataset[np.isclose(in_dataset["sparsity"], used, rtol=0, atol=1e-9)]
            for column, metric in enumerate(metrics):
                ax = axes[row, column]
                stats = seed_means_by_group(at_p, ["arch", "n_samples"], metric)
                panel_stats.append(stats)
                for arch in archs:
                    line = stats[stats["arch"] == arch]
                    if not line.empty:
                        x = line["n_samples"].to_numpy()
                        draw_series(ax, x, line, arch_label(arch), arch_looks[arch])
                if metric != "recall":
                    chance_line(ax)
                samples_axis(ax, at_p["n_samples"])
                metric_axis(ax, metric, "Attack ")
                ax.set_title(f"{dataset_label(dataset)}, {note}")
                # The long axis label, written under every panel, would run into its neighbours:
                # one under the middle panel of the bottom row serves the whole figure.
                if (row, column) != (len(datasets) - 1, len(metrics) // 2):
                    ax.set_xlabel("")
        fig.suptitle(
            f"Membership inference ({attack} attack) vs attack training samples\n"
            f"{seed_note(pd.concat(panel_stats))}"
        )
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_attack_vs_samples"
draw = with_method(plot_attack_vs_samples)
