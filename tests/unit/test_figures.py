"""Tests of the paper's figures and Table 1 drawn from a hand-made summary."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from lottery_mia import figures, tables
from lottery_mia.attack_scores import score_key
from lottery_mia.figures.summary_rows import seed_note
from lottery_mia.stats.metrics import METRIC_NAMES
from lottery_mia.summary import build_summary

STYLE = {"context": "paper", "palette": "colorblind", "dpi": 40}  # low dpi keeps the tests fast
ARCHS = ("resnet18", "resnet50")
SPARSITIES = (0.0, 0.5, 0.8, 0.9)
SAMPLE_COUNTS = (400, 1000, 2000)
ATTACKS = ("mlp", "loss")
SEEDS = (0, 1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def attack_accuracy(dataset: str, arch: str, seed: int, p: float, n: int, attack: str) -> float:
    """A distinct, reproducible accuracy per result, so a wrong row selection shows up."""
    base = 0.55 if dataset == "cifar10" else 0.7
    return (
        base
        + 0.04 * p
        + 0.01 * ARCHS.index(arch)
        + 0.002 * seed
        + 0.003 * SAMPLE_COUNTS.index(n)
        + 0.0005 * ATTACKS.index(attack)
    )


def test_accuracy_of(dataset: str, arch: str, seed: int, p: float) -> float:
    return (0.93 if dataset == "cifar10" else 0.74) - 0.05 * p**2 - 0.01 * seed


test_accuracy_of.__test__ = False  # a helper, not a test


def complete(record: dict[str, Any]) -> dict[str, Any]:
    """The rest of an attack record: intervals of +-0.02 around each metric, the oracle
    advantage, the FPR resolution of a balanced evaluation set and the achieved sparsities."""
    record = {"advantage_oracle": max(record["advantage"], 0.0), **record}
    for name in METRIC_NAMES:
        floor = -1.0 if name.startswith("advantage") else 0.0
        record[f"{name}_ci_low"] = max(record[name] - 0.02, floor)
        record[f"{name}_ci_high"] = min(record[name] + 0.02, 1.0)
    return {
        "min_resolvable_fpr": 2 / record["n_eval"],
        "achieved_sparsity": record["sparsity"],
        "achieved_sparsity_all_parameters": 0.98 * record["sparsity"],
        **record,
    }


def synthetic_summary(datasets: tuple[str, ...]) -> pd.DataFrame:
    records = []
    for dataset, arch, seed, p, n, attack in itertools.product(
        datasets, ARCHS, SEEDS, SPARSITIES, SAMPLE_COUNTS, ATTACKS
    ):
        accuracy = attack_accuracy(dataset, arch, seed, p, n, attack)
        records.append(
            {
                "dataset": dataset,
                "arch": arch,
                "seed": seed,
                "method": "dense" if p == 0 else "magnitude",
                "sparsity": p,
                "n_samples": n,
                "attack": attack,
                "accuracy": accuracy,
                "precision": accuracy + 0.01,
                "recall": accuracy - 0.02,
                "auc": accuracy + 0.03,
                "tpr_at_1pct_fpr": 0.02,
                "tpr_at_0.1pct_fpr": float("nan"),  # 250 non-members cannot resolve 0.1%
                "advantage": 2 * accuracy - 1,
                "n_eval": 500,
                "train_accuracy": 1.0,
                "test_accuracy": test_accuracy_of(dataset, arch, seed, p),
            }
        )
    return build_summary(complete(record) for record in records)


def transfer_cells(n_seeds: int = 1) -> pd.DataFrame:
    """Figure 4's cells as the transfer job writes them: every kind attacks every kind, the
    accuracy encoding source and target, its interval +-0.03, the pair counts of ``n_seeds``."""
    kinds = list(itertools.product(ARCHS, SPARSITIES))
    rows = []
    for (source_arch, source_p), (target_arch, target_p) in itertools.product(kinds, kinds):
        accuracy = (
            0.6
            + 0.1 * ARCHS.index(source_arch)
            + 0.01 * SPARSITIES.index(source_p)
            + 0.001 * SPARSITIES.index(target_p)
            + 0.02 * ARCHS.index(target_arch)
        )
        diagonal = (source_arch, source_p) == (target_arch, target_p)
        rows.append(
            {
                "source_arch": source_arch,
                "source_method": "dense" if source_p == 0 else "magnitude",
                "source_sparsity": source_p,
                "target_arch": target_arch,
                "target_method": "dense" if target_p == 0 else "magnitude",
                "target_sparsity": target_p,
                "attack": "mlp",
                "n_samples": 1000,
                "n_pairs": n_seeds if diagonal else n_seeds**2,
                "n_source_seeds": n_seeds,
                "n_target_seeds": n_seeds,
                "accuracy": accuracy,
                "accuracy_ci_low": accuracy - 0.03,
                "accuracy_ci_high": accuracy + 0.03,
                "recall": accuracy,
                "recall_ci_low": 0.4,
                "recall_ci_high": 0.9,
            }
        )
    # Shuffled, so the ordering under test comes from the code, not from the input.
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


def assert_png_and_pdf(png: Path, pdf: Path) -> None:
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000
    leftovers = [p.name for p in png.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def series(fig: Figure, panel: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (x, y) data of each labelled error-bar series drawn in one panel."""
    ax = fig.axes[panel]
    drawn = {}
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            line = container.lines[0]
            drawn[container.get_label()] = (
                np.asarray(line.get_xdata(), dtype=float),
                np.asarray(line.get_ydata(), dtype=float),
            )
    return drawn


