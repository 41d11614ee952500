"""Table 1 per attack: every attack's verdict beside the paper's MLP, with every interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lottery_mia import figures, tables
from lottery_mia.attack_scores import score_key
from lottery_mia.stats.metrics import EvaluationRows
from lottery_mia.stats.resampling import metrics_with_intervals
from lottery_mia.tables import table1_markdown

MARGIN = 0.02


def scores_frame(member, score, sample_ids):
    return pd.DataFrame(
        {
            "sample_id": sample_ids,
            "pool": np.where(member, "train", "test"),
            "member": member,
            "label": sample_ids % 10,
            "score": score,
            "predicted": score > np.median(score),
        }
    )


def planted(attack, n_per_class, dense_signal, ticket_signal, seed):
    """Dense and ticket scores of one attack: member scores shifted by each model's signal."""
    rng = np.random.default_rng(seed)
    member = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]
    ids = np.r_[np.arange(n_per_class), np.arange(n_per_class)]
    frames = {}
    for sparsity, signal in ((0.0, dense_signal), (0.8, ticket_signal)):
        score = rng.normal(size=member.size) + signal * member
        frames[score_key(attack, "digits", "resnet18", 0, sparsity, 400)] = scores_frame(
            member, score, ids
        )
    return frames


def summary_of(scores):
    """The summary rows the attack jobs would write for these scores files."""
    records = []
    for (attack, dataset, arch, seed, sparsity, n), frame in scores.items():
        rows = EvaluationRows(frame["member"], frame["score"], frame["predicted"])
        record = metrics_with_intervals(rows, n_resamples=200).as_record()
        records.append(
            {"attack": attack, "dataset": dataset, "arch": arch, "seed": seed,
             "sparsity": sparsity, "n_samples": n, **record}
        )  # fmt: skip
    return pd.DataFrame(records)


@pytest.fixture(scope="module")
def planted_table():
    """LiRA (2,000 rows) separates a leakier ticket; the MLP (200 rows, no signal) cannot."""
    scores = {
        **planted("mlp", 100, 0.0, 0.0, seed=1),
        **planted("lira_online", 1000, 0.3, 1.0, seed=2),
    }
    summary = summary_of(scores)
    table = tables.table1(summary, ["mlp", "lira_online"], 0.8, scores, MARGIN, 300)
    return summary, table


def test_the_reference_attack_separates_what_the_mlp_cannot(planted_table):
    _, table = planted_table
    mlp, lira = (table[table["attack"] == name].iloc[0] for name in ("mlp", "lira_online"))
    assert lira["auc_difference_ci_low"] > 0
    assert lira["verdict"] == lira["verdict_holm"] == "ticket leaks more"
    assert mlp["verdict"] == mlp["verdict_holm"] == "inconclusive"
    assert (mlp["n_paired_rows"], lira["n_paired_rows"]) == (200, 2000)
    # TPR at the lowest bound the rows resolve: 100 non-members resolve neither 1% nor 0.1%
    # (FPR < 1% admits no false positive); 1,000 resolve 1%.
    assert np.isnan(mlp["tpr_fpr_bound"]) and np.isnan(mlp["tpr_difference"])
    assert lira["tpr_fpr_bound"] == 0.01 and lira["tpr_difference_ci_low"] > 0


def test_holm_runs_over_every_attack_of_the_table(planted_table):
    _, table = planted_table
    p = table["p_difference"].to_numpy()
    expected = np.maximum.accumulate(np.minimum(1, np.sort(p) * [2, 1]))
    assert sorted(table["p_difference_holm"]) == pytest.approx(expected)


