"""The exposure step on fabricated files: the per-example table, agreement with the dense-vs-dense
level (two seeds), memorisation from the keep matrix, pruning-identified exemplars, the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fabricate_outputs import write_outputs
from scipy.stats import spearmanr

from lottery_mia.atomic import write_parquet
from lottery_mia.attack_scores import SCORES_SCHEMA, score_frame
from lottery_mia.exposure import (
    NEEDS_TWO_SEEDS,
    mean_with_interval,
    member_resamples,
    memorisation,
    modal_prediction,
    spearman_with_interval,
)
from lottery_mia.exposure_steps import exposure, memorisation_rows
from lottery_mia.exposure_table import lowest_seed
from lottery_mia.figures.exposure import plot_exposure_figures
from lottery_mia.reference_keep import reference_keep_frame

PER_POOL, CLASSES, EVAL = 60, 3, 80
TICKET = "magnitude/sparsity0.8"
STYLE = {"context": "paper", "palette": "colorblind", "dpi": 50}


def _scores(outputs: pd.DataFrame, noise_seed: int) -> pd.DataFrame:
    """Scores of the evaluation rows: the true-class logit plus noise (higher = member)."""
    rows = outputs[outputs["attack_eval"]].reset_index(drop=True)
    true_logit = np.array(
        [logits[label] for logits, label in zip(rows["logits"], rows["label"], strict=True)]
    )
    score = true_logit + np.random.default_rng(noise_seed).normal(0, 0.5, len(rows))
    return score_frame(rows, score, score > np.median(score))


def _reference_outputs(path, keep: np.ndarray, seed: int):
    write_outputs(path, PER_POOL, CLASSES, EVAL, seed=seed)
    table = pq.read_table(path).to_pandas()
    table["member"] = keep
    write_parquet(table, path, pq.read_schema(path))
    return path


@pytest.fixture
def fabricated(tmp_path):
    outputs, output_keys, scores, score_keys = [], [], [], []
    for seed in (0, 1):
        for index, model in enumerate(("sparsity0", TICKET)):
            path = write_outputs(
                tmp_path / f"s{seed}" / model / "outputs.parquet",
                PER_POOL,
                CLASSES,
                EVAL,
                seed=10 * seed + index,
            )
            key = {"arch": "resnet18", "seed": seed, "model": model}
            outputs.append(str(path))
            output_keys.append(key)
            frame = _scores(pq.read_table(path).to_pandas(), noise_seed=seed)
            scores_path = path.parent / "mlp.scores.parquet"
            write_parquet(frame, scores_path, SCORES_SCHEMA)
            scores.append(str(scores_path))
            score_keys.append({**key, "attack": "mlp"})
    first = pq.read_table(outputs[0]).to_pandas()
    keep_frame = reference_keep_frame(
        first["sample_id"].to_numpy(), first["pool"].to_numpy(), 4, seed=0
    )
    keep_path = tmp_path / "keep.parquet"
    write_parquet(keep_frame, keep_path)
    keep = keep_frame[[f"ref{k}" for k in range(4)]].to_numpy().T
    references = [
        str(_reference_outputs(tmp_path / f"ref{k}" / "outputs.parquet", keep[k], seed=100 + k))
        for k in range(4)
    ]
    counts_path = tmp_path / "counts.parquet"
    write_parquet(pd.DataFrame({"label": [0, 1, 2], "class_frequency": [60, 30, 6]}), counts_path)
    names = ("table.parquet", "agreement.csv", "memorisation.csv", "summary.md")
    paths = {name: tmp_path / name for name in names}
    exposure(
        outputs=outputs, output_keys=output_keys, scores=scores, score_keys=score_keys,
        reference_outputs=references,
        reference_keys=[{"arch": "resnet18", "model": "sparsity0", "reference": k} for k in range(4)],
        counts_path=counts_path, dataset="digits", n_references=4,
        bootstrap={"resamples": 200, "seed": 0}, top_fraction=0.25,
        # The fabricated mlp score stands in for a reference attack's.
        reference_attack="mlp",
        table_path=paths["table.parquet"], agreement_path=paths["agreement.csv"],
        memorisation_path=paths["memorisation.csv"], summary_path=paths["summary.md"],
        keep_path=keep_path,
    )  # fmt: skip
    return {"outputs": outputs, "references": references, "keep": keep, **paths}


def test_one_row_per_evaluated_example_with_every_models_columns(fabricated):
    table = pd.read_parquet(fabricated["table.parquet"])
    assert len(table) == EVAL and table["member"].sum() == EVAL // 2
    assert table["class_frequency"].tolist() == [[60, 30, 6][y] for y in table["label"]]
    for seed in (0, 1):
        for model in ("sparsity0", TICKET):
            for field in ("score_mlp", "correct", "loss"):
                assert f"resnet18/seed{seed}/{model}/{field}" in table.columns
    assert (table["resnet18/seed0/sparsity0/loss"] > 0).all()


def test_memorisation_and_exemplars_match_a_direct_computation(fabricated):
    table = pd.read_parquet(fabricated["table.parquet"])
    first = pq.read_table(fabricated["outputs"][0]).to_pandas()
    correct = np.stack([pq.read_table(p).to_pandas()["correct"] for p in fabricated["references"]])
    direct = pd.Series(
        memorisation(correct, fabricated["keep"]),
        index=pd.MultiIndex.from_frame(first[["pool", "sample_id"]]),
    )
    expected = direct.loc[pd.MultiIndex.from_frame(table[["pool", "sample_id"]])].to_numpy()
    assert np.array_equal(table["resnet18/sparsity0/memorisation"].to_numpy(), expected)

    def predicted(path):
        frame = pq.read_table(path).to_pandas().set_index(["pool", "sample_id"])
        rows = frame.loc[pd.MultiIndex.from_frame(table[["pool", "sample_id"]])]
        return np.stack(rows["logits"].to_numpy()).argmax(axis=1)

    dense = modal_prediction(np.stack([predicted(fabricated["outputs"][i]) for i in (0, 2)]))
    ticket = modal_prediction(np.stack([predicted(fabricated["outputs"][i]) for i in (1, 3)]))
    labels = table["label"].to_numpy()
    expected_pie = (dense == labels) & (ticket != labels)
    assert expected_pie.any()
    assert np.array_equal(table[f"resnet18/{TICKET}/pie"].to_numpy(), expected_pie)


def test_two_seeds_give_the_dense_vs_dense_level_with_an_interval(fabricated):
    (row,) = pd.read_csv(fabricated["agreement.csv"]).to_dict("records")
    assert (row["method"], row["sparsity"], row["n_seed_pairs"], row["n_dense_pairs"]) == (
        "magnitude",
        0.8,
        2,
        1,
    )
    assert row["n_members"] == EVAL // 2 and row["top_k"] == 10
    for name in ("spearman", "spearman_dense_dense", "jaccard", "jaccard_dense_dense"):
        assert row[f"{name}_ci_low"] <= row[name] <= row[f"{name}_ci_high"]
    assert row["spearman_verdict"] != NEEDS_TWO_SEEDS
    summary = fabricated["summary.md"].read_text()
    assert "steps of 0.5" in summary and "| resnet18 |" in summary


def test_memorisation_rows_carry_spearman_with_its_interval(fabricated):
    table = pd.read_parquet(fabricated["table.parquet"])
    (row,) = pd.read_csv(fabricated["memorisation.csv"]).to_dict("records")
    members = table[table["member"]]
    estimate = members["resnet18/sparsity0/memorisation"]
    assert (row["arch"], row["model"], row["attack"]) == ("resnet18", "sparsity0", "mlp")
    assert row["n_members"] == EVAL // 2
    assert row["mean"] == pytest.approx(estimate.mean())
    expected = spearmanr(estimate, members["resnet18/seed0/sparsity0/score_mlp"]).statistic
    assert row["spearman"] == pytest.approx(expected)
    assert row["share_at_least_half"] == pytest.approx((estimate >= 0.5).mean())
    summary = fabricated["summary.md"].read_text()
    cells = []
    for name in ("mean", "share_at_least_half", "spearman"):
        low, value, high = row[f"{name}_ci_low"], row[name], row[f"{name}_ci_high"]
        assert low <= value <= high and low < high, name
        cells.append(f"{value:.3f} [{low:.3f}, {high:.3f}]")
    assert f"| {EVAL // 2} | {' | '.join(cells)} |" in summary


def test_spearman_interval_covers_the_truth_and_is_exact_for_a_monotone_pair():
    def draws(n_resamples: int) -> np.ndarray:
        return member_resamples(300, n_resamples, seed=0)

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    assert spearman_with_interval(x, np.exp(x), draws(200)) == (1.0, 1.0, 1.0)
    rho, low, high = spearman_with_interval(x, rng.normal(size=300), draws(500))
    assert low < 0 < high and low < rho < high and high - low < 0.3
    # A vector constant in some resamples (mostly zeros) leaves those resamples out.
    sparse = np.zeros(300)
    sparse[:3] = 1.0
    rho, low, high = spearman_with_interval(sparse, x, draws(500))
    assert np.isfinite([rho, low, high]).all()
    # A share's interval: the bootstrap of a 0/1 vector, near the binomial one (SE 0.017 here).
    # Fewer than two members: nothing to resample, every statistic NaN.
    one_member = pd.DataFrame(
        {
            "member": [True, False],
            "resnet18/sparsity0/memorisation": [0.5, 0.0],
            "resnet18/seed0/sparsity0/score_mlp": [1.0, 0.0],
        }
    )
    (row,) = memorisation_rows(one_member, "mlp", {"resamples": 100, "seed": 0}).to_dict("records")
    assert np.isnan([row["spearman"], row["mean_ci_low"], row["share_at_least_half_ci_high"]]).all()
    share, low, high = mean_with_interval(np.r_[np.ones(30), np.zeros(270)], draws(2000))
    assert share == pytest.approx(0.1)
    assert (low, high) == pytest.approx((0.1 - 1.96 * 0.0173, 0.1 + 1.96 * 0.0173), abs=0.006)


def test_the_figures_draw_from_the_tables(fabricated, tmp_path):
    from lottery_mia.figures.exposure import plot_exposure, plot_memorisation
    from lottery_mia.figures.style import figure_style

    table = pd.read_parquet(fabricated["table.parquet"])
    agreement = pd.read_csv(fabricated["agreement.csv"])
    memorised = pd.read_csv(fabricated["memorisation.csv"])
    names = ("e.png", "e.pdf", "m.png", "m.pdf")
    plot_exposure_figures(
        table, agreement, memorised, "digits", 0.1, None, STYLE, *(tmp_path / n for n in names)
    )
    assert all((tmp_path / n).stat().st_size > 0 for n in names)
    look = figure_style(STYLE)
    exposure_fig = plot_exposure(
        table, agreement, 0.1, tmp_path / "a.png", tmp_path / "a.pdf", look
    )
    assert "dense-dense" in exposure_fig.axes[0].get_title()
    assert "J@10 " in exposure_fig.axes[0].get_title()
    # One legend for the figure, none repeated in a panel.
    assert len(exposure_fig.legends) == 1 and exposure_fig.axes[0].get_legend() is None
    # A top set the bootstrap cannot resolve is titled as such, not as a number.
    small = agreement.assign(top_k=2, jaccard=np.nan, jaccard_ci_low=np.nan, jaccard_ci_high=np.nan)
    small_fig = plot_exposure(table, small, 0.1, tmp_path / "s.png", tmp_path / "s.pdf", look)
    assert small_fig.axes[0].get_title().endswith("J@2 n/a (top set under 10 members)")
    # The fabricated mlp score stands in for a reference attack: one box per memorisation level.
    boxes = plot_memorisation(table, memorised, "mlp", tmp_path / "b.png", tmp_path / "b.pdf", look)
    levels = table.loc[table["member"], "resnet18/sparsity0/memorisation"].nunique()
    assert len(boxes.axes[0].get_xticks()) == levels
    (row,) = memorised.to_dict("records")
    assert boxes.axes[0].get_title() == (
        f"ResNet-18 dense\nSpearman {row['spearman']:.2f} "
        f"[{row['spearman_ci_low']:.2f}, {row['spearman_ci_high']:.2f}]"
    )


def test_the_lowest_seed_compares_seeds_as_numbers():
    columns = [
        "resnet18/seed10/sparsity0/score_mlp",
        "resnet18/seed2/sparsity0/score_mlp",
        "resnet18/seed1/magnitude/sparsity0.8/score_mlp",  # another model
        "resnet50/seed0/sparsity0/score_mlp",  # another architecture
        "resnet18/seed0/sparsity0/score_lira_online",  # another field
    ]
    assert lowest_seed(columns, "resnet18", "sparsity0", "score_mlp") == 2
    assert lowest_seed(columns, "resnet18", "magnitude/sparsity0.8", "score_mlp") == 1
    assert lowest_seed(columns, "resnet18", "sparsity0", "score_rmia") is None
