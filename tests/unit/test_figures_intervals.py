"""Figures and tables with intervals: Table 1's tested difference, error bars, ROC, gap, classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.container import ErrorbarContainer
from scipy import stats

from lottery_mia import figures, tables
from lottery_mia.attack_scores import score_key
from lottery_mia.figures.per_class import NO_RATED_CLASS, SAMPLING_BAND_LABEL
from lottery_mia.per_class_table import per_class_table
from lottery_mia.stats.over_seeds import seed_means_by_group
from lottery_mia.stats.paired import ticket_minus_dense
from lottery_mia.stats.verdicts import VERDICTS

STYLE = {"context": "paper", "palette": "colorblind", "dpi": 40}


def scores_frame(score, member, label=None):
    n = len(member)
    return pd.DataFrame(
        {
            "sample_id": np.arange(n),
            "pool": np.where(member, "train", "test"),
            "member": member,
            "label": np.arange(n) % 4 if label is None else label,
            "score": score,
            "predicted": score > np.median(score),
        }
    )


def dense_and_ticket(ticket_shift, seeds=(0,), n_per_class=400):
    """Scores of a dense model and its 80% ticket on the same rows, per seed: the ticket's
    member scores shifted by ``ticket_shift`` (0 = the same leakage up to noise)."""
    scores = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        member = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]
        shared = rng.normal(size=member.size) + 0.6 * member
        dense = shared + 0.2 * rng.normal(size=member.size)
        ticket = shared + 0.2 * rng.normal(size=member.size) + ticket_shift * member
        scores[score_key("mlp", "digits", "resnet18", seed, 0.0, 200)] = scores_frame(dense, member)
        scores[score_key("mlp", "digits", "resnet18", seed, 0.8, 200)] = scores_frame(
            ticket, member
        )
    return scores


def difference(scores, seeds=(0,)):
    comparison = ticket_minus_dense(scores, ("mlp", "digits", "resnet18", 200), 0.8, seeds, 300, 0)
    return comparison.differences, comparison.interval


def test_a_leakier_ticket_is_found_and_an_equal_one_is_not():
    leakier, interval = difference(dense_and_ticket(0.4))
    assert interval == "paired bootstrap over evaluation rows"
    assert leakier["auc"].ci95[0] > 0 and leakier["auc"].verdict(0.02) == "ticket leaks more"
    equal, _ = difference(dense_and_ticket(0.0))
    assert equal["auc"].ci95[0] < 0 < equal["auc"].ci95[1]
    assert equal["auc"].verdict(0.02) in ("equivalent", "inconclusive")


def test_several_seeds_give_an_interval_over_seeds_and_rows():
    seeds = (0, 1, 2)
    differences, interval = difference(dense_and_ticket(0.4, seeds), seeds)
    assert interval == "interval over 3 seeds and evaluation rows"
    per_seed = [difference(dense_and_ticket(0.4, seeds), (s,))[0]["auc"].estimate for s in seeds]
    assert differences["auc"].estimate == pytest.approx(np.mean(per_seed))
    assert differences["auc"].ci90[0] > differences["auc"].ci95[0]  # 90% inside 95%


def test_missing_scores_are_named():
    scores = dense_and_ticket(0.0)
    del scores[score_key("mlp", "digits", "resnet18", 0, 0.8, 200)]
    with pytest.raises(ValueError, match=r"no mlp attack scores .* sparsity 0.8"):
        difference(scores)


def agreeing_seeds(seeds, n_per_class=400):
    """Seeds whose models differ only a little on the same rows: the rows' noise is shared."""
    rng = np.random.default_rng(7)
    member = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]
    shared = rng.normal(size=member.size) + 0.6 * member
    ticket_shared = shared + 0.3 * rng.normal(size=member.size)
    scores = {}
    for seed in seeds:
        wobble = 0.01 * np.random.default_rng(100 + seed).normal(size=(2, member.size))
        for sparsity, score in ((0.0, shared + wobble[0]), (0.8, ticket_shared + wobble[1])):
            key = score_key("mlp", "digits", "resnet18", seed, sparsity, 200)
            scores[key] = scores_frame(score, member)
    return scores


