"""Transfer matrix: one fit per source, diagonal = ordinary attack (intervals included),
like-with-like samples; Figure 4's cells over seed pairs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.exceptions import ConvergenceWarning

from lottery_mia.attack.base import (
    AttackSettings,
    ForestSettings,
    MlpSettings,
    score_attack,
    split_attack_rows,
)
from lottery_mia.attack.per_model import fit_attack, run_attack
from lottery_mia.attack_scores import evaluation_rows, metric_record
from lottery_mia.outputs_table import OUTPUT_SCHEMA, validate_outputs
from lottery_mia.stats.metrics import METRIC_NAMES, point_metrics
from lottery_mia.stats.over_seeds import SeedMean, seed_mean_from_draws, t_interval_over_seeds
from lottery_mia.stats.resampling import bootstrap_distribution
from lottery_mia.transfer_cells import CELL_COLUMNS, crossed_seeds
from lottery_mia.transfer_matrix import TRANSFER_COLUMNS, transfer_matrix

N_CLASSES = 5
N_PER_POOL = 200
EVAL_SIZE = 100
N_SAMPLES = 200
SETTINGS = AttackSettings(
    eval_size=EVAL_SIZE,
    mlp=MlpSettings(hidden_layer_sizes=(16,), max_iter=200),
    random_forest=ForestSettings(n_estimators=20),
)


def metrics_of(scores: pd.DataFrame) -> dict[str, float]:
    return {**point_metrics(evaluation_rows(scores)), "n_eval": len(scores)}


def model_outputs(member_margin: float, seed: int) -> pd.DataFrame:
    """Outputs of one model on a fixed sample set (labels seeded by 0, so identical per model).

    ``member_margin`` sets how much more confident the model is on its training samples: the
    models differ in vulnerability while sharing ``sample_id``, ``pool``, ``label`` and
    ``attack_eval``, as real models of one dataset do.
    """
    labels = np.random.default_rng(0).integers(0, N_CLASSES, size=2 * N_PER_POOL)
    rng = np.random.default_rng(seed)
    member = np.arange(2 * N_PER_POOL) < N_PER_POOL
    logits = rng.normal(0.0, 1.0, size=(2 * N_PER_POOL, N_CLASSES))
    margin = np.where(member, member_margin, 2.0) + rng.normal(0.0, 1.5, size=2 * N_PER_POOL)
    logits[np.arange(2 * N_PER_POOL), labels] += margin
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    sample_id = np.tile(np.arange(N_PER_POOL), 2)
    table = pa.Table.from_pydict(
        {
            "sample_id": sample_id,
            "pool": np.where(member, "train", "test"),
            "member": member,
            "label": labels,
            "logits": [row.astype(np.float32).tolist() for row in logits],
            "loss": -log_probs[np.arange(2 * N_PER_POOL), labels],
            "correct": logits.argmax(axis=1) == labels,
            "attack_eval": sample_id < EVAL_SIZE // 2,
        },
        schema=OUTPUT_SCHEMA,
    )
    validate_outputs(table, "synthetic")
    return table.to_pandas()


@pytest.fixture(scope="module")
def models() -> list[tuple[dict[str, object], pd.DataFrame]]:
    return [
        ({"arch": "resnet18", "sparsity": 0.0, "seed": 0}, model_outputs(5.0, seed=1)),
        ({"arch": "resnet18", "sparsity": 0.8, "seed": 0}, model_outputs(4.0, seed=2)),
        ({"arch": "resnet50", "sparsity": 0.8, "seed": 0}, model_outputs(3.0, seed=3)),
    ]


@pytest.mark.parametrize("name", ["random_forest", "loss_threshold", "mlp"])
def test_matrix_shape_columns_and_diagonal(
    models: list[tuple[dict[str, object], pd.DataFrame]], name: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        matrix = transfer_matrix(models, name, N_SAMPLES, SETTINGS).matrix
        direct = [
            metrics_of(run_attack(outputs, name, N_SAMPLES, SETTINGS)) for _, outputs in models
        ]
    assert list(matrix.columns) == list(TRANSFER_COLUMNS)
    assert len(matrix) == len(models) ** 2
    assert (matrix["attack"] == name).all() and (matrix["n_samples"] == N_SAMPLES).all()
    pairs = set(
        zip(
            matrix["source_sparsity"],
            matrix["source_arch"],
            matrix["target_sparsity"],
            matrix["target_arch"],
            strict=True,
        )
    )
    assert len(pairs) == len(models) ** 2
    for (key, _), expected in zip(models, direct, strict=True):
        diagonal = matrix[
            (matrix["source_arch"] == key["arch"])
            & (matrix["source_sparsity"] == key["sparsity"])
            & (matrix["target_arch"] == key["arch"])
            & (matrix["target_sparsity"] == key["sparsity"])
        ]
        assert len(diagonal) == 1
        assert diagonal[[*METRIC_NAMES, "n_eval"]].iloc[0].to_dict() == pytest.approx(
            expected, nan_ok=True
        )


def test_off_diagonal_is_source_attack_scored_on_target(
    models: list[tuple[dict[str, object], pd.DataFrame]],
) -> None:
    matrix = transfer_matrix(models, "random_forest", N_SAMPLES, SETTINGS).matrix
    source_train, _ = split_attack_rows(models[0][1], N_SAMPLES, EVAL_SIZE)
    _, target_eval = split_attack_rows(models[2][1], N_SAMPLES, EVAL_SIZE)
    fitted = fit_attack("random_forest", source_train, SETTINGS)
    expected = metrics_of(score_attack(fitted, target_eval))
    row = matrix[(matrix["source_sparsity"] == 0.0) & (matrix["target_arch"] == "resnet50")]
    assert row[[*METRIC_NAMES, "n_eval"]].iloc[0].to_dict() == pytest.approx(expected, nan_ok=True)
    # The target's own attack differs, so the matrix really mixes source and target.
    own = metrics_of(run_attack(models[2][1], "random_forest", N_SAMPLES, SETTINGS))
    assert own["auc"] != expected["auc"]


def test_key_columns_carry_the_model_keys(
    models: list[tuple[dict[str, object], pd.DataFrame]],
) -> None:
    matrix = transfer_matrix(models, "loss_threshold", N_SAMPLES, SETTINGS).matrix
    first = matrix.iloc[len(models) * 2 + 0]  # source = third model, target = first model
    assert (first["source_arch"], first["source_sparsity"], first["source_seed"]) == (
        "resnet50",
        0.8,
        0,
    )
    assert (first["target_arch"], first["target_sparsity"], first["target_seed"]) == (
        "resnet18",
        0.0,
        0,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda frame: frame.iloc[::-1].reset_index(drop=True), "column 'sample_id' at row 0"),
        (lambda frame: frame.assign(label=(frame["label"] + 1) % N_CLASSES), "column 'label'"),
        (lambda frame: frame.assign(attack_eval=~frame["attack_eval"]), "column 'attack_eval'"),
        (lambda frame: frame.iloc[:-2], "have 398 rows but those of"),
    ],
)
def test_mismatched_sample_rows_are_rejected(
    models: list[tuple[dict[str, object], pd.DataFrame]], change, message: str
) -> None:
    (key, outputs) = models[1]
    altered = [models[0], (key, change(outputs)), models[2]]
    with pytest.raises(ValueError, match=message):
        transfer_matrix(altered, "loss_threshold", N_SAMPLES, SETTINGS)


def test_duplicate_and_incomplete_keys_are_rejected(
    models: list[tuple[dict[str, object], pd.DataFrame]],
) -> None:
    with pytest.raises(ValueError, match="more than once"):
        transfer_matrix([models[0], models[0]], "loss_threshold", N_SAMPLES, SETTINGS)
    with pytest.raises(ValueError, match=r"lacks \['seed'\]"):
        transfer_matrix(
            [({"arch": "resnet18", "sparsity": 0.0}, models[0][1])], "mlp", 20, SETTINGS
        )
    with pytest.raises(ValueError, match="at least one model"):
        transfer_matrix([], "mlp", N_SAMPLES, SETTINGS)


# --- intervals of the pairs and of Figure 4's cells ----------------------------------------------

FEW_RESAMPLES = AttackSettings(eval_size=EVAL_SIZE, bootstrap_resamples=300, bootstrap_seed=7)
INTERVALS = [f"{name}_ci_{side}" for name in METRIC_NAMES for side in ("low", "high")]


def diagonal_of(matrix: pd.DataFrame) -> pd.DataFrame:
    same = np.ones(len(matrix), dtype=bool)
    for field in ("arch", "method", "sparsity", "seed"):
        same &= matrix[f"source_{field}"] == matrix[f"target_{field}"]
    return matrix[same]


def test_a_diagonal_pair_carries_the_interval_of_the_ordinary_attack(
    models: list[tuple[dict[str, object], pd.DataFrame]],
) -> None:
    """The diagonal is the ordinary attack: its intervals are those of the attack's JSON record,
    drawn with the config's bootstrap resamples and seed."""
    matrix = transfer_matrix(models, "loss_threshold", N_SAMPLES, FEW_RESAMPLES).matrix
    assert set(INTERVALS) <= set(matrix.columns)
    assert (matrix["n_bootstrap"] == 300).all() and (matrix["bootstrap_seed"] == 7).all()
    diagonal = diagonal_of(matrix)
    assert len(diagonal) == len(models)
    for (_, outputs), (_, row) in zip(models, diagonal.iterrows(), strict=True):
        scores = run_attack(outputs, "loss_threshold", N_SAMPLES, FEW_RESAMPLES)
        record = metric_record(scores, n_resamples=300, seed=7)
        assert row[INTERVALS].to_dict() == pytest.approx(
            {column: record[column] for column in INTERVALS}, nan_ok=True
        )
    # An interval really moves with the pair: the three models' AUC intervals differ.
    assert diagonal["auc_ci_low"].nunique() == len(models)


