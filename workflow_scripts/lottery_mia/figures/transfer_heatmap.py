"""Figure 4: the transfer heatmap, an attack trained on one model applied to every other.

It draws the transfer job's cells (``transfer_cells``): one per (source kind, target kind), the
mean over seed pairs with its 95% interval, which the cell shows under its value. A cell whose
interval contains the metric's chance level is hatched: its attack is not told apart from
guessing on these evaluation rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import rotate_tick_labels
from lottery_mia.figures.style import (
    METRIC_CHANCE,
    METRIC_LABELS,
    dataset_label,
    figure_style,
    model_label,
    save_figure,
    styled,
)
from lottery_mia.figures.summary_rows import require_columns
from lottery_mia.summary import METRIC_COLUMNS, natural_sort_key

_KIND_FIELDS = ("arch", "method", "sparsity")
_KIND_COLUMNS = tuple(f"{side}_{field}" for side in ("source", "target") for field in _KIND_FIELDS)
_CELL_COLUMNS = (
    *_KIND_COLUMNS,
    "attack",
    "n_samples",
    "n_pairs",
    "n_source_seeds",
    "n_target_seeds",
)
#: Label of the hatched patches, so that a reader of the figure object can find them.
CHANCE_HATCH_LABEL = "interval contains chance"
DIAGONAL_LABEL = "diagonal"


def _check_cells(cells: pd.DataFrame, metric: str) -> None:
    if metric not in METRIC_COLUMNS:
        raise ValueError(
            f"metric {metric!r} is not an attack metric; expected one of {METRIC_COLUMNS}"
        )
    interval = (f"{metric}_ci_low", f"{metric}_ci_high")
    require_columns(cells, (*_CELL_COLUMNS, metric, *interval), "transfer cells")
    if cells.empty:
        raise ValueError("transfer cells table has no rows; expected one per source x target kind")
    for column in ("attack", "n_samples"):
        values = cells[column].unique()
        if len(values) != 1:
            raise ValueError(
                f"transfer cells mix {column} values {sorted(values)}; expected one "
                "table per dataset x attack x sample count"
            )
    duplicated = cells.duplicated(subset=list(_KIND_COLUMNS), keep=False)
    if duplicated.any():
        first = cells.loc[duplicated, list(_KIND_COLUMNS)].iloc[0].to_dict()
        raise ValueError(f"transfer cells have several rows for source/target kinds {first}")


def _kinds(cells: pd.DataFrame, side: str) -> list[tuple[str, str, float]]:
    """The kinds on one axis, by architecture, then dense first, then method and sparsity."""
    columns = [cells[f"{side}_{field}"] for field in _KIND_FIELDS]
    kinds = {(str(a), str(m), float(p)) for a, m, p in zip(*columns, strict=True)}
    return sorted(kinds, key=lambda kind: (natural_sort_key(kind[0]), kind[1] != "dense", kind))


def transfer_grid(cells: pd.DataFrame, column: str) -> pd.DataFrame:
    """Source kind (rows) x target kind (columns) table of the cells' ``column`` (a metric, or
    its ``_ci_low``/``_ci_high``).

    Kinds are ordered by architecture, then pruning method, then sparsity, on both axes, so a
    kind that is both a source and a target sits on the diagonal. Index and columns carry
    ``model_label`` names, which name the method when the table holds tickets of several.
    """
    metric = column.removesuffix("_ci_low").removesuffix("_ci_high")
    _check_cells(cells, metric)
    sources, targets = _kinds(cells, "source"), _kinds(cells, "target")
    several = len({m for _, m, _ in sources + targets if m != "dense"}) > 1

    def label(kind: tuple[str, str, float]) -> str:
        return model_label(kind[0], kind[2], method=kind[1] if several else None)

    lookup = {
        (str(row[0]), str(row[1]), float(row[2]), str(row[3]), str(row[4]), float(row[5])): value
        for *row, value in cells[[*_KIND_COLUMNS, column]].itertuples(index=False)
    }
    values = [[lookup.get((*source, *target), np.nan) for target in targets] for source in sources]
    return pd.DataFrame(
        np.asarray(values, dtype=np.float64),
        index=pd.Index([label(kind) for kind in sources], name="source model"),
        columns=pd.Index([label(kind) for kind in targets], name="target model"),
    )


def seed_pairs_note(cells: pd.DataFrame) -> str:
    """What a cell averages: one seed, or on the diagonal S same-seed pairs and off it S x S."""
    if cells["n_pairs"].max() <= 1:
        return "one seed"
    diagonal = np.ones(len(cells), dtype=bool)
    for field in _KIND_FIELDS:
        diagonal &= (cells[f"source_{field}"] == cells[f"target_{field}"]).to_numpy()
    notes = []
    if diagonal.any():
        notes.append(
            f"diagonal: mean over {_count(cells['n_pairs'][diagonal])} seeds (same-seed pairs)"
        )
    off = cells[~diagonal]
    if not off.empty:
        sources, targets = off["n_source_seeds"].max(), off["n_target_seeds"].max()
        square = f"{sources}² = " if sources == targets else f"{sources} x {targets} = "
        notes.append(f"off-diagonal: mean over {square}{_count(off['n_pairs'])} seed pairs")
    return "; ".join(notes)


def _count(pairs: pd.Series) -> str:
    """A pair count, or its range when cells differ (a seed missing for some model)."""
    low, high = int(pairs.min()), int(pairs.max())
    return f"{high}" if low == high else f"{low}-{high}"


def contains_chance(low: pd.DataFrame, high: pd.DataFrame, chance: float | None) -> np.ndarray:
    """Cells whose (defined) interval contains ``chance``; none for a metric without one."""
    if chance is None:
        return np.zeros(low.shape, dtype=bool)
    return (low.to_numpy() <= chance) & (chance <= high.to_numpy())


def colour_limits(
    grid: pd.DataFrame, low: pd.DataFrame, high: pd.DataFrame, centre: float | None
) -> tuple[float, float]:
    """The colour scale's ends: they span every cell's interval, not only the estimates, so two
    cells whose intervals overlap never look far apart. A metric with a chance level gets a
    scale symmetric about it, so chance is the map's neutral colour."""
    values = np.concatenate([frame.to_numpy().ravel() for frame in (grid, low, high)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("transfer cells have no finite value to colour")
    lowest, highest = float(values.min()), float(values.max())
    if centre is None:
        return (lowest, highest) if highest > lowest else (lowest - 0.5, highest + 0.5)
    reach = max(highest - centre, centre - lowest)
    reach = reach if reach > 0 else 0.5
    return centre - reach, centre + reach


def _annotate_intervals(ax: Axes, low: pd.DataFrame, high: pd.DataFrame, fmt: str) -> None:
    """Raise each value seaborn wrote and put its interval under it, in the same colour (which
    seaborn picked to read on the cell); a cell without an interval (NaN) shows none."""
    for text in list(ax.texts):
        x, y = text.get_position()
        i, j = int(y), int(x)
        text.set_y(i + 0.38)
        if np.isnan(low.iat[i, j]) or np.isnan(high.iat[i, j]):
            continue
        ax.text(
            j + 0.5,
            i + 0.72,
            f"[{low.iat[i, j]:{fmt}}, {high.iat[i, j]:{fmt}}]",
            ha="center",
            va="center",
            color=text.get_color(),
            fontsize=0.7 * text.get_fontsize(),
        )


def _mark_cells(ax: Axes, grid: pd.DataFrame, hatched: np.ndarray) -> None:
    """Outline the diagonal (same kind as source and target) and hatch ``hatched`` cells."""
    for i, j in zip(*np.nonzero(hatched), strict=True):
        ax.add_patch(
            Rectangle(
                (j, i), 1, 1, fill=False, hatch="//", edgecolor="0.55", linewidth=0,
                label=CHANCE_HATCH_LABEL,
            )
        )  # fmt: skip
    for i, label in enumerate(grid.index):
        if label in grid.columns:
            j = grid.columns.get_loc(label)
            ax.add_patch(
                Rectangle(
                    (j, i), 1, 1, fill=False, edgecolor="black", linewidth=1.6,
                    label=DIAGONAL_LABEL,
                )
            )  # fmt: skip


def plot_transfer_heatmap(
    cells: pd.DataFrame,
    metric: str,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
    *,
    dataset: str,
) -> Figure:
    """Figure 4: heatmap of a transfer attack's ``metric``, source kind x target kind.

    Each cell shows its value and, under it, its 95% interval (``transfer_cells``); cells whose
    interval contains chance are hatched and the diagonal (attack trained and applied on the
    same kind of model) is outlined. Accuracy, precision and AUC are coloured with a diverging
    map centred on chance (0.5), so transfers that fall below chance stand out; advantage is
    centred on 0. The colour scale spans the cells' intervals (``colour_limits``).
    """
    look = figure_style(style)
    grid = transfer_grid(cells, metric)
    low = transfer_grid(cells, f"{metric}_ci_low")
    high = transfer_grid(cells, f"{metric}_ci_high")
    attack = str(cells["attack"].iloc[0])
    n_samples = int(cells["n_samples"].iloc[0])
    centre = METRIC_CHANCE.get(metric)
    vmin, vmax = colour_limits(grid, low, high, centre)
    fmt = ".3f" if metric.startswith("tpr_") else ".2f"
    rows, columns = grid.shape
    # Room for the cells (a value and its interval each) plus the labels, colour bar and title.
    width = max(6.0, 3.6 + 0.85 * columns)
    height = max(3.0, 2.8 + 0.7 * rows)
    with styled(look), warnings.catch_warnings():
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        # seaborn 0.13 calls Colormap.set_bad, which matplotlib 3.11 marks as pending
        # deprecation; the warning is about seaborn's code, not ours, so keep it out of logs.
        warnings.filterwarnings(
            "ignore", message="The set_bad function", category=PendingDeprecationWarning
        )
        sns.heatmap(
            grid,
            ax=ax,
            annot=True,
            fmt=fmt,
            annot_kws={"fontsize": max(5.0, 9.0 - 0.25 * max(rows, columns))},
            cmap="vlag" if centre is not None else "rocket_r",
            center=centre,
            vmin=vmin,
            vmax=vmax,
            square=True,
            linewidths=0.5,
            linecolor="white",
            cbar_kws={"label": f"Attack {METRIC_LABELS[metric]}", "shrink": 0.8},
        )
        _annotate_intervals(ax, low, high, fmt)
        _mark_cells(ax, grid, contains_chance(low, high, centre))
        ax.set_xlabel("Target model (attacked)")
        ax.set_ylabel("Source model (attack trained on)")
        rotate_tick_labels(ax)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set_title(_title(cells, metric, dataset, attack, n_samples, centre))
        save_figure(fig, png, pdf, look.dpi)
    return fig


def _title(
    cells: pd.DataFrame,
    metric: str,
    dataset: str,
    attack: str,
    n_samples: int,
    chance: float | None,
) -> str:
    hatching = f"; hatched: interval contains chance ({chance:g})" if chance is not None else ""
    return (
        f"{dataset_label(dataset)}: transfer of the {attack} attack (n = {n_samples:,})\n"
        f"attack {METRIC_LABELS[metric]} [95% interval]; diagonal outlined{hatching}\n"
        f"{seed_pairs_note(cells)}"
    )


#: The rule that draws this figure (``figures.drawing``: its named inputs, outputs and params are
#: ``draw``'s keyword arguments).
RULE = "fig_transfer"
draw = plot_transfer_heatmap