def test_every_number_of_table1_carries_its_intervals(planted_table):
    summary, table = planted_table
    row = table[table["attack"] == "mlp"].iloc[0]
    dense = summary[(summary["attack"] == "mlp") & (summary["sparsity"] == 0.0)].iloc[0]
    for metric in ("accuracy", "precision", "auc"):
        assert row[f"baseline_{metric}_ci_low"] == pytest.approx(dense[f"{metric}_ci_low"])
        assert row[f"baseline_{metric}_ci_high"] == pytest.approx(dense[f"{metric}_ci_high"])
        assert not np.isnan(row[f"ticket_{metric}_ci_low"])
    for name in ("auc", "accuracy"):
        low95, high95 = row[f"{name}_difference_ci_low"], row[f"{name}_difference_ci_high"]
        low90, high90 = row[f"{name}_difference_ci90_low"], row[f"{name}_difference_ci90_high"]
        assert low95 <= low90 <= row[f"{name}_difference"] <= high90 <= high95
    for record in table.to_dict("records"):  # the verdict can be checked from the table
        inside = record["auc_difference_ci90_low"] >= -MARGIN
        inside = inside and record["auc_difference_ci90_high"] <= MARGIN
        assert (record["verdict"] == "equivalent") == inside


def test_markdown_leads_with_the_strongest_attack_and_shows_intervals(planted_table):
    _, table = planted_table
    text = table1_markdown(table)
    strongest = text.split("## Every attack")[0]
    assert "lira_online" in strongest and "ticket leaks more" in strongest
    assert "mlp" not in strongest
    lira = table[table["attack"] == "lira_online"].iloc[0]
    low, high = lira["baseline_auc_ci_low"], lira["baseline_auc_ci_high"]
    assert f"{lira['baseline_auc']:.3f} [{low:.3f}, {high:.3f}]" in text


def test_a_later_attack_without_a_ticket_gets_no_rows_the_first_must_have_one(planted_table):
    summary, _ = planted_table
    scores = planted("mlp", 100, 0.0, 0.0, seed=1)
    dense_only = summary[~((summary["attack"] == "lira_online") & (summary["sparsity"] > 0))]
    only_mlp = tables.table1(dense_only, ["mlp", "lira_online"], 0.8, scores, MARGIN, 100)
    assert list(only_mlp["attack"]) == ["mlp"]
    with pytest.raises(ValueError, match="attack 'lira_online': no non-zero sparsity"):
        tables.table1(dense_only, ["lira_online"], 0.8, scores, MARGIN, 100)


def test_forest_plot_draws_one_row_per_attack_and_the_margin_band(planted_table, tmp_path):
    _, table = planted_table
    fig = figures.plot_forest(table, tmp_path / "f.png", tmp_path / "f.pdf", {"dpi": 40})
    ax = fig.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["lira_online", "mlp"][::-1]
    band = ax.patches[0].get_extents()  # the shaded equivalence band, in display units
    left, right = ax.transData.inverted().transform([[band.x0, 0], [band.x1, 0]])[:, 0]
    assert (left, right) == pytest.approx((-MARGIN, MARGIN), abs=1e-3)
    low, high = ax.get_xlim()
    assert (
        low < table["auc_difference_ci_low"].min() and high > table["auc_difference_ci_high"].max()
    )
    assert (tmp_path / "f.png").stat().st_size > 0


def test_an_attack_whose_scores_ignore_n_is_compared_once():
    """LiRA's scores are the same at every n; the MLP's are not. Two rows of the same LiRA test
    would make Holm's adjustment count it twice (and turn verdicts inconclusive)."""
    scores = {}
    for n in (400, 1200):
        for attack, seed in (("mlp", n), ("lira_online", 2)):  # LiRA: the same scores twice
            for key, frame in planted(attack, 300, 0.0, 0.3, seed=seed).items():
                scores[(*key[:-1], n)] = frame
    table = tables.table1(summary_of(scores), ["mlp", "lira_online"], 0.8, scores, MARGIN, 200)
    assert table.loc[table["attack"] == "mlp", "n_samples"].tolist() == [400, 1200]
    assert table.loc[table["attack"] == "lira_online", "n_samples"].tolist() == [1200]