DATASET_CASES = [("cifar10",), ("cifar10", "cifar100")]


@pytest.mark.parametrize("datasets", DATASET_CASES, ids=["one-dataset", "two-datasets"])
def test_every_figure_writes_png_and_pdf(tmp_path: Path, datasets: tuple[str, ...]) -> None:
    summary = synthetic_summary(datasets)
    calls = {
        "fig1": lambda png, pdf: figures.plot_test_accuracy(summary, png, pdf, STYLE),
        "fig2": lambda png, pdf: figures.plot_attack_vs_sparsity(
            summary, 1000, "mlp", png, pdf, STYLE
        ),
        "fig3": lambda png, pdf: figures.plot_attack_vs_samples(
            summary, 0.8, "mlp", png, pdf, STYLE
        ),
        "fig4": lambda png, pdf: figures.plot_transfer_heatmap(
            transfer_cells(n_seeds=2), "accuracy", png, pdf, STYLE, dataset=datasets[-1]
        ),
    }
    for name, plot in calls.items():
        png, pdf = tmp_path / "figures" / f"{name}.png", tmp_path / "figures" / f"{name}.pdf"
        fig = plot(png, pdf)
        assert_png_and_pdf(png, pdf)
        if name != "fig4":
            # One panel per dataset (Figure 1), two rows (2), three columns (3).
            per_dataset = {"fig1": 1, "fig2": 2, "fig3": 3}[name]
            assert len(fig.axes) == per_dataset * len(datasets)


