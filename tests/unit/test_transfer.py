"""Transfer matrix: one fit per source, diagonal = ordinary attack, like-with-like samples."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.exceptions import ConvergenceWarning

from lottery_mia.attack_scores import evaluation_rows
from lottery_mia.attacks import (
    AttackSettings,
    ForestSettings,
    MlpSettings,
    fit_attack,
    run_attack,
    score_attack,
    split_attack_rows,
)
from lottery_mia.outputs_table import OUTPUT_SCHEMA, validate_outputs
from lottery_mia.transfer_matrix import TRANSFER_COLUMNS, transfer_matrix
from lottery_mia.uncertainty import METRIC_NAMES, point_metrics

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
        matrix = transfer_matrix(models, name, N_SAMPLES, SETTINGS)
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
    matrix = transfer_matrix(models, "random_forest", N_SAMPLES, SETTINGS)
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
    matrix = transfer_matrix(models, "loss_threshold", N_SAMPLES, SETTINGS)
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