@pytest.fixture(scope="module")
def two_seeds() -> list[tuple[dict[str, object], pd.DataFrame]]:
    """A dense model and its ticket, each trained with two seeds (different outputs per seed)."""
    return [
        ({"arch": "resnet18", "sparsity": p, "seed": seed}, model_outputs(margin, 10 * seed + i))
        for seed in (0, 1)
        for i, (p, margin) in enumerate(((0.0, 5.0), (0.8, 3.5)))
    ]


def cell_of(cells: pd.DataFrame, source: float, target: float) -> pd.Series:
    chosen = cells[(cells["source_sparsity"] == source) & (cells["target_sparsity"] == target)]
    assert len(chosen) == 1
    return chosen.iloc[0]


def draws_of(pairs: list[tuple[pd.DataFrame, pd.DataFrame]], metric: str) -> np.ndarray:
    """Each (source outputs, target outputs) pair's bootstrap draws of ``metric``, recomputed
    from the ordinary attack functions: one row per pair, aligned resamples."""
    rows = []
    for source, target in pairs:
        train, _ = split_attack_rows(source, N_SAMPLES, EVAL_SIZE)
        _, evaluation = split_attack_rows(target, N_SAMPLES, EVAL_SIZE)
        fitted = fit_attack("loss_threshold", train, FEW_RESAMPLES)
        scores = evaluation_rows(score_attack(fitted, evaluation))
        rows.append(bootstrap_distribution(scores, 300, 7)[metric])
    return np.vstack(rows)


