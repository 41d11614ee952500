"""Attacks: settings parsing, the nested balanced split, features, and attack strength/sign."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning

from lottery_mia.attack.base import (
    AttackSettings,
    ForestSettings,
    MlpSettings,
    SvmSettings,
    attack_features,
    score_attack,
    split_attack_rows,
)
from lottery_mia.attack.metric import best_loss_threshold
from lottery_mia.attack.per_model import fit_attack, run_attack
from lottery_mia.attack.registry import PER_MODEL_ATTACKS as ATTACK_NAMES
from lottery_mia.attack_scores import evaluation_rows
from lottery_mia.config import schema_defaults
from lottery_mia.membership_signals import membership_signal
from lottery_mia.outputs_table import OUTPUT_SCHEMA, validate_outputs
from lottery_mia.stats.metrics import point_metrics

N_CLASSES = 10
EVAL_SIZE = 200
FAST = AttackSettings(
    eval_size=EVAL_SIZE,
    mlp=MlpSettings(hidden_layer_sizes=(32,), max_iter=300),
    random_forest=ForestSettings(n_estimators=50),
)


def synthetic_outputs(
    n_per_pool: int = 400, seed: int = 0, eval_size: int = EVAL_SIZE
) -> pd.DataFrame:
    """Outputs of an overfit model: members have confident, correct logits and low loss.

    Non-members get a smaller, noisier margin on their true class (so some are wrong); the two
    distributions overlap, so the attack is easy but not perfect. Train-pool rows come first;
    the first ``eval_size / 2`` rows of each pool are the attack-evaluation rows.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, list[object]] = {name: [] for name in OUTPUT_SCHEMA.names}
    for pool, margin_mean, margin_sd in (("train", 6.0, 1.5), ("test", 2.5, 2.0)):
        labels = rng.integers(0, N_CLASSES, size=n_per_pool)
        logits = rng.normal(0.0, 1.0, size=(n_per_pool, N_CLASSES))
        logits[np.arange(n_per_pool), labels] += rng.normal(margin_mean, margin_sd, n_per_pool)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        columns["sample_id"] += list(range(n_per_pool))
        columns["pool"] += [pool] * n_per_pool
        columns["member"] += [pool == "train"] * n_per_pool
        columns["label"] += labels.tolist()
        columns["logits"] += [row.astype(np.float32).tolist() for row in logits]
        columns["loss"] += (-log_probs[np.arange(n_per_pool), labels]).tolist()
        columns["correct"] += (logits.argmax(axis=1) == labels).tolist()
        columns["attack_eval"] += [i < eval_size // 2 for i in range(n_per_pool)]
    table = pa.Table.from_pydict(columns, schema=OUTPUT_SCHEMA)
    validate_outputs(table, "synthetic")
    return table.to_pandas()


@pytest.fixture(scope="module")
def outputs() -> pd.DataFrame:
    return synthetic_outputs()


def test_settings_from_config_shape_and_extra_keys() -> None:
    settings = AttackSettings.from_config(
        {
            "names": ["mlp", "svm"],
            "eval_size": 200,
            "features": "sorted_topk",
            "top_k": 4,
            "seed": 7,
            "bootstrap_resamples": 300,
            "bootstrap_seed": 2,
            "mlp": {"hidden_layer_sizes": [16, 8], "max_iter": 50},
            "svm": {"C": 2, "kernel": "linear"},
            "random_forest": {"n_estimators": 10, "max_depth": None},
        }
    )
    assert settings == AttackSettings(
        eval_size=200,
        features="sorted_topk",
        top_k=4,
        seed=7,
        bootstrap_resamples=300,
        bootstrap_seed=2,
        mlp=MlpSettings(hidden_layer_sizes=(16, 8), max_iter=50),
        svm=SvmSettings(C=2.0, kernel="linear"),
        random_forest=ForestSettings(n_estimators=10, max_depth=None),
    )
    assert (
        AttackSettings.from_config(
            schema_defaults("attack") | {"random_forest": {"max_depth": 5}}
        ).random_forest.max_depth
        == 5
    )


def _row_ids(frame: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(frame["pool"], frame["sample_id"], strict=True))


def test_split_is_balanced_disjoint_and_in_file_order(outputs: pd.DataFrame) -> None:
    train, evaluation = split_attack_rows(outputs, 40, EVAL_SIZE)
    assert train["member"].sum() == 20 and (~train["member"]).sum() == 20
    assert evaluation["member"].sum() == EVAL_SIZE // 2
    assert (~evaluation["member"]).sum() == EVAL_SIZE // 2
    assert evaluation["attack_eval"].all() and not train["attack_eval"].any()
    assert not _row_ids(train) & _row_ids(evaluation)
    # The first 20 non-evaluation rows of each pool, in file order.
    half_eval = EVAL_SIZE // 2
    expected_ids = list(range(half_eval, half_eval + 20))
    assert train.loc[train["member"], "sample_id"].tolist() == expected_ids
    assert train.loc[~train["member"], "sample_id"].tolist() == expected_ids
    assert train.index.is_monotonic_increasing


def test_larger_sample_count_contains_smaller(outputs: pd.DataFrame) -> None:
    small, eval_small = split_attack_rows(outputs, 20, EVAL_SIZE)
    large, eval_large = split_attack_rows(outputs, 100, EVAL_SIZE)
    assert _row_ids(small) < _row_ids(large)
    assert eval_small.equals(eval_large)


@pytest.mark.parametrize(
    ("n_samples", "message"),
    [
        (21, "positive even number"),
        (0, "positive even number"),
        (-4, "positive even number"),
        (602, r"needs 301 member and 301 non-member training rows; outputs have 300 and 300"),
    ],
)
def test_split_rejects_bad_sample_counts(
    outputs: pd.DataFrame, n_samples: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        split_attack_rows(outputs, n_samples, EVAL_SIZE)


def test_largest_possible_sample_count_is_accepted(outputs: pd.DataFrame) -> None:
    train, _ = split_attack_rows(outputs, 600, EVAL_SIZE)
    assert len(train) == 600


def test_split_rejects_eval_set_of_wrong_size(outputs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"100 member and 100 non-member .* expected 40 of each"):
        split_attack_rows(outputs, 20, 80)
    unbalanced = outputs.copy()
    unbalanced.loc[unbalanced.index[0], "attack_eval"] = False
    with pytest.raises(ValueError, match="99 member and 100 non-member"):
        split_attack_rows(unbalanced, 20, EVAL_SIZE)


def test_probability_features_are_a_stable_softmax(outputs: pd.DataFrame) -> None:
    features = attack_features(outputs, FAST)
    logits = np.stack(outputs["logits"].to_numpy()).astype(np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert features.shape == (len(outputs), N_CLASSES)
    np.testing.assert_allclose(features, expected, rtol=1e-6)
    huge = outputs.head(2).copy()
    huge["logits"] = [np.array([1000.0, 0.0] + [0.0] * 8, dtype=np.float32)] * 2
    huge_features = attack_features(huge, FAST)
    assert np.isfinite(huge_features).all()
    assert huge_features[0, 0] == pytest.approx(1.0)


def test_sorted_topk_features_are_largest_probabilities_descending(outputs: pd.DataFrame) -> None:
    topk = AttackSettings(eval_size=EVAL_SIZE, features="sorted_topk", top_k=3)
    features = attack_features(outputs, topk)
    probabilities = attack_features(outputs, FAST)
    assert features.shape == (len(outputs), 3)
    assert (np.diff(features, axis=1) <= 0).all()
    np.testing.assert_allclose(features[:, 0], probabilities.max(axis=1))
    np.testing.assert_allclose(features, np.sort(probabilities, axis=1)[:, ::-1][:, :3])


def test_sorted_topk_rejects_k_above_class_count(outputs: pd.DataFrame) -> None:
    too_many = AttackSettings(eval_size=EVAL_SIZE, features="sorted_topk", top_k=N_CLASSES + 1)
    with pytest.raises(ValueError, match="top_k is 11 but the model has only 10 classes"):
        attack_features(outputs, too_many)


def test_features_reject_non_finite_logits(outputs: pd.DataFrame) -> None:
    broken = outputs.head(4).copy()
    broken["logits"] = [np.full(N_CLASSES, np.nan, dtype=np.float32), *broken["logits"][1:]]
    with pytest.raises(ValueError, match="1 row"):
        attack_features(broken, FAST)


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_every_attack_detects_overfit_members(outputs: pd.DataFrame, name: str) -> None:
    train, evaluation = split_attack_rows(outputs, 400, EVAL_SIZE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit_attack(name, train, FAST)
    scores = score_attack(fitted, evaluation)
    assert len(scores) == EVAL_SIZE
    assert np.array_equal(scores["sample_id"], evaluation["sample_id"])
    metrics = point_metrics(evaluation_rows(scores))
    assert metrics["auc"] > 0.7, metrics
    assert metrics["accuracy"] > 0.6, metrics
    # Sign and label checks: members score higher and are the ones predicted "member".
    predicted = fitted.predict(evaluation)
    score = fitted.membership_score(evaluation)
    member = evaluation["member"].to_numpy()
    assert predicted.dtype == np.bool_
    assert predicted[member].mean() > predicted[~member].mean() + 0.2
    assert score[member].mean() > score[~member].mean()


def test_sorted_topk_attack_detects_members(outputs: pd.DataFrame) -> None:
    topk = AttackSettings(eval_size=EVAL_SIZE, features="sorted_topk", top_k=3, mlp=FAST.mlp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = run_attack(outputs, "mlp", 400, topk)
    assert point_metrics(evaluation_rows(scores))["auc"] > 0.7


def test_loss_threshold_maximises_training_accuracy() -> None:
    rng = np.random.default_rng(5)
    member = rng.random(60) < 0.5
    losses = np.round(rng.exponential(1.0, 60) + 0.7 * ~member, 1)  # rounding creates ties
    threshold = best_loss_threshold(losses, member)
    accuracy = ((losses < threshold) == member).mean()
    best_possible = max(((losses < t) == member).mean() for t in [*np.unique(losses), np.inf])
    assert accuracy == pytest.approx(best_possible)
    assert accuracy > 0.5


def test_loss_threshold_cuts_midway_between_training_losses() -> None:
    member = np.array([True, True, False, False])
    assert best_loss_threshold(np.array([0.1, 0.2, 0.6, 0.9]), member) == pytest.approx(0.4)


def _overfit_outputs(n_rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """Outputs of a model that fits its rows almost perfectly: true-class margins of 12 to 24
    log-odds, and ``loss`` the float32 cross-entropy that outputs.py stores (torch, float32)."""
    import torch
    from torch.nn import functional

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, n_rows)
    member = rng.permutation(n_rows) < n_rows // 2
    logits = rng.normal(0.0, 1.0, (n_rows, N_CLASSES)).astype(np.float32)
    logits[np.arange(n_rows), labels] += rng.uniform(12.0, 20.0, n_rows) + 4.0 * member
    loss = functional.cross_entropy(
        torch.from_numpy(logits), torch.from_numpy(labels), reduction="none"
    )
    return pd.DataFrame(
        {
            "label": labels,
            "member": member,
            "logits": list(logits),
            "loss": loss.numpy().astype(np.float32),
        }
    )


def test_loss_threshold_scores_the_float64_loss_from_the_logits_not_the_float32_column() -> None:
    """Float32 rounds an overfit model's tiny losses together (ties exactly at low FPR); every
    other signal is float64 from the logits, and so must the loss threshold's be."""
    rows = _overfit_outputs()
    train, evaluation = rows.iloc[:200], rows.iloc[200:]
    loss64 = -membership_signal(
        np.stack(evaluation["logits"].to_numpy()), evaluation["label"].to_numpy(), "loss"
    )
    float32_values = np.unique(evaluation["loss"].to_numpy()).size
    assert float32_values < 0.5 * np.unique(loss64).size  # the column has lost the ranking
    fitted = fit_attack("loss_threshold", train, FAST)
    score = fitted.membership_score(evaluation)
    # The score is -CE in float64 up to a constant shift: same ranking, same gaps, same ties.
    assert np.ptp(score + loss64) <= 1e-12
    np.testing.assert_array_equal(rankdata(score), rankdata(-loss64))
    predicted = fitted.predict(evaluation)
    assert predicted.any() and not predicted.all()
    assert loss64[predicted].max() < loss64[~predicted].min()


@pytest.mark.parametrize("name", ["mlp", "random_forest"])
def test_run_attack_is_reproducible_and_seeded(outputs: pd.DataFrame, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = run_attack(outputs, name, 100, FAST)
        again = run_attack(outputs, name, 100, FAST)
        train, evaluation = split_attack_rows(outputs, 100, EVAL_SIZE)
        other_seed = AttackSettings(
            eval_size=EVAL_SIZE, seed=1, mlp=FAST.mlp, random_forest=FAST.random_forest
        )
        reseeded = fit_attack(name, train, other_seed).membership_score(evaluation)
        original = fit_attack(name, train, FAST).membership_score(evaluation)
    pd.testing.assert_frame_equal(first, again)
    assert not np.array_equal(reseeded, original)


def test_unknown_attack_is_rejected(outputs: pd.DataFrame) -> None:
    train, _ = split_attack_rows(outputs, 20, EVAL_SIZE)
    with pytest.raises(ValueError, match=r"unknown attack 'knn'; expected one of"):
        fit_attack("knn", train, FAST)


def test_single_class_training_rows_are_rejected(outputs: pd.DataFrame) -> None:
    train, _ = split_attack_rows(outputs, 20, EVAL_SIZE)
    with pytest.raises(ValueError, match="10 members and 0 non-members"):
        fit_attack("svm", train[train["member"]], FAST)
