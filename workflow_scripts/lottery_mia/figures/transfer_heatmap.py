"""Figure 4: the transfer heatmap, an attack trained on one model applied to every other."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from lottery_mia.atomic import PathLike
from lottery_mia.figures.axes import rotate_tick_labels
from lottery_mia.figures.selection import require_columns
from lottery_mia.figures.style import (
    METRIC_CHANCE,
    METRIC_LABELS,
    dataset_label,
    figure_style,
    model_label,
    save_figure,
    styled,
)
from lottery_mia.summary import METRIC_COLUMNS, natural_sort_key

_TRANSFER_COLUMNS = (
    "source_arch",
    "source_sparsity",
    "source_seed",
    "target_arch",
    "target_sparsity",
    "target_seed",
    "attack",
    "n_samples",
)


def _with_methods(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix with ``source_method``/``target_method`` (older matrices: dense or magnitude)."""
    matrix = matrix.copy()
    for side in ("source", "target"):
        if f"{side}_method" not in matrix.columns:
            dense = matrix[f"{side}_sparsity"] == 0
            matrix[f"{side}_method"] = np.where(dense, "dense", "magnitude")
    return matrix


def _check_transfer_matrix(matrix: pd.DataFrame, metric: str) -> None:
    if metric not in METRIC_COLUMNS:
        raise ValueError(
            f"metric {metric!r} is not an attack metric; expected one of {METRIC_COLUMNS}"
        )
    require_columns(matrix, (*_TRANSFER_COLUMNS, metric), "transfer matrix")
    if matrix.empty:
        raise ValueError("transfer matrix has no rows; expected one per source x target model")
    for column in ("attack", "n_samples"):
        values = matrix[column].unique()
        if len(values) != 1:
            raise ValueError(
                f"transfer matrix mixes {column} values {sorted(values)}; expected one "
                "matrix per dataset x attack x sample count"
            )
    matrix = _with_methods(matrix)
    pair = [
        f"{side}_{field}"
        for side in ("source", "target")
        for field in ("arch", "method", "sparsity", "seed")
    ]
    duplicated = matrix.duplicated(subset=pair, keep=False)
    if duplicated.any():
        first = matrix.loc[duplicated, pair].iloc[0].to_dict()
        raise ValueError(f"transfer matrix has several rows for source/target pair {first}")


def transfer_grid(matrix: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Source model (rows) x target model (columns) table of ``metric``, averaged over seed pairs.

    Models are ordered by architecture, then pruning method, then sparsity, on both axes, so a
    model that is both a source and a target sits on the diagonal. Index and columns carry
    ``model_label`` names, which name the method when the matrix holds tickets of several.
    A diagonal cell is the ordinary attack, so it averages matching seeds only: an attack trained
    on seed 0's model and applied to seed 1's is a transfer, not the attack itself.
    """
    _check_transfer_matrix(matrix, metric)
    matrix = _with_methods(matrix)
    model = ["arch", "method", "sparsity"]
    keys = [f"{side}_{field}" for side in ("source", "target") for field in model]
    same_kind = (
        (matrix["source_arch"] == matrix["target_arch"])
        & (matrix["source_method"] == matrix["target_method"])
        & np.isclose(matrix["source_sparsity"], matrix["target_sparsity"], rtol=0, atol=1e-9)
    )
    cross_seed = matrix["source_seed"] != matrix["target_seed"]
    means = matrix[~(same_kind & cross_seed)].groupby(keys, observed=True)[metric].mean()

    def ordered(side: str) -> list[tuple[str, str, float]]:
        columns = [matrix[f"{side}_{field}"] for field in model]
        models = {(str(a), str(m), float(p)) for a, m, p in zip(*columns, strict=True)}
        return sorted(models, key=lambda key: (natural_sort_key(key[0]), key[1] != "dense", key))

    sources, targets = ordered("source"), ordered("target")
    ticket_methods = {m for _, m, _ in sources + targets if m != "dense"}
    several = len(ticket_methods) > 1

    def label(key: tuple[str, str, float]) -> str:
        return model_label(key[0], key[2], method=key[1] if several else None)

    values = np.full((len(sources), len(targets)), np.nan)
    lookup = means.to_dict()
    for i, source in enumerate(sources):
        for j, target in enumerate(targets):
            values[i, j] = lookup.get((*source, *target), np.nan)
    return pd.DataFrame(
        values,
        index=pd.Index([label(key) for key in sources], name="source model"),
        columns=pd.Index([label(key) for key in targets], name="target model"),
    )


def plot_transfer_heatmap(
    matrix: pd.DataFrame,
    metric: str,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
    *,
    dataset: str,
) -> Figure:
    """Figure 4: heatmap of a transfer attack's ``metric``, source model x target model.

    Cells are annotated; the diagonal (attack trained and applied on the same kind of model) is
    outlined. Accuracy, precision and AUC are coloured with a diverging map centred on chance
    (0.5), so transfers that fall below chance stand out; advantage is centred on 0.
    """
    look = figure_style(style)
    grid = transfer_grid(matrix, metric)
    attack = str(matrix["attack"].iloc[0])
    n_samples = int(matrix["n_samples"].iloc[0])
    pairs = _with_methods(matrix).groupby(
        [
            f"{side}_{field}"
            for side in ("source", "target")
            for field in ("arch", "method", "sparsity")
        ]
    )
    seed_pairs = int(pairs.size().max())
    centre = METRIC_CHANCE.get(metric)
    fmt = ".3f" if metric.startswith("tpr_") else ".2f"
    rows, columns = grid.shape
    # Room for the cells plus the model labels, colour bar and a two-line title.
    width = max(6.0, 3.6 + 0.62 * columns)
    height = max(3.0, 2.6 + 0.62 * rows)
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
            square=True,
            linewidths=0.5,
            linecolor="white",
            cbar_kws={"label": f"Attack {METRIC_LABELS[metric]}", "shrink": 0.8},
        )
        for i, label in enumerate(grid.index):
            if label in grid.columns:
                j = grid.columns.get_loc(label)
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor="black", linewidth=1.6))
        ax.set_xlabel("Target model (attacked)")
        ax.set_ylabel("Source model (attack trained on)")
        rotate_tick_labels(ax)
        ax.tick_params(axis="y", labelrotation=0)
        seeds = "one seed pair" if seed_pairs == 1 else f"mean over {seed_pairs} seed pairs"
        ax.set_title(
            f"{dataset_label(dataset)}: transfer of the {attack} attack (n = {n_samples:,})\n"
            f"attack {METRIC_LABELS[metric]}; diagonal outlined; {seeds}"
        )
        save_figure(fig, png, pdf, look.dpi)
    return fig