def test_cells_average_matching_seeds_on_the_diagonal_and_every_pair_off_it(two_seeds) -> None:
    tables = transfer_matrix(two_seeds, "loss_threshold", N_SAMPLES, FEW_RESAMPLES)
    matrix, cells = tables.matrix, tables.cells
    # Sources are fitted kind by kind, yet the matrix stays in source-major order of the models.
    assert list(matrix["source_seed"]) == [0] * 8 + [1] * 8
    assert list(matrix["source_sparsity"][::4]) == [0.0, 0.8, 0.0, 0.8]
    assert list(cells.columns) == list(CELL_COLUMNS)
    assert len(cells) == 4  # 2 kinds x 2 kinds
    dense = cell_of(cells, 0.0, 0.0)
    same_seed = diagonal_of(matrix)
    assert dense["n_pairs"] == 2
    expected = same_seed[same_seed["source_sparsity"] == 0.0]["auc"].mean()
    assert dense["auc"] == pytest.approx(expected)
    transfer = cell_of(cells, 0.0, 0.8)
    assert transfer["n_pairs"] == 4
    every_pair = matrix[(matrix["source_sparsity"] == 0.0) & (matrix["target_sparsity"] == 0.8)]
    assert transfer["auc"] == pytest.approx(every_pair["auc"].mean())


def test_a_diagonal_cells_interval_is_the_seed_mean_of_its_aligned_draws(two_seeds) -> None:
    """Two seeds: the over-seeds interval of the cell (training and row noise), at least as wide
    as the row noise alone, never a t-interval over the two seeds' estimates only."""
    cells = transfer_matrix(two_seeds, "loss_threshold", N_SAMPLES, FEW_RESAMPLES).cells
    dense = cell_of(cells, 0.0, 0.0)
    outputs = [frame for key, frame in two_seeds if key["sparsity"] == 0.0]
    draws = draws_of([(frame, frame) for frame in outputs], "auc")
    estimates = [
        point_metrics(evaluation_rows(run_attack(frame, "loss_threshold", N_SAMPLES, SETTINGS)))[
            "auc"
        ]
        for frame in outputs
    ]
    seed_mean = seed_mean_from_draws(estimates, draws)
    assert (dense["auc_ci_low"], dense["auc_ci_high"]) == pytest.approx(seed_mean.interval(0.95))
    row_noise = 2 * 1.96 * np.sqrt(np.var(draws.mean(axis=0), ddof=1))
    assert dense["auc_ci_high"] - dense["auc_ci_low"] >= row_noise
    _, t_low, t_high = t_interval_over_seeds(estimates)
    assert (dense["auc_ci_low"], dense["auc_ci_high"]) != pytest.approx((t_low, t_high))


