"""The paper's figures, regenerated from ``summary.parquet`` and the transfer cells.

Each plot function draws one figure, writes it twice, as PNG (for the report) and PDF (for a
paper), both atomically, and returns it detached from pyplot (its axes can still be inspected).
Conventions shared by every figure:

* Sparsity axes are log-spaced in the fraction of weights *kept* and labelled with the sparsity
  (% of *prunable* weights pruned: conv and linear weights, ``fc`` excluded by default; the share
  of all parameters is ``achieved_sparsity_all_parameters`` in the summary). Iterative pruning
  grids (0, 20, 36, 49, ... %) are then evenly spaced, and the high-sparsity end, where the paper
  sees attack accuracy fall, is not squeezed into a corner. Sparsity 0 is labelled "dense": the original network, not a ticket.
* Every point carries its 95% interval: with one seed the stratified bootstrap interval over the
  evaluation rows, with several seeds the interval over seeds and evaluation rows
  (``stats.over_seeds``); the title says which. A point without an interval has no bar (never a
  zero-length one). The bars take part in autoscaling, so no axis zooms noise into an effect.
  Figure 4's cells carry theirs as text, with several seeds counting training and row noise
  together (``transfer_cells``), and are hatched where the interval contains chance.
* Attack panels carry the chance level 0.5 as a dashed line (the evaluation set is balanced).
* When the requested sample count or sparsity was not run for a dataset, the nearest available
  value is used and the panel title says so, rather than failing or silently plotting another.
"""

import importlib
import pkgutil
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # Figures are files: never ask for a display (cluster nodes have none).

from lottery_mia.figures.accuracy_vs_sparsity import plot_test_accuracy
from lottery_mia.figures.attack_vs_samples import plot_attack_vs_samples
from lottery_mia.figures.attack_vs_sparsity import plot_attack_vs_sparsity
from lottery_mia.figures.forest import plot_forest
from lottery_mia.figures.gap_vs_auc import plot_gap_vs_auc
from lottery_mia.figures.methods import plot_methods
from lottery_mia.figures.per_class import plot_per_class, plot_per_class_frequency
from lottery_mia.figures.roc_curves import plot_roc_curves
from lottery_mia.figures.style import (
    FigureStyle,
    arch_label,
    dataset_label,
    figure_style,
    model_label,
    sparsity_label,
)
from lottery_mia.figures.summary_rows import (
    model_accuracies,
    nearest_sparsity,
    rows_of_method,
    with_method,
)
from lottery_mia.figures.transfer_heatmap import plot_transfer_heatmap, transfer_grid

__all__ = [
    "FigureStyle",
    "arch_label",
    "dataset_label",
    "drawing",
    "drawings",
    "figure_style",
    "model_accuracies",
    "model_label",
    "nearest_sparsity",
    "plot_attack_vs_samples",
    "plot_attack_vs_sparsity",
    "plot_forest",
    "plot_gap_vs_auc",
    "plot_methods",
    "plot_per_class",
    "plot_per_class_frequency",
    "plot_roc_curves",
    "plot_test_accuracy",
    "plot_transfer_heatmap",
    "rows_of_method",
    "sparsity_label",
    "transfer_grid",
    "with_method",
]


def drawings() -> dict[str, Callable[..., object]]:
    """Each figure rule's step by the rule's name: ``draw`` of every module of this package that
    names its rule in ``RULE``. A new figure is such a module, its rule and its caption; nothing
    else names it."""
    found: dict[str, Callable[..., object]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if rule is not None:
            if rule in found:
                raise LookupError(f"two modules of lottery_mia.figures draw rule {rule!r}")
            found[rule] = module.draw
    return found


def drawing(rule: str) -> Callable[..., object]:
    """The step of figure rule ``rule`` (``workflow_scripts/draw_figure.py``)."""
    steps = drawings()
    if rule not in steps:
        raise LookupError(f"no module of lottery_mia.figures has RULE = {rule!r}")
    return steps[rule]
