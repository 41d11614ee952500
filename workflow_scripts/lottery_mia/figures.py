"""The paper's figures and Table 1, regenerated from ``summary.parquet`` and the transfer matrices.

Each plot function draws one figure, writes it twice, as PNG (for the report) and PDF (for a
paper), both atomically, and returns it detached from pyplot (its axes can still be inspected).
Conventions shared by every figure:

* Sparsity axes are log-spaced in the fraction of weights *kept* and labelled with the sparsity
  (% of weights pruned). Iterative pruning grids (0, 20, 36, 49, ... %) are then evenly spaced,
  and the high-sparsity end, where the paper sees attack accuracy fall, is not squeezed into a
  corner. Sparsity 0 is labelled "dense": the original network, not a ticket.
* Several seeds are drawn as their mean with error bars of one standard deviation; the title says
  over how many seeds.
* Attack panels carry the chance level 0.5 as a dashed line (the evaluation set is balanced).
* When the requested sample count or sparsity was not run for a dataset, the nearest available
  value is used and the panel title says so, rather than failing or silently plotting another.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # Figures are files: never ask for a display (cluster nodes have none).

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullLocator, PercentFormatter

from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.summary import METRIC_COLUMNS, natural_sort_key

CHANCE_LEVEL = 0.5
SAMPLES_AXIS_LABEL = "Attack training samples (members + non-members)"
_SPARSITY_TOLERANCE = 1e-9

_DATASET_LABELS = {
    "digits": "Digits",
    "mnist": "MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "tinyimagenet": "Tiny ImageNet",
    "imagenet": "ImageNet",
}
# Datasets in the order of the paper (more classes further right); unknown ones follow by name.
_DATASET_ORDER = tuple(_DATASET_LABELS)

_METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "auc": "AUC",
    "tpr_at_1pct_fpr": "TPR at 1% FPR",
    "tpr_at_0.1pct_fpr": "TPR at 0.1% FPR",
    "advantage": "advantage (TPR - FPR)",
}
# Metrics shown in percent; the others (AUC, advantage) are plain numbers.
_PERCENT_METRICS = frozenset(
    {"accuracy", "precision", "recall", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr"}
)
# Value a guessing attack reaches on the balanced evaluation set; heatmaps centre on it.
_METRIC_CHANCE = {"accuracy": 0.5, "precision": 0.5, "auc": 0.5, "advantage": 0.0}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_PLOTTING_CONTEXTS = frozenset({"paper", "notebook", "talk", "poster"})


# --------------------------------------------------------------------------- labels and style


def dataset_label(name: str) -> str:
    """Human name of a dataset key (``cifar10`` -> ``CIFAR-10``); unknown keys are kept."""
    return _DATASET_LABELS.get(name.lower(), name)


def arch_label(name: str) -> str:
    """Human name of an architecture key (``resnet18`` -> ``ResNet-18``); unknown keys are kept."""
    lowered = name.lower()
    if lowered.startswith("resnet") and lowered[len("resnet") :].isdigit():
        return f"ResNet-{lowered[len('resnet') :]}"
    return name


def sparsity_label(sparsity: float) -> str:
    """Tick label of a sparsity: percent pruned, with 0 marked as the dense original."""
    if sparsity == 0.0:
        return "0%\n(dense)"
    return f"{sparsity * 100:g}%"


def model_label(arch: str, sparsity: float) -> str:
    """Label of one model in the transfer heatmap, e.g. ``ResNet-18 p=0.8``."""
    suffix = " (dense)" if sparsity == 0.0 else ""
    return f"{arch_label(arch)} p={sparsity:g}{suffix}"


def _ordered_datasets(names: Iterable[str]) -> list[str]:
    """Datasets in paper order (fewest classes first), unknown names after, by name."""

    def key(name: str) -> tuple[int, tuple[Any, ...]]:
        lowered = name.lower()
        rank = _DATASET_ORDER.index(lowered) if lowered in _DATASET_ORDER else len(_DATASET_ORDER)
        return rank, natural_sort_key(name)

    return sorted(set(names), key=key)


def _ordered_archs(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=natural_sort_key)


@dataclass(frozen=True)
class FigureStyle:
    """The config's ``figures:`` look: seaborn context, palette name, raster resolution."""

    context: str = "paper"
    palette: str = "colorblind"
    dpi: int = 200