def test_agreeing_seeds_keep_the_rows_noise_in_the_interval():
    """Seeds scored on the same rows that agree with each other: a t-interval over seeds would be
    far narrower than one seed's bootstrap; the interval over seeds and rows is not."""
    seeds = (0, 1, 2)
    scores = agreeing_seeds(seeds)
    one_seed, _ = difference(scores, (0,))
    several, _ = difference(scores, seeds)
    one_width = np.subtract(*one_seed["auc"].ci95[::-1])
    several_width = np.subtract(*several["auc"].ci95[::-1])
    estimates = [difference(scores, (s,))[0]["auc"].estimate for s in seeds]
    t_width = 2 * stats.t.ppf(0.975, 2) * stats.sem(estimates)
    assert t_width < 0.3 * one_width
    assert several_width > 0.8 * one_width


def summary_rows(seeds, auc_by_seed):
    rows = []
    for seed, auc in zip(seeds, auc_by_seed, strict=True):
        rows.append({"arch": "resnet18", "sparsity": 0.0, "seed": seed, "auc": auc,
                     "auc_ci_low": auc - 0.05, "auc_ci_high": auc + 0.07})  # fmt: skip
    return pd.DataFrame(rows)


def test_one_seed_shows_its_bootstrap_interval_several_an_interval_over_seeds_and_rows():
    one = seed_means_by_group(summary_rows([0], [0.6]), ["arch", "sparsity"], "auc").iloc[0]
    assert (one["mean"], one["low"], one["high"]) == pytest.approx((0.6, 0.55, 0.67))
    several = seed_means_by_group(
        summary_rows([0, 1, 2], [0.6, np.nan, 0.7]), ["arch", "sparsity"], "auc"
    ).iloc[0]
    assert several["mean"] == pytest.approx(0.65) and several["seeds"] == 2  # NaN left out
    assert several["interval"] == "seeds and rows"
    # Row share: each seed's interval is 0.12 wide, a standard error of 0.12 / 3.92.
    expected = np.sqrt(np.var([0.6, 0.7], ddof=1) / 2 + (0.12 / 3.92) ** 2)
    half_width = (several["high"] - several["low"]) / 2
    assert half_width > 1.96 * expected  # a t quantile (Satterthwaite df) above the normal one
    agreeing = seed_means_by_group(summary_rows([0, 1], [0.6, 0.6]), ["arch"], "auc").iloc[0]
    assert agreeing["high"] - agreeing["low"] == pytest.approx(2 * 1.96 * 0.12 / 3.92, rel=1e-3)


def test_figure_2_error_bars_are_the_intervals(tmp_path):
    from test_figures import synthetic_summary  # the shared hand-made grid

    summary = synthetic_summary(("cifar10",))
    summary = summary[summary["seed"] == 0]
    fig = figures.plot_attack_vs_sparsity(
        summary, 400, "mlp", tmp_path / "f.png", tmp_path / "f.pdf", STYLE
    )
    auc_panel = fig.axes[1]
    bars = [c for c in auc_panel.containers if isinstance(c, ErrorbarContainer)]
    assert bars, "no error bars on the AUC panel"
    segments = bars[0].lines[2][0].get_segments()
    heights = [segment[1][1] - segment[0][1] for segment in segments]
    assert heights == pytest.approx([0.04] * len(heights))  # +-0.02 around each point
    low, high = auc_panel.get_ylim()
    assert low <= 0.5 <= high  # chance stays on screen


