"""Per-example exposure figures, drawn from the exposure table (``exposure_table.py``).

Figure 8: each member's exposure under the dense model against under the ticket, as rank
percentiles (Spearman's rho is a correlation of ranks, and the attacks' scores live on different
scales), hexbinned, with the top-``fraction`` members of either model marked; the title carries
rho and the top-k Jaccard with their intervals and the dense-vs-dense level.
Figure 9: memorisation (from the reference models) against exposure under the model's
strongest reference attack, members only, one box per memorisation level; each panel is titled
with the Spearman correlation of the two and its interval (``exposure_steps.memorisation_rows``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike
from lottery_mia.exposure import MIN_TOP_K, resolves_top_k, top_count
from lottery_mia.exposure_table import DENSE_MODEL, column, lowest_seed
from lottery_mia.figures.axes import boxplot, figure_legend, panel_grid
from lottery_mia.figures.style import arch_label, figure_style, save_figure, styled


def _percentile_ranks(values: pd.Series) -> np.ndarray:
    return values.rank(method="average", pct=True).to_numpy()


def _stat(row: Mapping[str, Any], name: str) -> str:
    value = row[name]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.2f} [{row[f'{name}_ci_low']:.2f}, {row[f'{name}_ci_high']:.2f}]"


def _title(row: Mapping[str, Any]) -> str:
    return (
        f"{arch_label(row['arch'])} {row['model']}, {row['attack']}\n"
        f"Spearman {_stat(row, 'spearman')} (dense-dense {_stat(row, 'spearman_dense_dense')})\n"
        f"{_jaccard_line(row)}"
    )


def _jaccard_line(row: Mapping[str, Any]) -> str:
    k = row["top_k"]
    if not resolves_top_k(k):  # compare_agreement leaves it NaN
        return f"J@{k} n/a (top set under {MIN_TOP_K} members)"
    return f"J@{k} {_stat(row, 'jaccard')} (dense-dense {_stat(row, 'jaccard_dense_dense')})"


def _exposure_panel(
    ax: Axes, members: pd.DataFrame, row: Mapping[str, Any], fraction: float
) -> None:
    """The lowest seed's dense and ticket scores of one agreement row, ranked and hexbinned."""
    arch, ticket, attack = row["arch"], row["model"], row["attack"]
    seed = lowest_seed(members.columns, arch, ticket, f"score_{attack}")
    pair = members[
        [
            column(arch, seed, DENSE_MODEL, f"score_{attack}"),
            column(arch, seed, ticket, f"score_{attack}"),
        ]
    ].dropna()
    dense, sparse = _percentile_ranks(pair.iloc[:, 0]), _percentile_ranks(pair.iloc[:, 1])
    ax.hexbin(dense, sparse, gridsize=20, cmap="Greys", mincnt=1, linewidths=0)
    k = top_count(len(pair), fraction)
    top_dense = np.argsort(-pair.iloc[:, 0].to_numpy(), kind="stable")[:k]
    top_ticket = np.argsort(-pair.iloc[:, 1].to_numpy(), kind="stable")[:k]
    both = np.intersect1d(top_dense, top_ticket)
    for chosen, marker, label in (
        (np.setdiff1d(top_dense, both), "v", "top of dense only"),
        (np.setdiff1d(top_ticket, both), "^", "top of ticket only"),
        (both, "*", "top of both"),
    ):
        ax.scatter(dense[chosen], sparse[chosen], marker=marker, s=40, label=label, zorder=3)
    ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color="0.5")
    ax.set(
        xlim=(0, 1.02),
        ylim=(0, 1.02),
        xlabel="Dense: exposure rank",
        ylabel="Ticket: exposure rank",
    )
    ax.set_title(_title(row), fontsize="small")