def figure_style(style: Mapping[str, Any]) -> FigureStyle:
    """Read the look from the config's ``figures:`` section; keys other than the look are ignored.

    The section also holds what to plot (sample count, sparsity, attack), which the rules pass
    to the plot functions as arguments, so unknown keys are not an error here.
    """
    defaults = FigureStyle()
    context = style.get("context", defaults.context)
    palette = style.get("palette", defaults.palette)
    dpi = style.get("dpi", defaults.dpi)
    if context not in _PLOTTING_CONTEXTS:
        raise ValueError(
            f"figures.context is {context!r}; expected one of {sorted(_PLOTTING_CONTEXTS)}"
        )
    if not isinstance(palette, str) or not palette:
        raise ValueError(f"figures.palette is {palette!r}; expected a seaborn palette name")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"figures.dpi is {dpi!r}; expected a positive integer")
    try:
        sns.color_palette(palette)
    except ValueError as err:
        raise ValueError(f"figures.palette {palette!r} is not a seaborn palette ({err})") from err
    return FigureStyle(context=context, palette=palette, dpi=dpi)


@contextlib.contextmanager
def _styled(style: FigureStyle) -> Iterator[None]:
    """Apply the seaborn look for one figure only: the caller's rcParams are left as they were."""
    with sns.plotting_context(style.context), sns.axes_style("whitegrid"):
        yield


def _arch_styles(archs: Sequence[str], style: FigureStyle) -> dict[str, dict[str, Any]]:
    """One colour and one marker per architecture, the same in every panel of a figure."""
    colours = sns.color_palette(style.palette, n_colors=max(len(archs), 1))
    return {
        arch: {"color": colours[i], "marker": _MARKERS[i % len(_MARKERS)]}
        for i, arch in enumerate(archs)
    }


def _save_figure(fig: Figure, png: PathLike, pdf: PathLike, dpi: int) -> None:
    """Write ``fig`` as PNG and PDF, each atomically, then detach it from pyplot.

    Detached, the figure no longer holds pyplot's memory, yet its axes stay readable, so plot
    functions return it for callers and tests that check what was drawn.

    The PDF creation date is omitted so that rerunning on the same summary gives the same file.
    """
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    plt.close(fig)


# --------------------------------------------------------------------------- data selection


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{source} is missing column(s) {missing}; found columns {list(frame.columns)}"
        )


def _rows_for_attack(summary: pd.DataFrame, attack: str) -> pd.DataFrame:
    """The summary rows of one attack, or an error listing the attacks that were run."""
    _require_columns(summary, ("dataset", "arch", "seed", "sparsity", "attack"), "summary")
    rows = summary[summary["attack"] == attack]
    if rows.empty:
        found = sorted(summary["attack"].dropna().unique())
        raise ValueError(f"summary has no rows for attack {attack!r}; attacks present: {found}")
    return rows


def nearest_sparsity(
    available: Iterable[float], requested: float, *, exclude_dense: bool = False
) -> float:
    """The available sparsity closest to ``requested`` (ties: the lower one).

    With ``exclude_dense`` the dense model (sparsity 0) is never chosen: a "ticket" must be pruned.
    """
    candidates = sorted({float(p) for p in available if not (exclude_dense and p == 0.0)})
    if not candidates:
        kind = "non-zero sparsity" if exclude_dense else "sparsity"
        raise ValueError(f"no {kind} available to match the requested sparsity {requested:g}")
    return min(candidates, key=lambda p: (abs(p - requested), p))


def _same_sparsity(a: float, b: float) -> bool:
    return abs(a - b) <= _SPARSITY_TOLERANCE


def _sample_count_for(rows: pd.DataFrame, requested: int) -> tuple[int, str]:
    """Use ``requested`` if it was run, else the largest sample count run; say which in a note."""
    available = sorted(int(n) for n in rows["n_samples"].unique())
    if requested in available:
        return requested, f"n = {requested:,}"
    chosen = available[-1]
    return chosen, f"n = {chosen:,} ({requested:,} not run)"