def test_figure_1_bars_are_the_test_accuracy_interval_over_the_test_rows(tmp_path):
    from test_figures import synthetic_summary

    summary = synthetic_summary(("cifar10",))
    one_seed = summary[summary["seed"] == 0].assign(
        test_accuracy_ci_low=lambda frame: frame["test_accuracy"] - 0.01,
        test_accuracy_ci_high=lambda frame: frame["test_accuracy"] + 0.02,
    )
    fig = figures.plot_test_accuracy(one_seed, tmp_path / "f.png", tmp_path / "f.pdf", STYLE)
    bars = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2  # one line per architecture, each with its bars
    for container in bars:
        points = container.lines[0].get_ydata()
        segments = container.lines[2][0].get_segments()
        below = [point - segment[0][1] for point, segment in zip(points, segments, strict=True)]
        above = [segment[1][1] - point for point, segment in zip(points, segments, strict=True)]
        assert below == pytest.approx([0.01] * 4) and above == pytest.approx([0.02] * 4)
    assert fig.get_suptitle().endswith("one seed; bars: 95% Wilson interval over the test rows")


def test_the_wilson_interval_is_scipys_and_needs_its_row_count():
    from lottery_mia.stats.metrics import wilson_interval

    for successes, n in ((883, 899), (10, 10), (0, 25), (37, 80)):
        expected = stats.binomtest(successes, n).proportion_ci(method="wilson")
        assert wilson_interval(successes / n, n) == pytest.approx((expected.low, expected.high))
    assert np.isnan(wilson_interval(0.9, float("nan"))).all()


def test_an_attack_record_carries_the_targets_test_accuracy_interval():
    from lottery_mia.attack_steps import target_accuracy_interval
    from lottery_mia.stats.metrics import wilson_interval

    interval = target_accuracy_interval({"test_accuracy": 0.9, "test_rows": 500})
    assert (interval["test_accuracy_ci_low"], interval["test_accuracy_ci_high"]) == (
        wilson_interval(0.9, 500)
    )
    older = target_accuracy_interval({"test_accuracy": 0.9})  # train.json without test_rows
    assert np.isnan(list(older.values())).all()


def test_roc_figure_starts_at_one_non_member_and_bands_every_curve(tmp_path):
    scores = dense_and_ticket(0.3)
    bootstrap = {"resamples": 200, "seed": 0}
    fig = figures.plot_roc_curves(
        scores, ["mlp"], tmp_path / "r.png", tmp_path / "r.pdf", STYLE, bootstrap
    )
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlim()[0] == pytest.approx(1 / 400)
    assert {line.get_label() for line in ax.get_lines()} >= {"0% (dense)", "80%", "chance"}
    # One shaded band per curve, in the curve's colour, reaching down to one false positive.
    curves = [line for line in ax.get_lines() if line.get_label() != "chance"]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(curves) == 2
    for band, curve in zip(bands, curves, strict=True):
        assert to_rgb(band.get_facecolor()[0]) == pytest.approx(to_rgb(curve.get_color()))
        assert band.get_paths()[0].vertices[:, 0].min() == pytest.approx(1 / 400)


def test_gap_figure_has_one_point_per_model_with_its_interval(tmp_path):
    from test_figures import synthetic_summary

    summary = synthetic_summary(("cifar10",))
    fig = figures.plot_gap_vs_auc(
        summary, 400, "mlp", tmp_path / "g.png", tmp_path / "g.pdf", STYLE
    )
    bars = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    points = sum(len(container.lines[0].get_xdata()) for container in bars)
    assert points == 2 * 2 * 4  # 2 archs x 2 seeds x 4 sparsities
    assert not any(container.has_xerr for container in bars)  # no test rows counted: no bar
    # The gap's bar is the test accuracy's interval mirrored: a higher test accuracy, a lower gap.
    summary["test_accuracy_ci_low"] = summary["test_accuracy"] - 0.01
    summary["test_accuracy_ci_high"] = summary["test_accuracy"] + 0.03
    fig = figures.plot_gap_vs_auc(
        summary, 400, "mlp", tmp_path / "g.png", tmp_path / "g.pdf", STYLE
    )
    for container in [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]:
        gaps = container.lines[0].get_xdata()
        horizontal = container.lines[2][0].get_segments()  # xerr is drawn first
        below = [gap - segment[0][0] for gap, segment in zip(gaps, horizontal, strict=True)]
        above = [segment[1][0] - gap for gap, segment in zip(gaps, horizontal, strict=True)]
        assert below == pytest.approx([0.03] * 8) and above == pytest.approx([0.01] * 8)


