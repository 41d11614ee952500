"""Labels, the seaborn look of every figure, and writing a figure to PNG and PDF."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.summary import natural_sort_key

CHANCE_LEVEL = 0.5
SAMPLES_AXIS_LABEL = "Attack training samples (members + non-members)"
SPARSITY_TOLERANCE = 1e-9

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

METRIC_LABELS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "auc": "AUC",
    "tpr_at_1pct_fpr": "TPR at FPR < 1%",
    "tpr_at_0.1pct_fpr": "TPR at FPR < 0.1%",
    "advantage": "advantage (TPR - FPR)",
    "advantage_oracle": "oracle advantage (best threshold on the evaluation rows)",
}
# Metrics shown in percent; the others (AUC, advantage) are plain numbers.
PERCENT_METRICS = frozenset(
    {"accuracy", "precision", "recall", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr"}
)
# Value a guessing attack reaches on the balanced evaluation set; heatmaps centre on it.
METRIC_CHANCE = {"accuracy": 0.5, "precision": 0.5, "auc": 0.5, "advantage": 0.0}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


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


def model_label(arch: str, sparsity: float, method: str | None = None) -> str:
    """Label of one model in the transfer heatmap, e.g. ``ResNet-18 p=0.8``, or with the pruning
    ``method`` of a ticket, ``ResNet-18 snip p=0.8``."""
    suffix = " (dense)" if sparsity == 0.0 else ""
    named = f" {method}" if method and sparsity != 0.0 else ""
    return f"{arch_label(arch)}{named} p={sparsity:g}{suffix}"


def ordered_datasets(names: Iterable[str]) -> list[str]:
    """Datasets in paper order (fewest classes first), unknown names after, by name."""

    def key(name: str) -> tuple[int, tuple[Any, ...]]:
        lowered = name.lower()
        rank = _DATASET_ORDER.index(lowered) if lowered in _DATASET_ORDER else len(_DATASET_ORDER)
        return rank, natural_sort_key(name)

    return sorted(set(names), key=key)


def ordered_archs(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=natural_sort_key)


@dataclass(frozen=True)
class FigureStyle:
    """The config's ``figures:`` look: seaborn context, palette name, raster resolution (the
    defaults equal the schema's, which a test checks)."""

    context: str = "paper"
    palette: str = "colorblind"
    dpi: int = 200


def figure_style(style: Mapping[str, Any]) -> FigureStyle:
    """Read the look from the config's ``figures:`` section (checked by the config gate, which
    also knows the seaborn palettes); the keys that say what to plot are ignored here."""
    defaults = FigureStyle()
    return FigureStyle(
        context=style.get("context", defaults.context),
        palette=style.get("palette", defaults.palette),
        dpi=style.get("dpi", defaults.dpi),
    )


class Panels(NamedTuple):
    """What the per-architecture figures share: the look, datasets (one panel column or row each)
    in paper order, and one colour and marker per architecture (unpacks in that order)."""

    look: FigureStyle
    datasets: list[str]
    archs: list[str]
    arch_looks: dict[str, dict[str, Any]]


def panels_for(rows: pd.DataFrame, style: Mapping[str, Any]) -> Panels:
    """The panels of a figure drawing ``rows`` (columns ``dataset`` and ``arch``)."""
    look = figure_style(style)
    archs = ordered_archs(rows["arch"])
    return Panels(look, ordered_datasets(rows["dataset"]), archs, arch_styles(archs, look))


@contextlib.contextmanager
def styled(style: FigureStyle) -> Iterator[None]:
    """Apply the seaborn look for one figure only: the caller's rcParams are left as they were."""
    with sns.plotting_context(style.context), sns.axes_style("whitegrid"):
        yield


def arch_styles(archs: Sequence[str], style: FigureStyle) -> dict[str, dict[str, Any]]:
    """One colour and one marker per architecture, the same in every panel of a figure."""
    colours = sns.color_palette(style.palette, n_colors=max(len(archs), 1))
    return {
        arch: {"color": colours[i], "marker": _MARKERS[i % len(_MARKERS)]}
        for i, arch in enumerate(archs)
    }


def save_figure(fig: Figure, png: PathLike, pdf: PathLike, dpi: int) -> None:
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