def _mean_over_seeds(rows: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Mean, standard deviation (0 for one seed) and seed count of ``value`` per group."""
    grouped = rows.groupby(by, observed=True, sort=True)[value]
    stats = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    return stats


def _seed_note(stats: pd.DataFrame) -> str:
    """Title suffix saying how the points were aggregated over seeds."""
    counts = sorted(set(stats["seeds"].astype(int)))
    if counts[-1] <= 1:
        return "one seed"
    spread = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"mean ± s.d. over {spread} seeds"


def model_accuracies(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per target model (dataset, arch, seed, sparsity) with its train and test accuracy.

    The summary repeats a model's accuracies on every attack row; differing copies mean two runs
    were mixed in one summary, which is reported instead of silently averaged.
    """
    keys = ["dataset", "arch", "seed", "sparsity"]
    _require_columns(summary, (*keys, "train_accuracy", "test_accuracy"), "summary")
    per_model = summary.groupby(keys, observed=True, sort=True)[["train_accuracy", "test_accuracy"]]
    spread = per_model.max() - per_model.min()
    inconsistent = spread[(spread > 1e-9).any(axis=1)]
    if not inconsistent.empty:
        first = dict(zip(keys, inconsistent.index[0], strict=True))
        raise ValueError(
            f"summary rows of model {first} disagree on train/test accuracy; expected every "
            "attack row of one model to carry the same accuracies"
        )
    return per_model.first().reset_index()


# --------------------------------------------------------------------------- axes helpers


_MAX_UPRIGHT_TICKS = 5


def _rotate_tick_labels(ax: plt.Axes) -> None:
    """Slant crowded x tick labels, anchored at their tick so they do not run into each other."""
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")


def _sparsity_axis(ax: plt.Axes, sparsities: Iterable[float]) -> None:
    """Log-spaced axis of weights kept, ticked and labelled with the sparsities of the grid."""
    grid = sorted({float(p) for p in sparsities})
    crowded = len(grid) > _MAX_UPRIGHT_TICKS
    labels = [sparsity_label(p) for p in grid]
    if crowded:  # slanted labels read badly on two lines
        labels = [label.replace("\n", " ") for label in labels]
    kept = [1.0 - p for p in grid]
    ax.set_xscale("log")
    ax.set_xticks(kept, labels)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(max(kept) * 1.25, min(kept) / 1.25)  # reversed: sparsity grows to the right
    ax.set_xlabel("Sparsity (% of weights pruned, log-spaced)")
    if crowded:
        _rotate_tick_labels(ax)


def _sparsity_panel_width(summary: pd.DataFrame, base: float) -> float:
    """Panel width in inches: wider when the sparsity grid has many ticks to label."""
    n_ticks = summary.groupby("dataset", observed=True)["sparsity"].nunique().max()
    return max(base, 0.38 * n_ticks + 0.8)


def _samples_axis(ax: plt.Axes, counts: Iterable[int]) -> None:
    """Axis of attack training samples, log-scaled when the counts span a factor of 10 or more."""
    grid = sorted({int(n) for n in counts})
    if grid[-1] / grid[0] >= 10:
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(grid, [f"{n:,}" for n in grid])
    if len(grid) > _MAX_UPRIGHT_TICKS:
        _rotate_tick_labels(ax)
    ax.set_xlabel(SAMPLES_AXIS_LABEL)


def _metric_axis(ax: plt.Axes, metric: str, prefix: str) -> None:
    if metric in _PERCENT_METRICS:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, symbol=""))
        ax.set_ylabel(f"{prefix}{_METRIC_LABELS[metric]} (%)")
    else:
        ax.set_ylabel(f"{prefix}{_METRIC_LABELS[metric]}")


def _chance_line(ax: plt.Axes) -> None:
    ax.axhline(CHANCE_LEVEL, linestyle="--", color="0.35", linewidth=1.0, label="chance (0.5)")


def _draw_series(
    ax: plt.Axes, x: Sequence[float], stats: pd.DataFrame, label: str, look: Mapping[str, Any]
) -> None:
    """One line with markers; error bars only where several seeds give a spread."""
    several = bool((stats["seeds"] > 1).any())
    ax.errorbar(
        x,
        stats["mean"],
        yerr=stats["std"] if several else None,
        label=label,
        capsize=3 if several else 0,
        linewidth=1.5,
        markersize=5,
        **look,
    )


def _figure_legend(fig: Figure, axes: np.ndarray) -> None:
    """One legend for the whole figure, below the panels (each panel shows the same series)."""
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="outside lower center",
        ncol=len(handles),
        frameon=False,
    )


def _panel_grid(nrows: int, ncols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width * ncols, height * nrows + 0.6),
        squeeze=False,
        layout="constrained",
    )
    return fig, axes


# --------------------------------------------------------------------------- Figure 1