def test_figure1_plots_mean_test_accuracy_over_seeds_against_sparsity(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10", "cifar100"))
    fig = figures.plot_test_accuracy(summary, tmp_path / "f.png", tmp_path / "f.pdf", STYLE)
    assert [ax.get_title() for ax in fig.axes] == ["CIFAR-10", "CIFAR-100"]
    drawn = series(fig, panel=1)
    assert sorted(drawn) == ["ResNet-18", "ResNet-50"]
    x, y = drawn["ResNet-50"]
    expected = [
        np.mean([test_accuracy_of("cifar100", "resnet50", s, p) for s in SEEDS]) for p in SPARSITIES
    ]
    np.testing.assert_allclose(y, expected)
    np.testing.assert_allclose(x, [1.0 - p for p in SPARSITIES])  # plotted as fraction kept
    tick_labels = [label.get_text() for label in fig.axes[0].get_xticklabels()]
    assert "0%\n(dense)" in tick_labels and "80%" in tick_labels


def test_figure1_rejects_a_model_with_two_different_accuracies(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    summary.loc[0, "test_accuracy"] = 0.1
    with pytest.raises(ValueError, match="disagree on train/test accuracy"):
        figures.plot_test_accuracy(summary, tmp_path / "f.png", tmp_path / "f.pdf", STYLE)


def test_figure2_uses_requested_sample_count_and_draws_chance(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    fig = figures.plot_attack_vs_sparsity(
        summary, 1000, "loss", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
    )
    assert fig.axes[0].get_title() == "CIFAR-10, n = 1,000"  # neither smallest nor largest
    _, y = series(fig, panel=0)["ResNet-18"]
    expected = [
        np.mean([attack_accuracy("cifar10", "resnet18", s, p, 1000, "loss") for s in SEEDS])
        for p in SPARSITIES
    ]
    np.testing.assert_allclose(y, expected)
    _, auc = series(fig, panel=1)["ResNet-18"]
    np.testing.assert_allclose(auc, np.asarray(expected) + 0.03)
    for ax in fig.axes:
        chance = [line for line in ax.get_lines() if line.get_label() == "chance (0.5)"]
        assert len(chance) == 1 and list(chance[0].get_ydata()) == [0.5, 0.5]


def test_figure2_falls_back_to_largest_sample_count_and_says_so(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    fig = figures.plot_attack_vs_sparsity(
        summary, 50_000, "mlp", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
    )
    assert fig.axes[0].get_title() == "CIFAR-10, n = 2,000 (50,000 not run)"
    _, y = series(fig, panel=0)["ResNet-50"]
    expected = [
        np.mean([attack_accuracy("cifar10", "resnet50", s, p, 2000, "mlp") for s in SEEDS])
        for p in SPARSITIES
    ]
    np.testing.assert_allclose(y, expected)


def test_a_one_seed_title_says_one_seed_once_on_its_own_line(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    summary = summary[summary["seed"] == summary["seed"].min()]
    fig = figures.plot_attack_vs_sparsity(
        summary, 1000, "mlp", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
    )
    heading, note = fig._suptitle.get_text().split("\n")
    assert heading == "Membership inference (mlp attack) vs sparsity"
    assert note == "one seed; bars: 95% bootstrap interval over evaluation rows"


def test_a_title_mixing_one_and_several_seeds_says_which_bars_are_which() -> None:
    stats = pd.DataFrame(
        {"seeds": [1, 3], "interval": ["rows", "seeds and rows"], "low": [0.4, 0.45]}
    )
    assert seed_note(stats) == (
        "mean over 1-3 seeds; bars: 95% bootstrap interval over evaluation rows (one-seed "
        "groups); interval over seeds and evaluation rows"
    )


def test_figure3_uses_nearest_sparsity_and_says_so(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    fig = figures.plot_attack_vs_samples(
        summary, 0.86, "mlp", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
    )
    assert fig.axes[0].get_title() == "CIFAR-10, p = 0.9 (0.86 not run)"
    x, y = series(fig, panel=1)["ResNet-18"]  # precision panel
    np.testing.assert_allclose(x, SAMPLE_COUNTS)
    expected = [
        np.mean([attack_accuracy("cifar10", "resnet18", s, 0.9, n, "mlp") for s in SEEDS]) + 0.01
        for n in SAMPLE_COUNTS
    ]
    np.testing.assert_allclose(y, expected)
    assert fig.axes[0].get_xscale() == "linear"  # 400..2000 is not a wide range


def test_figure3_uses_log_axis_for_a_wide_sample_range(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    summary.loc[summary["n_samples"] == 2000, "n_samples"] = 20_000
    fig = figures.plot_attack_vs_samples(
        summary, 0.8, "mlp", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
    )
    assert fig.axes[0].get_title() == "CIFAR-10, p = 0.8"
    assert all(ax.get_xscale() == "log" for ax in fig.axes)


def test_unknown_attack_is_reported_with_the_attacks_present(tmp_path: Path) -> None:
    summary = synthetic_summary(("cifar10",))
    with pytest.raises(
        ValueError, match=r"no rows for attack 'lira'; attacks present: \['loss', 'mlp'\]"
    ):
        figures.plot_attack_vs_sparsity(
            summary, 400, "lira", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
        )


def test_nearest_sparsity_prefers_exact_then_closest_then_lower() -> None:
    assert figures.nearest_sparsity([0.0, 0.5, 0.8, 0.9], 0.8) == 0.8
    assert figures.nearest_sparsity([0.0, 0.5, 0.8, 0.9], 0.84) == 0.8
    assert figures.nearest_sparsity([0.0, 0.25, 0.75], 0.5) == 0.25  # exact tie: the lower
    assert figures.nearest_sparsity([0.0, 0.5, 0.8, 0.9], 0.99) == 0.9
    assert figures.nearest_sparsity([0.0, 0.5], 0.1) == 0.0
    assert figures.nearest_sparsity([0.0, 0.5], 0.1, exclude_dense=True) == 0.5
    with pytest.raises(ValueError, match="no non-zero sparsity available"):
        figures.nearest_sparsity([0.0], 0.8, exclude_dense=True)


def test_transfer_grid_orders_models_by_arch_then_sparsity_with_diagonal() -> None:
    cells = transfer_cells()
    grid = figures.transfer_grid(cells, "accuracy")
    expected_labels = [
        "ResNet-18 p=0 (dense)",
        "ResNet-18 p=0.5",
        "ResNet-18 p=0.8",
        "ResNet-18 p=0.9",
        "ResNet-50 p=0 (dense)",
        "ResNet-50 p=0.5",
        "ResNet-50 p=0.8",
        "ResNet-50 p=0.9",
    ]
    assert list(grid.index) == expected_labels
    assert list(grid.columns) == expected_labels
    # Diagonal cell (i, i): source kind == target kind.
    for i, (arch, p) in enumerate(itertools.product(ARCHS, SPARSITIES)):
        same = cells[
            (cells["source_arch"] == arch)
            & (cells["target_arch"] == arch)
            & (cells["source_sparsity"] == p)
            & (cells["target_sparsity"] == p)
        ]
        assert grid.iloc[i, i] == pytest.approx(same["accuracy"].item())
    # Off the diagonal: row = source, column = target (ResNet-50 source adds 0.1, target 0.02).
    assert grid.loc["ResNet-50 p=0.5", "ResNet-18 p=0.9"] == pytest.approx(0.6 + 0.1 + 0.01 + 0.003)
    low = figures.transfer_grid(cells, "accuracy_ci_low")
    assert low.loc["ResNet-50 p=0.5", "ResNet-18 p=0.9"] == pytest.approx(0.713 - 0.03)


def heatmap(cells: pd.DataFrame, tmp_path: Path, metric: str = "accuracy") -> Figure:
    return figures.plot_transfer_heatmap(
        cells, metric, tmp_path / "h.png", tmp_path / "h.pdf", STYLE, dataset="cifar100"
    )


def patches(fig: Figure, label: str) -> list[tuple[int, int]]:
    """(column, row) of the heatmap's patches of one ``label`` (diagonal or hatched)."""
    found = [p for p in fig.axes[0].patches if p.get_label() == label]
    return sorted((int(p.get_x()), int(p.get_y())) for p in found)


def test_transfer_heatmap_outlines_the_diagonal_and_annotates_values_and_intervals(
    tmp_path: Path,
) -> None:
    fig = heatmap(transfer_cells(), tmp_path)
    ax = fig.axes[0]
    assert patches(fig, figures.transfer_heatmap.DIAGONAL_LABEL) == [(i, i) for i in range(8)]
    annotations = [text.get_text() for text in ax.texts]
    assert len(annotations) == 2 * 64  # a value and its interval per cell
    assert annotations[0] == "0.60" and "[0.57, 0.63]" in annotations
    assert ax.get_title() == (
        "CIFAR-100: transfer of the mlp attack (n = 1,000)\n"
        "attack accuracy [95% interval]; diagonal outlined; hatched: interval contains chance "
        "(0.5)\none seed"
    )


def test_transfer_heatmap_hatches_the_cells_whose_interval_contains_chance(tmp_path: Path) -> None:
    cells = transfer_cells()
    dense_to_ticket = (cells["source_sparsity"] == 0.0) & (cells["target_sparsity"] == 0.9)
    resnet18 = (cells["source_arch"] == "resnet18") & (cells["target_arch"] == "resnet18")
    near_chance = dense_to_ticket & resnet18  # row 0, column 3
    cells.loc[near_chance, ["accuracy", "accuracy_ci_low", "accuracy_ci_high"]] = (0.52, 0.48, 0.56)
    just_above = dense_to_ticket & ~resnet18 & (cells["source_arch"] == "resnet18")  # row 0, col 7
    cells.loc[just_above, ["accuracy", "accuracy_ci_low", "accuracy_ci_high"]] = (0.55, 0.501, 0.6)
    fig = heatmap(cells, tmp_path)
    hatched = [p for p in fig.axes[0].patches if p.get_label() == "interval contains chance"]
    assert hatched and all(p.get_hatch() for p in hatched)
    assert patches(fig, "interval contains chance") == [(3, 0)]
    # Recall has no chance level (it depends on the threshold): nothing is hatched.
    assert patches(heatmap(cells, tmp_path, "recall"), "interval contains chance") == []


def colour_scale(fig: Figure) -> tuple[float, float]:
    """The (low, high) ends of the heatmap's colour scale."""
    (mesh,) = fig.axes[0].collections
    return mesh.get_clim()


def test_transfer_heatmap_colours_span_the_intervals_centred_on_chance(tmp_path: Path) -> None:
    # Estimates 0.600-0.753, intervals +-0.03: the scale reaches 0.783, as far below 0.5 as above.
    low, high = colour_scale(heatmap(transfer_cells(), tmp_path))
    assert (low, high) == (pytest.approx(0.217), pytest.approx(0.783))
    # Near-chance noise (estimates 0.49-0.51, intervals +-0.05) stays near the neutral colour.
    cells = transfer_cells()
    cells["accuracy"] = 0.49 + 0.02 * (cells.index % 2)
    cells["accuracy_ci_low"], cells["accuracy_ci_high"] = (
        cells.accuracy - 0.05,
        cells.accuracy + 0.05,
    )
    low, high = colour_scale(heatmap(cells, tmp_path))
    assert (low, high) == (pytest.approx(0.44), pytest.approx(0.56))
    # Without a chance level (recall) the scale runs from the lowest to the highest interval end.
    assert colour_scale(heatmap(transfer_cells(), tmp_path, "recall")) == (0.4, 0.9)


def test_transfer_heatmap_with_several_seeds_states_both_pair_counts(tmp_path: Path) -> None:
    title = heatmap(transfer_cells(n_seeds=3), tmp_path).axes[0].get_title()
    assert title.endswith(
        "diagonal: mean over 3 seeds (same-seed pairs); off-diagonal: mean over 3² = 9 seed pairs"
    )


def test_a_cell_without_an_interval_shows_its_value_only(tmp_path: Path) -> None:
    cells = transfer_cells()
    cells.loc[0, ["accuracy_ci_low", "accuracy_ci_high"]] = np.nan
    texts = [text.get_text() for text in heatmap(cells, tmp_path).axes[0].texts]
    assert len(texts) == 64 + 63
    assert sum(text.startswith("[") for text in texts) == 63


def test_transfer_cells_of_two_attacks_are_rejected() -> None:
    cells = transfer_cells()
    cells.loc[0, "attack"] = "svm"
    with pytest.raises(ValueError, match="transfer cells mix attack values"):
        figures.transfer_grid(cells, "accuracy")


def test_transfer_grid_rejects_unknown_metric() -> None:
    with pytest.raises(ValueError, match="metric 'loss' is not an attack metric"):
        figures.transfer_grid(transfer_cells(), "loss")


def hand_made_summary() -> pd.DataFrame:
    """Two seeds of a dense model and tickets at 0.5 and 0.9, one sample count, hand-set values."""
    rows: list[dict[str, Any]] = []
    values = {  # (sparsity, seed) -> (accuracy, precision)
        (0.0, 0): (0.503, 0.504),
        (0.0, 1): (0.507, 0.510),
        (0.5, 0): (0.600, 0.610),
        (0.5, 1): (0.620, 0.630),
        (0.9, 0): (0.744, 0.750),
        (0.9, 1): (0.746, 0.752),
    }
    for (p, seed), (accuracy, precision) in values.items():
        rows.append(
            {
                "dataset": "cifar100",
                "arch": "resnet18",
                "seed": seed,
                "method": "dense" if p == 0 else "magnitude",
                "sparsity": p,
                "n_samples": 20_000,
                "attack": "mlp",
                "accuracy": accuracy,
                "precision": precision,
                "recall": 0.5,
                "auc": 0.5,
                "tpr_at_1pct_fpr": 0.01,
                "tpr_at_0.1pct_fpr": 0.001,
                "advantage": 0.0,
                "n_eval": 200,
                "train_accuracy": 1.0,
                "test_accuracy": 0.7,
            }
        )
    return build_summary(complete(row) for row in rows)


def scores_for(summary: pd.DataFrame, n_per_class: int = 50) -> dict:
    """A scores table for every model and sample count of ``summary`` (seeded per model)."""
    keys = summary[["attack", "dataset", "arch", "seed", "sparsity", "n_samples"]]
    scores = {}
    for index, row in enumerate(keys.drop_duplicates().itertuples(index=False)):
        rng = np.random.default_rng(index)
        member = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]
        score = rng.normal(size=member.size) + 0.5 * member
        frame = pd.DataFrame(
            {
                "sample_id": np.r_[np.arange(n_per_class), np.arange(n_per_class)],
                "pool": np.where(member, "train", "test"),
                "member": member,
                "label": np.tile(np.arange(5), 2 * n_per_class // 5),
                "score": score,
                "predicted": score > 0.25,
            }
        )
        scores[score_key(*row)] = frame
    return scores


def table1(summary: pd.DataFrame, attack: str, ticket_sparsity: float) -> pd.DataFrame:
    return tables.table1(summary, [attack], ticket_sparsity, scores_for(summary), n_resamples=200)


def test_table1_compares_dense_baseline_with_nearest_ticket() -> None:
    table = table1(hand_made_summary(), "mlp", ticket_sparsity=0.8)
    assert list(table.columns) == list(tables.TABLE1_COLUMNS)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["dataset"], row["arch"], row["n_samples"]) == ("cifar100", "resnet18", 20_000)
    assert row["ticket_sparsity"] == 0.9  # 0.8 was not run; 0.9 is nearer than 0.5
    assert row["n_seeds"] == 2
    assert row["baseline_accuracy"] == pytest.approx((0.503 + 0.507) / 2)
    assert row["baseline_precision"] == pytest.approx((0.504 + 0.510) / 2)
    assert row["ticket_accuracy"] == pytest.approx((0.744 + 0.746) / 2)
    assert row["ticket_precision"] == pytest.approx((0.750 + 0.752) / 2)


def test_table1_never_picks_the_dense_model_as_ticket() -> None:
    table = table1(hand_made_summary(), "mlp", ticket_sparsity=0.1)
    assert table["ticket_sparsity"].tolist() == [0.5]
    assert table["ticket_accuracy"].tolist() == [pytest.approx(0.61)]


def test_table1_rejects_baseline_and_ticket_from_different_seeds() -> None:
    summary = hand_made_summary()
    summary = summary[~((summary["sparsity"] == 0.9) & (summary["seed"] == 1))]
    with pytest.raises(ValueError, match=r"baseline seeds \[0, 1\] differ from ticket"):
        table1(summary, "mlp", ticket_sparsity=0.9)


def test_table1_requires_a_dense_baseline() -> None:
    summary = hand_made_summary()
    summary = summary[summary["sparsity"] > 0]
    with pytest.raises(ValueError, match=r"no dense baseline \(sparsity 0\)"):
        table1(summary, "mlp", ticket_sparsity=0.9)


def test_table1_one_row_per_dataset_arch_and_sample_count() -> None:
    table = table1(synthetic_summary(("cifar10", "cifar100")), "mlp", 0.8)
    keys = list(table[["dataset", "arch", "n_samples"]].itertuples(index=False, name=None))
    assert keys == list(itertools.product(("cifar10", "cifar100"), ARCHS, SAMPLE_COUNTS))
    first = table.iloc[0]
    assert first["baseline_accuracy"] == pytest.approx(
        np.mean([attack_accuracy("cifar10", "resnet18", s, 0.0, 400, "mlp") for s in SEEDS])
    )


def test_write_table_writes_full_precision_csv_and_readable_markdown(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {"dataset": ["cifar10", "a|b"], "n_samples": [400, 1000], "accuracy": [0.50349, np.nan]}
    )
    csv_path, md_path = tmp_path / "tables" / "t.csv", tmp_path / "tables" / "t.md"
    tables.write_table(table, csv_path, md_path)
    pd.testing.assert_frame_equal(pd.read_csv(csv_path), table)
    assert md_path.read_text().splitlines() == [
        "| dataset | n_samples | accuracy |",
        "|:---|---:|---:|",
        "| cifar10 | 400 | 0.503 |",
        r"| a\|b | 1000 | n/a |",
    ]


def test_figure_style_reads_look_and_ignores_other_figure_keys() -> None:
    style = figures.figure_style({"context": "talk", "dpi": 300, "n_samples": 50_000})
    assert style == figures.FigureStyle(context="talk", palette="colorblind", dpi=300)


def test_labels_for_datasets_and_architectures() -> None:
    assert figures.dataset_label("cifar100") == "CIFAR-100"
    assert figures.dataset_label("svhn") == "svhn"
    assert figures.arch_label("resnet50") == "ResNet-50"
    assert figures.arch_label("vgg11") == "vgg11"
    assert figures.model_label("resnet18", 0.8) == "ResNet-18 p=0.8"
    assert figures.sparsity_label(0.0) == "0%\n(dense)"
    assert figures.sparsity_label(0.488) == "48.8%"


def test_rerun_on_the_same_summary_writes_identical_files(tmp_path: Path) -> None:
    # Byte-identical outputs let a rerun be checked (and cached) by content.
    summary = synthetic_summary(("cifar10",))
    written = []
    for run in ("a", "b"):
        png, pdf = tmp_path / f"{run}.png", tmp_path / f"{run}.pdf"
        figures.plot_test_accuracy(summary, png, pdf, STYLE)
        written.append((png.read_bytes(), pdf.read_bytes()))
    assert written[0] == written[1]