def test_per_class_table_compares_dense_and_nearest_ticket(tmp_path):
    scores = dense_and_ticket(0.3)
    scores[score_key("mlp", "digits", "resnet18", 0, 0.5, 200)] = next(iter(scores.values()))
    table = per_class_table(scores, ticket_sparsity=0.9, n_resamples=100, bootstrap_seed=0)
    assert set(table["model"]) == {"dense", "ticket (80%)"}  # 0.5 is not the nearest to 0.9
    assert len(table) == 2 * 4  # 4 classes each
    assert (table["auc_ci_low"] <= table["auc"]).all() and (
        table["auc"] <= table["auc_ci_high"]
    ).all()
    fig = figures.plot_per_class(table, tmp_path / "c.png", tmp_path / "c.pdf", STYLE)
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    # The grey band is the median class's interval around chance: what sampling alone spreads.
    half = ((table["auc_ci_high"] - table["auc_ci_low"]) / 2).median()
    (band,) = [p for p in fig.axes[0].patches if p.get_label() == SAMPLING_BAND_LABEL]
    corners = band.get_path().transformed(band.get_patch_transform()).vertices[:, 1]
    assert (corners.min(), corners.max()) == pytest.approx((0.5 - half, 0.5 + half))
    assert fig.axes[0].get_title().endswith(f"; band ±{half:.2f})")
    # The strip points' jitter is seeded: the same table draws the same figure, whatever the
    # global generator's state.
    np.random.seed(1)  # noqa: NPY002
    figures.plot_per_class(table, tmp_path / "d.png", tmp_path / "d.pdf", STYLE)
    assert (tmp_path / "c.png").read_bytes() == (tmp_path / "d.png").read_bytes()


def test_classes_without_an_auc_are_counted_not_drawn(tmp_path):
    """Classes under MIN_CLASS_ROWS have NaN AUC: the figures say how many and draw the rest; a
    dataset with none rated (1,000 classes on a small evaluation set) says so instead of a box."""
    table = per_class_table(dense_and_ticket(0.3), 0.8, n_resamples=100, bootstrap_seed=0)
    table["class_frequency"] = table["label"] + 10
    unrated = table.assign(**dict.fromkeys(["auc", "auc_ci_low", "auc_ci_high"], np.nan))
    some = table.where(table["label"] != 0, unrated)
    fig = figures.plot_per_class(some, tmp_path / "a.png", tmp_path / "a.pdf", STYLE)
    assert "(3 of 4 classes rated; band" in fig.axes[0].get_title()
    frequency = figures.plot_per_class_frequency(
        some, tmp_path / "b.png", tmp_path / "b.pdf", STYLE
    )
    assert frequency.axes[0].get_title().endswith("\n1 class with too few rows: no AUC")
    none = figures.plot_per_class(unrated, tmp_path / "c.png", tmp_path / "c.pdf", STYLE)
    assert "(0 of 4 classes rated)" in none.axes[0].get_title()
    assert [text.get_text() for text in none.axes[0].texts] == [NO_RATED_CLASS]


def test_table1_auc_carries_its_interval_and_the_verdict():
    from test_figures import hand_made_summary, scores_for

    summary = hand_made_summary()
    one_seed = summary[summary["seed"] == 0]
    row = tables.table1(one_seed, ["mlp"], 0.9, scores_for(one_seed), n_resamples=200).iloc[0]
    # One seed: the summary row's own bootstrap interval (+-0.02 in the hand-made summary).
    assert (row["baseline_auc_ci_low"], row["baseline_auc_ci_high"]) == pytest.approx((0.48, 0.52))
    assert row["interval"] == "paired bootstrap over evaluation rows"
    assert row["verdict"] in VERDICTS
    both = tables.table1(summary, ["mlp"], 0.9, scores_for(summary), n_resamples=200).iloc[0]
    assert both["interval"] == "interval over 2 seeds and evaluation rows"