def plot_test_accuracy(
    summary: pd.DataFrame,
    png: PathLike,
    pdf: PathLike,
    style: Mapping[str, Any],
) -> Figure:
    """Figure 1: test accuracy of the dense model and its tickets vs sparsity, per architecture."""
    look = figure_style(style)
    models = model_accuracies(summary)
    datasets = _ordered_datasets(models["dataset"])
    archs = _ordered_archs(models["arch"])
    arch_looks = _arch_styles(archs, look)
    stats = _mean_over_seeds(models, ["dataset", "arch", "sparsity"], "test_accuracy")
    with _styled(look):
        fig, axes = _panel_grid(1, len(datasets), _sparsity_panel_width(models, 3.6), 2.9)
        for ax, dataset in zip(axes[0], datasets, strict=True):
            in_dataset = stats[stats["dataset"] == dataset]
            for arch in archs:
                line = in_dataset[in_dataset["arch"] == arch]
                if not line.empty:
                    x = 1.0 - line["sparsity"].to_numpy()
                    _draw_series(ax, x, line, arch_label(arch), arch_looks[arch])
            _sparsity_axis(ax, in_dataset["sparsity"])
            _metric_axis(ax, "accuracy", "Test ")
            ax.set_title(dataset_label(dataset))
        fig.suptitle(f"Test accuracy of dense models and lottery tickets ({_seed_note(stats)})")
        _figure_legend(fig, axes)
        _save_figure(fig, png, pdf, look.dpi)
    return fig


# --------------------------------------------------------------------------- Figure 2


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
    look = figure_style(style)
    rows = _rows_for_attack(summary, attack)
    datasets = _ordered_datasets(rows["dataset"])
    archs = _ordered_archs(rows["arch"])
    arch_looks = _arch_styles(archs, look)
    metrics = ("accuracy", "auc")
    notes: list[str] = []
    with _styled(look):
        fig, axes = _panel_grid(len(metrics), len(datasets), _sparsity_panel_width(rows, 3.6), 2.7)
        for column, dataset in enumerate(datasets):
            in_dataset = rows[rows["dataset"] == dataset]
            n_used, note = _sample_count_for(in_dataset, n_samples)
            at_n = in_dataset[in_dataset["n_samples"] == n_used]
            for row, metric in enumerate(metrics):
                ax = axes[row, column]
                stats = _mean_over_seeds(at_n, ["arch", "sparsity"], metric)
                notes.append(_seed_note(stats))
                for arch in archs:
                    line = stats[stats["arch"] == arch]
                    if not line.empty:
                        x = 1.0 - line["sparsity"].to_numpy()
                        _draw_series(ax, x, line, arch_label(arch), arch_looks[arch])
                _chance_line(ax)
                _sparsity_axis(ax, at_n["sparsity"])
                _metric_axis(ax, metric, "Attack ")
                if row == 0:
                    ax.set_title(f"{dataset_label(dataset)}, {note}")
                if row < len(metrics) - 1:
                    ax.set_xlabel("")
        fig.suptitle(
            f"Membership inference ({attack} attack) vs sparsity ({_figure_seed_note(notes)})"
        )
        _figure_legend(fig, axes)
        _save_figure(fig, png, pdf, look.dpi)
    return fig


def _figure_seed_note(notes: Sequence[str]) -> str:
    """The seed note of a figure: several seeds win over one, so error bars are explained."""
    several = [note for note in notes if note != "one seed"]
    return several[0] if several else "one seed"