def test_an_off_diagonal_cells_interval_counts_rows_and_both_models_training(two_seeds) -> None:
    """Off the diagonal the 4 pairs are a source seed x target seed design: the training part is
    var(source means) / 2 + var(target means) / 2, the rows' part from the pairs' aligned draws."""
    tables = transfer_matrix(two_seeds, "loss_threshold", N_SAMPLES, FEW_RESAMPLES)
    transfer = cell_of(tables.cells, 0.0, 0.8)
    sources = [frame for key, frame in two_seeds if key["sparsity"] == 0.0]
    targets = [frame for key, frame in two_seeds if key["sparsity"] == 0.8]
    draws = draws_of([(s, t) for s in sources for t in targets], "auc")
    pairs = tables.matrix[
        (tables.matrix["source_sparsity"] == 0.0) & (tables.matrix["target_sparsity"] == 0.8)
    ]
    by_source = pairs.groupby("source_seed")["auc"].mean()
    by_target = pairs.groupby("target_seed")["auc"].mean()
    training = by_source.var() / 2 + by_target.var() / 2
    rows = np.var(draws.mean(axis=0), ddof=1)
    expected = SeedMean(pairs["auc"].mean(), training, rows, n_seeds=2).interval(0.95)
    assert (transfer["auc_ci_low"], transfer["auc_ci_high"]) == pytest.approx(expected)
    assert transfer["auc_ci_high"] - transfer["auc_ci_low"] >= 2 * 1.96 * np.sqrt(rows)
    assert (transfer["n_source_seeds"], transfer["n_target_seeds"]) == (2, 2)


def test_two_seeds_that_agree_keep_the_row_noise_a_t_interval_over_seeds_would_drop() -> None:
    """Two seeds with the same outputs: no training spread, so a t-interval over the seeds has
    width 0; the cell's interval still carries the rows' noise, about one pair's own width."""
    outputs = model_outputs(4.0, seed=5)
    twins = [({"arch": "resnet18", "sparsity": 0.0, "seed": seed}, outputs) for seed in (0, 1)]
    tables = transfer_matrix(twins, "loss_threshold", N_SAMPLES, FEW_RESAMPLES)
    cell = tables.cells.iloc[0]
    pair = diagonal_of(tables.matrix).iloc[0]
    _, t_low, t_high = t_interval_over_seeds(diagonal_of(tables.matrix)["auc"])
    assert t_high - t_low == pytest.approx(0.0)
    width, pair_width = (
        cell["auc_ci_high"] - cell["auc_ci_low"],
        pair["auc_ci_high"] - pair["auc_ci_low"],
    )
    assert width == pytest.approx(pair_width, rel=0.25)


def test_one_seed_cells_are_the_matrix_pairs_with_their_own_intervals(
    models: list[tuple[dict[str, object], pd.DataFrame]],
) -> None:
    tables = transfer_matrix(models, "loss_threshold", N_SAMPLES, FEW_RESAMPLES)
    assert len(tables.cells) == len(tables.matrix) == len(models) ** 2
    assert (tables.cells["n_pairs"] == 1).all()
    keys = [f"{side}_{field}" for side in ("source", "target") for field in ("arch", "sparsity")]
    columns = [*METRIC_NAMES, *INTERVALS]
    merged = tables.cells.merge(tables.matrix, on=keys, suffixes=("_cell", "_pair"))
    for column in columns:
        np.testing.assert_array_equal(merged[f"{column}_cell"], merged[f"{column}_pair"])


def test_crossed_seeds_count_a_sources_training_noise_once_per_source_seed() -> None:
    """Pairs sharing a source share its noise: with a pure source effect the training variance
    of the mean is var(source means) / S, not var(pairs) / S^2 as if the pairs were independent."""
    values = pd.DataFrame(
        [(s, t, [0.6, 0.7][s]) for s in (0, 1) for t in (0, 1)],
        columns=["source", "target", "value"],
    )
    variance, n_seeds = crossed_seeds(values)
    assert variance == pytest.approx(np.var([0.6, 0.7], ddof=1) / 2)
    assert n_seeds == 2
    assert variance > np.var(values["value"], ddof=1) / 4
