"""Bootstrap intervals, paired differences and the verdict: properties that break if the statistics do."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score, roc_curve

from lottery_mia.attack.metric import best_loss_threshold
from lottery_mia.stats import metrics as metric_definitions
from lottery_mia.stats import resampling
from lottery_mia.stats.metrics import METRIC_NAMES, EvaluationRows, point_metrics, roc_points
from lottery_mia.stats.over_seeds import t_interval_over_seeds
from lottery_mia.stats.paired import PairedDifference, align_paired, paired_differences
from lottery_mia.stats.resampling import (
    MIN_CLASS_ROWS,
    bootstrap_distribution,
    metrics_with_intervals,
    per_class_auc,
    stratified_bootstrap_indices,
)
from lottery_mia.stats.verdicts import equivalence_verdict


def gaussian_rows(rng, n_members, n_non_members, shift, threshold=0.0):
    """Member scores N(shift, 1), non-member scores N(0, 1): the AUC is Phi(shift / sqrt(2))."""
    member = np.r_[np.ones(n_members, bool), np.zeros(n_non_members, bool)]
    score = rng.normal(size=member.size) + shift * member
    return EvaluationRows(member, score, score > threshold)


def sklearn_tpr_at(member, score, bound):
    fpr, tpr, _ = roc_curve(member, score, drop_intermediate=False)
    return tpr[fpr < bound].max()  # Carlini et al.'s reference code: fpr < bound


def test_index_matrix_is_stratified_seeded_and_resamples_with_replacement():
    member = np.r_[np.ones(30, bool), np.zeros(70, bool)]
    np.random.default_rng(0).shuffle(member)
    indices = stratified_bootstrap_indices(member, 50, seed=3)
    assert indices.shape == (50, 100)
    assert (member[indices] == member).all()  # every column keeps its row's class
    assert np.array_equal(indices, stratified_bootstrap_indices(member, 50, seed=3))
    assert not np.array_equal(indices, stratified_bootstrap_indices(member, 50, seed=4))
    # With replacement: some rows are drawn twice, others not at all (expected ~37% left out).
    left_out = np.mean([100 - np.unique(row).size for row in indices]) / 100
    assert 0.25 < left_out < 0.5


def test_index_matrix_and_intervals_do_not_depend_on_the_memory_block_size(monkeypatch):
    rows = gaussian_rows(np.random.default_rng(0), 20, 20, shift=0.5)
    whole = stratified_bootstrap_indices(rows.member, 30, seed=1)
    whole_distribution = bootstrap_distribution(rows, 30, seed=1)
    monkeypatch.setattr(resampling, "_BLOCK_ELEMENTS", 40 * 7)  # blocks of 7 resamples
    assert np.array_equal(stratified_bootstrap_indices(rows.member, 30, seed=1), whole)
    blocked = bootstrap_distribution(rows, 30, seed=1)
    for name in METRIC_NAMES:
        np.testing.assert_array_equal(blocked[name], whole_distribution[name])


def test_point_metrics_equal_sklearn_on_scores_with_ties():
    rng = np.random.default_rng(0)
    rows = gaussian_rows(rng, 500, 1500, shift=0.8, threshold=0.5)
    # Rounding creates many tied scores, across and within the classes.
    rows = EvaluationRows(rows.member, np.round(rows.score, 1), rows.predicted)
    metrics = point_metrics(rows)
    fpr, tpr, _ = roc_curve(rows.member, rows.score, drop_intermediate=False)
    assert metrics["auc"] == pytest.approx(roc_auc_score(rows.member, rows.score))
    assert metrics["accuracy"] == pytest.approx(accuracy_score(rows.member, rows.predicted))
    assert metrics["precision"] == pytest.approx(precision_score(rows.member, rows.predicted))
    assert metrics["recall"] == pytest.approx(recall_score(rows.member, rows.predicted))
    assert metrics["advantage_oracle"] == pytest.approx((tpr - fpr).max())
    true_pos = (rows.predicted & rows.member).sum() / 500
    false_pos = (rows.predicted & ~rows.member).sum() / 1500
    assert metrics["advantage"] == pytest.approx(true_pos - false_pos)
    for name, bound in metric_definitions.FPR_BOUNDS.items():
        assert metrics[name] == pytest.approx(sklearn_tpr_at(rows.member, rows.score, bound))


@pytest.mark.parametrize("n_non_members", [300, 700, 1000, 2900, 3000])
def test_tpr_at_fpr_excludes_the_point_exactly_on_the_bound(n_non_members):
    # k / n for k = 0.01 n is exactly on the 1% bound: FPR < 1% leaves it out, and float
    # rounding must not bring it back (or drop the point just below).
    rows = gaussian_rows(np.random.default_rng(n_non_members), 400, n_non_members, shift=1.0)
    expected = sklearn_tpr_at(rows.member, rows.score, 0.01)
    assert point_metrics(rows)["tpr_at_1pct_fpr"] == pytest.approx(expected)


def test_a_bound_that_admits_no_false_positive_is_unresolved():
    # 100 non-members: FPR < 1% means no false positive at all, indistinguishable from "none".
    assert metric_definitions.allowed_false_positives(0.01, 100) == 0
    assert metric_definitions.allowed_false_positives(0.01, 101) == 1
    assert metric_definitions.allowed_false_positives(0.01, 300) == 2
    rows = gaussian_rows(np.random.default_rng(0), 400, 100, shift=1.0)
    assert np.isnan(point_metrics(rows)["tpr_at_1pct_fpr"])


def test_resampled_metrics_equal_sklearn_on_each_resample():
    rows = gaussian_rows(np.random.default_rng(1), 60, 140, shift=0.7)
    rows = EvaluationRows(rows.member, np.round(rows.score, 1), rows.predicted)
    indices = stratified_bootstrap_indices(rows.member, 12, seed=5)
    distribution = bootstrap_distribution(rows, 12, seed=5)
    for b, row_indices in enumerate(indices):
        member, score = rows.member[row_indices], rows.score[row_indices]
        predicted = rows.predicted[row_indices]
        assert distribution["auc"][b] == pytest.approx(roc_auc_score(member, score))
        assert distribution["accuracy"][b] == pytest.approx(accuracy_score(member, predicted))
        assert distribution["tpr_at_1pct_fpr"][b] == pytest.approx(
            sklearn_tpr_at(member, score, 0.01)
        )


def test_resampled_auc_equals_the_rank_sum_formula_to_the_last_bit():
    # The AUC is counted from draw counts over one sort; the rank-sum formula sorts each
    # resample. Both are exact sums and one division, so they must agree exactly, ties included.
    rows = gaussian_rows(np.random.default_rng(2), 90, 110, shift=0.4)
    rows = EvaluationRows(rows.member, np.round(rows.score, 1), rows.predicted)
    indices = stratified_bootstrap_indices(rows.member, 40, seed=3)
    ranks = stats.rankdata(rows.score[indices], axis=1)
    rank_sums = ranks[:, rows.member].sum(axis=1) - 90 * 91 / 2
    expected = rank_sums / (90 * 110)
    np.testing.assert_array_equal(bootstrap_distribution(rows, 40, seed=3)["auc"], expected)


def test_remembered_resamples_belong_to_their_rows_and_cannot_be_changed():
    # A transfer job bootstraps many models on the same rows, so the draws are remembered: they
    # must never be served for other rows of the same size, nor be altered by a caller.
    first = np.r_[np.ones(30, bool), np.zeros(70, bool)]
    second = first[::-1].copy()
    for member in (first, second, first):
        (counts,) = resampling.bootstrap_count_blocks(member, 25, seed=4)
        assert counts[:, member].sum(axis=1).tolist() == [member.sum()] * 25
        assert counts[:, ~member].sum(axis=1).tolist() == [(~member).sum()] * 25
        with pytest.raises(ValueError, match="read-only"):
            counts[0, 0] = 7


def test_metric_signs_member_is_the_positive_class():
    rng = np.random.default_rng(2)
    leaky = gaussian_rows(rng, 300, 300, shift=1.5)
    metrics = point_metrics(leaky)
    assert metrics["auc"] > 0.8
    assert metrics["advantage"] > 0.3
    assert metrics["tpr_at_1pct_fpr"] > 0.01
    flipped = point_metrics(EvaluationRows(leaky.member, -leaky.score, ~leaky.predicted))
    assert flipped["auc"] == pytest.approx(1 - metrics["auc"])
    assert flipped["advantage"] == pytest.approx(-metrics["advantage"])
    perfect = point_metrics(EvaluationRows(leaky.member, leaky.member * 1.0, leaky.member))
    assert {name: perfect[name] for name in METRIC_NAMES if name != "tpr_at_0.1pct_fpr"} == {
        "accuracy": 1.0, "precision": 1.0, "recall": 1.0, "auc": 1.0, "tpr_at_1pct_fpr": 1.0,
        "advantage": 1.0, "advantage_oracle": 1.0,
    }  # fmt: skip


def test_unresolvable_tpr_is_nan_and_the_resolution_is_reported():
    rows = gaussian_rows(np.random.default_rng(3), 200, 200, shift=2.0)
    report = metrics_with_intervals(rows, n_resamples=50)
    record = report.as_record()
    assert record["min_resolvable_fpr"] == pytest.approx(1 / 200)
    for key in ("tpr_at_0.1pct_fpr", "tpr_at_0.1pct_fpr_ci_low", "tpr_at_0.1pct_fpr_ci_high"):
        assert np.isnan(record[key])
    assert (
        np.isnan(record["tpr_at_1pct_fpr_ci_low"]) is np.False_
    )  # 1% of 200 is 2 rows: measurable
    # With 1000 non-members FPR < 0.1% admits no false positive; with 2000 it admits one.
    exactly_one = gaussian_rows(np.random.default_rng(3), 200, 1000, shift=2.0)
    assert np.isnan(point_metrics(exactly_one)["tpr_at_0.1pct_fpr"])
    resolvable = gaussian_rows(np.random.default_rng(3), 200, 2000, shift=2.0)
    assert point_metrics(resolvable)["tpr_at_0.1pct_fpr"] > 0


def test_precision_without_predicted_members_is_nan_not_zero():
    rows = gaussian_rows(np.random.default_rng(4), 100, 100, shift=1.0)
    silent = EvaluationRows(rows.member, rows.score, np.zeros(200, bool))
    record = metrics_with_intervals(silent, n_resamples=50).as_record()
    assert np.isnan(record["precision"])
    assert np.isnan(record["precision_ci_low"]) and np.isnan(record["precision_ci_high"])
    assert record["recall"] == 0.0 and record["advantage"] == 0.0


def test_resamples_without_predicted_members_are_left_out_of_the_interval():
    # One predicted member, a true one: resamples that miss it have no precision at all
    # (about 37%); were they counted as 0, the interval would reach down to 0.
    member = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    predicted = np.zeros(100, bool)
    predicted[0] = True
    rows = EvaluationRows(member, np.linspace(0, 1, 100), predicted)
    assert np.isnan(bootstrap_distribution(rows, 200)["precision"]).mean() > 0.2
    report = metrics_with_intervals(rows, n_resamples=200)
    assert report.ci_low["precision"] == 1.0 and report.ci_high["precision"] == 1.0


@pytest.mark.slow
def test_auc_interval_covers_the_true_auc_about_95_percent_of_the_time():
    # Measured over 1,000 repetitions: 0.93-0.94, the percentile bootstrap's known slight
    # under-coverage at 150 rows per class.
    shift = 1.0
    true_auc = stats.norm.cdf(shift / np.sqrt(2))
    rng = np.random.default_rng(7)
    covered = []
    for repetition in range(400):
        rows = gaussian_rows(rng, 150, 150, shift)
        report = metrics_with_intervals(rows, n_resamples=200, seed=repetition)
        covered.append(report.ci_low["auc"] <= true_auc <= report.ci_high["auc"])
    assert 0.92 <= np.mean(covered) <= 0.98


def test_random_scores_have_no_advantage_at_the_training_row_threshold():
    rng = np.random.default_rng(8)
    advantage, oracle = [], []
    member = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    for _ in range(50):
        train_score, eval_score = rng.normal(size=400), rng.normal(size=400)
        # The attack's own threshold, chosen on its training rows (member iff -score < cut).
        cut = best_loss_threshold(-train_score, member)
        rows = EvaluationRows(member, eval_score, -eval_score < cut)
        metrics = point_metrics(rows)
        advantage.append(metrics["advantage"])
        oracle.append(metrics["advantage_oracle"])
    assert abs(np.mean(advantage)) < 0.015
    # The oracle picks its threshold on the very rows it is judged on: biased upwards.
    assert np.mean(oracle) > 0.05


def paired_rows(rng, n_per_class, ticket_extra_shift, noise=0.3):
    """Dense and ticket scores sharing most of their row-to-row variation, as two models of one
    dataset do; members of the ticket get ``ticket_extra_shift`` more."""
    member = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]
    shared = rng.normal(size=member.size) + 0.8 * member
    dense = shared + noise * rng.normal(size=member.size)
    ticket = shared + noise * rng.normal(size=member.size) + ticket_extra_shift * member
    return EvaluationRows(member, ticket, ticket > 0.4), EvaluationRows(member, dense, dense > 0.4)


@pytest.mark.slow
def test_a_planted_difference_is_found_and_a_zero_difference_is_not():
    rng = np.random.default_rng(9)
    found, false_alarms = [], []
    for repetition in range(30):
        ticket, dense = paired_rows(rng, 300, ticket_extra_shift=0.25)
        found.append(paired_differences(ticket, dense, n_resamples=200, seed=repetition)["auc"])
        ticket, dense = paired_rows(rng, 300, ticket_extra_shift=0.0)
        false_alarms.append(paired_differences(ticket, dense, n_resamples=200, seed=repetition))
    assert np.mean([d.verdict() == "ticket leaks more" for d in found]) >= 0.9
    alarms = [
        d["auc"].verdict() in ("ticket leaks more", "ticket leaks less") for d in false_alarms
    ]
    assert np.mean(alarms) <= 0.15  # a 5% two-sided test, with room for 30 draws
    reversed_difference = paired_differences(*paired_rows(rng, 300, -0.25)[::-1], n_resamples=200)
    assert reversed_difference["auc"].verdict() == "ticket leaks more"
    ticket, dense = paired_rows(rng, 300, -0.25)
    assert paired_differences(ticket, dense, n_resamples=200)["auc"].verdict() == (
        "ticket leaks less"
    )


def test_pairing_resamples_the_same_rows_for_both_models():
    # A shifted copy ranks every row the same: paired, every resample's AUC difference is 0.
    dense = gaussian_rows(np.random.default_rng(10), 200, 200, shift=0.5)
    ticket = EvaluationRows(dense.member, dense.score + 3.0, dense.predicted)
    difference = paired_differences(ticket, dense, n_resamples=100)
    assert difference["auc"].ci95 == (0.0, 0.0)
    assert difference["accuracy"].ci90 == (0.0, 0.0)
    assert difference["auc"].verdict(margin=0.02) == "equivalent"


@pytest.mark.parametrize(
    ("ci90", "ci95", "verdict"),
    [
        ((-0.01, 0.015), (-0.012, 0.018), "equivalent"),
        ((0.004, 0.012), (0.003, 0.014), "equivalent"),  # significant, yet inside the margin
        ((0.01, 0.05), (0.005, 0.06), "ticket leaks more"),
        ((-0.05, -0.01), (-0.06, -0.005), "ticket leaks less"),
        ((-0.01, 0.03), (-0.02, 0.04), "inconclusive"),
        ((0.001, 0.03), (-0.001, 0.035), "inconclusive"),  # 90% excludes 0, 95% does not
        ((float("nan"), float("nan")), (float("nan"), float("nan")), "inconclusive"),
    ],
)
def test_verdict_rule(ci90, ci95, verdict):
    difference = PairedDifference("auc", estimate=0.0, ci90=ci90, ci95=ci95)
    assert equivalence_verdict(difference, margin=0.02) == verdict


def test_verdict_margin_matters_and_must_be_positive():
    difference = PairedDifference("auc", estimate=0.03, ci90=(0.02, 0.04), ci95=(-0.01, 0.05))
    assert equivalence_verdict(difference, margin=0.05) == "equivalent"
    assert equivalence_verdict(difference, margin=0.02) == "inconclusive"
    with pytest.raises(ValueError, match="margin"):
        equivalence_verdict(difference, margin=0.0)


def scores_frame(rows, sample_ids):
    return pd.DataFrame(
        {
            "sample_id": sample_ids,
            "pool": np.where(rows.member, "train", "test"),
            "member": rows.member,
            "label": sample_ids % 3,
            "score": rows.score,
            "predicted": rows.predicted,
        }
    )


def test_align_paired_matches_rows_by_sample_and_refuses_other_rows():
    ticket, dense = paired_rows(np.random.default_rng(11), 50, ticket_extra_shift=0.3)
    ids = np.r_[np.arange(50), np.arange(50)]
    ticket_frame = scores_frame(ticket, ids).sample(frac=1.0, random_state=0)
    dense_frame = scores_frame(dense, ids)
    aligned_ticket, aligned_dense, keys = align_paired(ticket_frame, dense_frame)
    direct = paired_differences(ticket, dense, n_resamples=50)["auc"]
    realigned = paired_differences(aligned_ticket, aligned_dense, n_resamples=50)["auc"]
    assert realigned.estimate == pytest.approx(direct.estimate)
    assert len(keys) == 100 and not keys.duplicated().any()
    with pytest.raises(ValueError, match="only one of ticket and dense"):
        align_paired(ticket_frame.iloc[1:], dense_frame)
    # Reference attacks: pair on the rows both models were scored on, and say how many.
    common_ticket, _, common_keys = align_paired(
        ticket_frame.iloc[5:], dense_frame.iloc[:-3], common_only=True
    )
    assert len(common_keys) == common_ticket.member.size == 92
    relabelled = dense_frame.assign(label=dense_frame["label"] + 1)
    with pytest.raises(ValueError, match="'label'"):
        align_paired(ticket_frame, relabelled)


def test_roc_points_reach_down_to_one_non_member_on_log_axes():
    rows = gaussian_rows(np.random.default_rng(12), 100, 400, shift=1.0)
    curve = roc_points(rows.member, rows.score)
    assert curve.min_fpr == pytest.approx(1 / 400) and curve.min_tpr == pytest.approx(1 / 100)
    assert curve.fpr.size == np.unique(rows.score).size + 1  # every point kept, plus (0, 0)
    fpr, tpr = curve.for_log_axes()
    assert fpr.min() == pytest.approx(1 / 400) and fpr.max() == 1.0
    assert (tpr >= 1 / 100).all() and np.all(np.diff(fpr) >= 0)


def test_per_class_auc_finds_the_leaky_class_and_refuses_one_class_labels():
    rng = np.random.default_rng(13)
    member = np.tile([True, False], 600)
    label = np.repeat([0, 1, 2], 400)
    score = rng.normal(size=1200) + 2.0 * (member & (label == 0))
    label[-1] = 3  # a class with one non-member only: no AUC
    table = per_class_auc(member, score, label, n_resamples=100).set_index("label")
    assert table.loc[0, "auc"] > 0.85 and table.loc[0, "auc_ci_low"] > 0.75
    assert table.loc[1, "auc_ci_low"] < 0.5 < table.loc[1, "auc_ci_high"]
    assert table.loc[3, ["n_members", "n_non_members"]].tolist() == [0, 1]
    assert np.isnan(table.loc[3, ["auc", "auc_ci_low", "auc_ci_high"]].astype(float)).all()


@pytest.mark.parametrize(("n_members", "reported"), [(3, False), (9, False), (10, True)])
def test_a_class_under_ten_members_has_no_auc(n_members, reported):
    """Members all ranked above every non-member: with 3 of them the bootstrap reads
    1.000 [1.000, 1.000], a certainty so few rows cannot give; from MIN_CLASS_ROWS it is reported.
    The same holds for non-members (AUC is symmetric in the two)."""
    assert MIN_CLASS_ROWS == 10
    member = np.r_[np.ones(n_members, bool), np.zeros(30, bool)]
    score = np.r_[np.full(n_members, 5.0), np.zeros(30)] + np.linspace(0, 0.1, n_members + 30)
    for swapped in (False, True):
        rows = (~member, -score) if swapped else (member, score)
        (row,) = per_class_auc(*rows, np.zeros(n_members + 30, int), n_resamples=50).to_dict(
            "records"
        )
        assert sorted((row["n_members"], row["n_non_members"])) == [n_members, 30]
        if reported:
            assert (row["auc"], row["auc_ci_low"], row["auc_ci_high"]) == (1.0, 1.0, 1.0)
        else:
            assert np.isnan([row["auc"], row["auc_ci_low"], row["auc_ci_high"]]).all()


def test_t_interval_over_seeds_leaves_nan_out():
    mean, low, high = t_interval_over_seeds([0.6, np.nan, 0.7, 0.8])
    assert mean == pytest.approx(0.7)  # not (0.6 + 0 + 0.7 + 0.8) / 4
    half_width = stats.t.ppf(0.975, 2) * np.std([0.6, 0.7, 0.8], ddof=1) / np.sqrt(3)
    assert (low, high) == pytest.approx((0.7 - half_width, 0.7 + half_width))
    single = t_interval_over_seeds([0.6, np.nan])
    assert single[0] == 0.6 and np.isnan(single[1]) and np.isnan(single[2])


def test_bad_rows_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="both classes"):
        EvaluationRows(np.ones(4, bool), np.zeros(4), np.zeros(4, bool))
    with pytest.raises(ValueError, match="non-finite"):
        EvaluationRows(np.array([1, 0]), np.array([np.nan, 0.0]), np.array([1, 0]))
    with pytest.raises(ValueError, match="predicted has shape"):
        EvaluationRows(np.array([1, 0]), np.zeros(2), np.zeros(3, bool))
    with pytest.raises(ValueError, match="n_resamples"):
        stratified_bootstrap_indices(np.array([True, False]), 0, seed=0)


def test_holm_adjusts_a_family_step_down_and_leaves_nan_out():
    from lottery_mia.stats.verdicts import holm_adjusted

    # Sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 -> max(0.06, 0.04).
    adjusted = holm_adjusted([0.01, 0.04, 0.03, 0.005, float("nan")])
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted[4])
    assert holm_adjusted([0.6, 0.7])[1] == 1.0  # capped at 1


def test_bootstrap_p_values_follow_the_draws_tails():
    from lottery_mia.stats.verdicts import bootstrap_p_values

    rng = np.random.default_rng(0)
    # A difference two standard errors from 0: two-sided p = 2 (1 - Phi(2)) = 0.0455.
    p_zero, _ = bootstrap_p_values(rng.normal(2.0, 1.0, 200_000), margin=0.5)
    assert p_zero == pytest.approx(0.0455, abs=0.003)
    # Tight around 0 with the margin two standard errors away: TOST p = 1 - Phi(2) = 0.0228.
    _, p_equivalence = bootstrap_p_values(rng.normal(0.0, 0.01, 200_000), margin=0.02)
    assert p_equivalence == pytest.approx(0.0228, abs=0.002)
    # Every draw above 0: the smallest p the draws can give, never 0.
    assert bootstrap_p_values(np.full(999, 0.3), margin=0.02) == (2 / 1000, 1.0)


def test_holm_verdicts_take_back_a_difference_that_one_of_four_tests_finds_by_chance():
    from lottery_mia.stats.verdicts import with_holm_verdicts

    table = pd.DataFrame(
        {
            "auc_difference": [0.05, -0.08, 0.01, 0.002],
            "p_difference": [0.03, 0.001, 0.6, 0.9],
            "p_equivalence": [0.9, 0.95, 0.2, 0.004],
        }
    )
    verdicts = with_holm_verdicts(table)["verdict_holm"].tolist()
    # 0.03 x 3 = 0.09: no longer a difference; 0.001 x 4 survives; 0.004 x 4 = 0.016 equivalent.
    assert verdicts == ["inconclusive", "ticket leaks less", "inconclusive", "equivalent"]


def test_advantage_oracle_has_no_interval_because_its_resamples_are_biased_upward():
    """The oracle advantage re-optimises its threshold on every resample, so most resamples exceed
    the estimate: a percentile interval of it would sit too high. It is reported without one."""
    rows = gaussian_rows(np.random.default_rng(5), 150, 150, shift=0.3)
    estimate = point_metrics(rows)["advantage_oracle"]
    draws = bootstrap_distribution(rows, 400, seed=0)["advantage_oracle"]
    assert (draws > estimate).mean() > 0.6
    record = metrics_with_intervals(rows, n_resamples=100).as_record()
    assert record["advantage_oracle"] == pytest.approx(estimate)
    assert np.isnan(record["advantage_oracle_ci_low"]) and np.isnan(
        record["advantage_oracle_ci_high"]
    )
    assert not np.isnan(record["advantage_ci_low"])  # the thresholded advantage keeps its interval