# --------------------------------------------------------------------------- Figure 3


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
    look = figure_style(style)
    rows = _rows_for_attack(summary, attack)
    datasets = _ordered_datasets(rows["dataset"])
    archs = _ordered_archs(rows["arch"])
    arch_looks = _arch_styles(archs, look)
    metrics = ("accuracy", "precision", "recall")
    notes: list[str] = []
    with _styled(look):
        fig, axes = _panel_grid(len(datasets), len(metrics), 3.4, 2.8)
        for row, dataset in enumerate(datasets):
            in_dataset = rows[rows["dataset"] == dataset]
            used = nearest_sparsity(in_dataset["sparsity"], sparsity)
            note = f"p = {used:g}"
            if not _same_sparsity(used, sparsity):
                note += f" ({sparsity:g} not run)"
            at_p = in_dataset[np.isclose(in_dataset["sparsity"], used, rtol=0, atol=1e-9)]
            for column, metric in enumerate(metrics):
                ax = axes[row, column]
                stats = _mean_over_seeds(at_p, ["arch", "n_samples"], metric)
                notes.append(_seed_note(stats))
                for arch in archs:
                    line = stats[stats["arch"] == arch]
                    if not line.empty:
                        x = line["n_samples"].to_numpy()
                        _draw_series(ax, x, line, arch_label(arch), arch_looks[arch])
                if metric != "recall":
                    _chance_line(ax)
                _samples_axis(ax, at_p["n_samples"])
                _metric_axis(ax, metric, "Attack ")
                ax.set_title(f"{dataset_label(dataset)}, {note}")
                # The long axis label, written under every panel, would run into its neighbours:
                # one under the middle panel of the bottom row serves the whole figure.
                if (row, column) != (len(datasets) - 1, len(metrics) // 2):
                    ax.set_xlabel("")
        fig.suptitle(
            f"Membership inference ({attack} attack) vs attack training samples "
            f"({_figure_seed_note(notes)})"
        )
        _figure_legend(fig, axes)
        _save_figure(fig, png, pdf, look.dpi)
    return fig


# --------------------------------------------------------------------------- Figure 4

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


def _check_transfer_matrix(matrix: pd.DataFrame, metric: str) -> None:
    if metric not in METRIC_COLUMNS:
        raise ValueError(
            f"metric {metric!r} is not an attack metric; expected one of {METRIC_COLUMNS}"
        )
    _require_columns(matrix, (*_TRANSFER_COLUMNS, metric), "transfer matrix")
    if matrix.empty:
        raise ValueError("transfer matrix has no rows; expected one per source x target model")
    for column in ("attack", "n_samples"):
        values = matrix[column].unique()
        if len(values) != 1:
            raise ValueError(
                f"transfer matrix mixes {column} values {sorted(values)}; expected one "
                "matrix per dataset x attack x sample count"
            )
    pair = list(_TRANSFER_COLUMNS[:6])
    duplicated = matrix.duplicated(subset=pair, keep=False)
    if duplicated.any():
        first = matrix.loc[duplicated, pair].iloc[0].to_dict()
        raise ValueError(f"transfer matrix has several rows for source/target pair {first}")


def transfer_grid(matrix: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Source model (rows) x target model (columns) table of ``metric``, averaged over seed pairs.

    Models are ordered by architecture, then sparsity, on both axes, so a model that is both a
    source and a target sits on the diagonal. Index and columns carry ``model_label`` names.
    """
    _check_transfer_matrix(matrix, metric)
    keys = ["source_arch", "source_sparsity", "target_arch", "target_sparsity"]
    means = matrix.groupby(keys, observed=True)[metric].mean()

    def ordered(arch_column: str, sparsity_column: str) -> list[tuple[str, float]]:
        pairs = {
            (str(a), float(p))
            for a, p in zip(matrix[arch_column], matrix[sparsity_column], strict=True)
        }
        return sorted(pairs, key=lambda model: (natural_sort_key(model[0]), model[1]))

    sources = ordered("source_arch", "source_sparsity")
    targets = ordered("target_arch", "target_sparsity")
    values = np.full((len(sources), len(targets)), np.nan)
    lookup = means.to_dict()
    for i, (source_arch, source_p) in enumerate(sources):
        for j, (target_arch, target_p) in enumerate(targets):
            values[i, j] = lookup.get((source_arch, source_p, target_arch, target_p), np.nan)
    return pd.DataFrame(
        values,
        index=pd.Index([model_label(a, p) for a, p in sources], name="source model"),
        columns=pd.Index([model_label(a, p) for a, p in targets], name="target model"),
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
    pairs = matrix.groupby(["source_arch", "source_sparsity", "target_arch", "target_sparsity"])
    seed_pairs = int(pairs.size().max())
    centre = _METRIC_CHANCE.get(metric)
    fmt = ".3f" if metric.startswith("tpr_") else ".2f"
    rows, columns = grid.shape
    # Room for the cells plus the model labels, colour bar and a two-line title.
    width = max(6.0, 3.6 + 0.62 * columns)
    height = max(3.0, 2.6 + 0.62 * rows)
    with _styled(look), warnings.catch_warnings():
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
            cbar_kws={"label": f"Attack {_METRIC_LABELS[metric]}", "shrink": 0.8},
        )
        for i, label in enumerate(grid.index):
            if label in grid.columns:
                j = grid.columns.get_loc(label)
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor="black", linewidth=1.6))
        ax.set_xlabel("Target model (attacked)")
        ax.set_ylabel("Source model (attack trained on)")
        _rotate_tick_labels(ax)
        ax.tick_params(axis="y", labelrotation=0)
        seeds = "one seed pair" if seed_pairs == 1 else f"mean over {seed_pairs} seed pairs"
        ax.set_title(
            f"{dataset_label(dataset)}: transfer of the {attack} attack (n = {n_samples:,})\n"
            f"attack {_METRIC_LABELS[metric]}; diagonal outlined; {seeds}"
        )
        _save_figure(fig, png, pdf, look.dpi)
    return fig


# --------------------------------------------------------------------------- Table 1

TABLE1_COLUMNS: tuple[str, ...] = (
    "dataset",
    "arch",
    "n_samples",
    "ticket_sparsity",
    "n_seeds",
    "baseline_accuracy",
    "baseline_precision",
    "ticket_accuracy",
    "ticket_precision",
)


def table1(summary: pd.DataFrame, attack: str, ticket_sparsity: float) -> pd.DataFrame:
    """Table 1: attack accuracy and precision, dense baseline vs lottery ticket.

    One row per dataset, architecture and sample count; values are means over seeds. The ticket
    is the non-zero sparsity nearest ``ticket_sparsity`` run for that dataset and architecture
    (reported in ``ticket_sparsity``). Baseline and ticket must come from the same seeds, because a
    ticket of seed s is pruned from the dense model of seed s.
    """
    if not 0.0 < ticket_sparsity < 1.0:
        raise ValueError(f"ticket_sparsity is {ticket_sparsity}; expected a value in (0, 1)")
    rows = _rows_for_attack(summary, attack)
    _require_columns(rows, ("n_samples", "accuracy", "precision"), "summary")
    table_rows: list[dict[str, Any]] = []
    for dataset in _ordered_datasets(rows["dataset"]):
        in_dataset = rows[rows["dataset"] == dataset]
        for arch in _ordered_archs(in_dataset["arch"]):
            in_arch = in_dataset[in_dataset["arch"] == arch]
            where = f"dataset {dataset!r}, arch {arch!r}, attack {attack!r}"
            try:
                ticket_p = nearest_sparsity(
                    in_arch["sparsity"], ticket_sparsity, exclude_dense=True
                )
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from err
            for n_samples in sorted(int(n) for n in in_arch["n_samples"].unique()):
                at_n = in_arch[in_arch["n_samples"] == n_samples]
                baseline = at_n[at_n["sparsity"] == 0.0]
                ticket = at_n[np.isclose(at_n["sparsity"], ticket_p, rtol=0, atol=1e-9)]
                here = f"{where}, n_samples {n_samples}"
                if baseline.empty:
                    raise ValueError(f"{here}: no dense baseline (sparsity 0) in the summary")
                if ticket.empty:
                    raise ValueError(f"{here}: no ticket at sparsity {ticket_p:g} in the summary")
                baseline_seeds = sorted(baseline["seed"].astype(int))
                ticket_seeds = sorted(ticket["seed"].astype(int))
                if baseline_seeds != ticket_seeds:
                    raise ValueError(
                        f"{here}: baseline seeds {baseline_seeds} differ from ticket "
                        f"(sparsity {ticket_p:g}) seeds {ticket_seeds}; expected the same seeds"
                    )
                table_rows.append(
                    {
                        "dataset": dataset,
                        "arch": arch,
                        "n_samples": n_samples,
                        "ticket_sparsity": ticket_p,
                        "n_seeds": len(baseline_seeds),
                        "baseline_accuracy": float(baseline["accuracy"].mean()),
                        "baseline_precision": float(baseline["precision"].mean()),
                        "ticket_accuracy": float(ticket["accuracy"].mean()),
                        "ticket_precision": float(ticket["precision"].mean()),
                    }
                )
    return pd.DataFrame(table_rows, columns=list(TABLE1_COLUMNS))


def _markdown_cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value).replace("|", r"\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """GitHub-flavoured markdown of ``frame``: numbers right-aligned, floats to 3 decimals."""
    numeric = [pd.api.types.is_numeric_dtype(frame[column]) for column in frame.columns]
    header = "| " + " | ".join(_markdown_cell(column) for column in frame.columns) + " |"
    rule = "|" + "|".join("---:" if is_number else ":---" for is_number in numeric) + "|"
    body = [
        "| " + " | ".join(_markdown_cell(value) for value in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body]) + "\n"


def write_table(frame: pd.DataFrame, csv_path: PathLike, md_path: PathLike) -> None:
    """Write a table as CSV (full precision, for reuse) and markdown (3 decimals, for reading)."""
    with atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        Path(tmp).write_text(markdown_table(frame))