def plot_exposure(
    table: pd.DataFrame, agreement: pd.DataFrame, fraction: float, png: PathLike, pdf: PathLike,
    look: Any,
) -> Figure:  # fmt: skip
    """Figure 8: one panel per architecture x ticket x attack of the agreement table."""
    members = table[table["member"]]
    rows = agreement.to_dict("records") or [None]
    n_cols = min(len(rows), 3)
    with styled(look):
        fig, axes = panel_grid(math.ceil(len(rows) / n_cols), n_cols, 4.0, 4.2)
        for ax, row in zip(axes.flat, rows, strict=False):
            if row is None:
                ax.text(0.5, 0.5, "no ticket beside a dense model", ha="center")
                continue
            _exposure_panel(ax, members, row, fraction)
        for ax in list(axes.flat)[len(rows) :]:
            ax.set_visible(False)
        fig.suptitle("Does the ticket expose the same members as its dense model? (members only)")
        figure_legend(fig, axes)
        save_figure(fig, png, pdf, look.dpi)
    return fig


def _memorisation_title(row: Mapping[str, Any]) -> str:
    model = "dense" if row["model"] == DENSE_MODEL else row["model"]
    title = f"{arch_label(row['arch'])} {model}"
    if pd.isna(row["spearman"]):
        return title
    low, high = row["spearman_ci_low"], row["spearman_ci_high"]
    return f"{title}\nSpearman {row['spearman']:.2f} [{low:.2f}, {high:.2f}]"


def plot_memorisation(
    table: pd.DataFrame,
    memorisation: pd.DataFrame,
    reference_attack: str | None,
    png: PathLike,
    pdf: PathLike,
    look: Any,
) -> Figure:
    """Figure 9: exposure rank under the strongest reference attack by memorisation level, one
    panel per row of ``memorisation`` (``exposure_steps.memorisation_rows``: dense model first),
    titled with the Spearman correlation of the two and its 95% interval."""
    # Without a reference attack there is no exposure to set the estimate against.
    panels = memorisation.to_dict("records") if reference_attack else []
    members = table[table["member"]]
    with styled(look):
        fig, axes = panel_grid(1, max(len(panels), 1), 4.0, 3.4)
        if not panels:
            axes[0, 0].text(0.5, 0.5, "no reference models: no memorisation estimate", ha="center")
            axes[0, 0].set_axis_off()
        for ax, row in zip(axes[0], panels, strict=False):
            arch, model = row["arch"], row["model"]
            field = f"score_{reference_attack}"
            score = column(arch, lowest_seed(table.columns, arch, model, field), model, field)
            frame = pd.DataFrame(
                {
                    "memorisation": members[f"{arch}/{model}/memorisation"].round(3),
                    "exposure": _percentile_ranks(members[score]),
                }
            ).dropna()
            boxplot(frame, ax, x="memorisation", y="exposure", color="0.8", fliersize=2)
            counts = frame["memorisation"].value_counts().sort_index()
            ax.set_xticks(range(len(counts)), [f"{v:g}\n(n={n})" for v, n in counts.items()])
            ax.set(
                xlabel="Memorisation P(correct|IN) - P(correct|OUT)",
                ylabel=f"{reference_attack} exposure rank",
            )
            ax.set_title(_memorisation_title(row), fontsize="small")
        fig.suptitle(
            "Are memorised members the exposed ones? (reference-model estimate; "
            "Spearman [95% interval over members])"
        )
        save_figure(fig, png, pdf, look.dpi)
    return fig


def plot_exposure_figures(
    table: pd.DataFrame,
    agreement: pd.DataFrame,
    memorisation: pd.DataFrame,
    dataset: str,
    top_fraction: float,
    reference_attack: str | None,
    style: Mapping[str, Any],
    exposure_png: PathLike,
    exposure_pdf: PathLike,
    memorisation_png: PathLike,
    memorisation_pdf: PathLike,
) -> None:
    """Figures 8 and 9 of one dataset: every attack of the agreement table, and memorisation
    against the strongest reference attack."""
    look = figure_style(style)
    shown = agreement[agreement["dataset"] == dataset] if not agreement.empty else agreement
    plot_exposure(table, shown, top_fraction, exposure_png, exposure_pdf, look)
    plot_memorisation(
        table, memorisation, reference_attack, memorisation_png, memorisation_pdf, look
    )


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_exposure"
draw = plot_exposure_figures
