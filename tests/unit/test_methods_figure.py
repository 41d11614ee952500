"""Figures and tables with several pruning methods: the methods figure, the per-method selection
of Figures 1-3 and Table 1, and transfer heatmap labels that name the method."""

import numpy as np
import pandas as pd
import pytest

from lottery_mia import figures
from lottery_mia.figures.methods import method_lines
from lottery_mia.figures.transfer_heatmap import transfer_grid

METHODS = ("magnitude", "random", "snip")
SPARSITIES = (0.5, 0.8)


def _row(method, sparsity, seed=0, auc=0.6, accuracy=0.9):
    return {
        "dataset": "digits", "arch": "resnet18", "seed": seed, "method": method,
        "sparsity": sparsity, "n_samples": 400, "attack": "mlp", "accuracy": auc - 0.05,
        "auc": auc, "auc_ci_low": auc - 0.04, "auc_ci_high": auc + 0.03,
        "train_accuracy": 1.0, "test_accuracy": accuracy,
    }  # fmt: skip


def _summary(seeds=(0,)):
    rows = [_row("dense", 0.0, seed, auc=0.62, accuracy=0.95) for seed in seeds]
    for i, method in enumerate(METHODS):
        for p in SPARSITIES:
            for seed in seeds:
                rows.append(_row(method, p, seed, auc=0.55 + 0.01 * i + 0.01 * seed, accuracy=p))
    return pd.DataFrame(rows)


def test_every_method_line_starts_at_the_shared_dense_model():
    lines = method_lines(_summary(), "auc")
    assert set(lines["method"]) == set(METHODS)
    for method in METHODS:
        line = lines[lines["method"] == method].sort_values("sparsity")
        assert list(line["sparsity"]) == [0.0, *SPARSITIES]
        assert line["mean"].iloc[0] == pytest.approx(0.62)
        assert line["low"].iloc[0] == pytest.approx(0.58)  # the dense model's own interval


def test_several_seeds_give_mean_and_an_interval_over_seeds_and_rows():
    lines = method_lines(_summary(seeds=(0, 1)), "auc")
    snip = lines[(lines["method"] == "snip") & (lines["sparsity"] == 0.5)].iloc[0]
    assert snip["seeds"] == 2 and snip["interval"] == "seeds and rows"
    assert snip["mean"] == pytest.approx(0.575)
    # Wider than the seeds' own spread: each seed's row interval (0.07 wide) counts too.
    assert snip["high"] - snip["low"] > 0.07 * 0.9


def test_the_methods_figure_draws_intervals_from_the_summary(tmp_path):
    fig = figures.plot_methods(
        _summary(), "mlp", 400, tmp_path / "m.png", tmp_path / "m.pdf", {"dpi": 50}
    )
    auc_axis, accuracy_axis = fig.axes[0], fig.axes[1]
    labels = auc_axis.get_legend_handles_labels()[1]
    assert set(METHODS) <= set(labels)
    assert len(auc_axis.collections) >= len(METHODS)  # one set of error bars per method
    assert "95% bootstrap interval over evaluation rows" in fig._suptitle.get_text()
    assert (tmp_path / "m.png").stat().st_size > 0 and (tmp_path / "m.pdf").stat().st_size > 0
    assert accuracy_axis.get_ylabel().startswith("Test")


def test_figures_of_one_method_keep_its_tickets_and_the_dense_model():
    rows = figures.rows_of_method(_summary(), "random")
    assert set(rows["method"]) == {"dense", "random"}
    with pytest.raises(ValueError, match=r"no tickets of method 'imp'; methods present"):
        figures.rows_of_method(_summary(), "imp")


def _cells(methods):
    """Figure 4's cells (one seed) of a dense model and its tickets of ``methods``."""
    models = [("resnet18", "dense", 0.0)] + [("resnet18", m, 0.8) for m in methods]
    fields = ("arch", "method", "sparsity")
    rows = []
    for source in models:
        for target in models:
            rows.append(
                {
                    **{f"source_{k}": v for k, v in zip(fields, source, strict=True)},
                    **{f"target_{k}": v for k, v in zip(fields, target, strict=True)},
                    "attack": "mlp",
                    "n_samples": 400,
                    "n_pairs": 1,
                    "n_source_seeds": 1,
                    "n_target_seeds": 1,
                    "accuracy": 0.7 if source == target else 0.6,
                    "accuracy_ci_low": 0.5,
                    "accuracy_ci_high": 0.8,
                }
            )
    return pd.DataFrame(rows)


def test_transfer_labels_name_the_method_only_when_there_are_several():
    several = transfer_grid(_cells(["magnitude", "snip"]), "accuracy")
    assert list(several.index) == [
        "ResNet-18 p=0 (dense)", "ResNet-18 magnitude p=0.8", "ResNet-18 snip p=0.8",
    ]  # fmt: skip
    assert np.allclose(np.diag(several.to_numpy()), 0.7)
    one = transfer_grid(_cells(["magnitude"]), "accuracy")
    assert list(one.index) == ["ResNet-18 p=0 (dense)", "ResNet-18 p=0.8"]
