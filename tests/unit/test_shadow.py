"""The shadow-model attack: trained on a reference's own IN/OUT labels, applied to the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import membership_metrics
from lottery_mia import attack_steps
from lottery_mia.atomic import read_json, write_json, write_parquet
from lottery_mia.attack import shadow as shadow_module
from lottery_mia.attack.base import AttackSettings
from lottery_mia.attack.shadow import (
    SHADOW_ATTACK,
    ShadowOutputs,
    fit_shadow_attack,
    shadow_quotas,
    shadow_training_rows,
)
from lottery_mia.config import schema_defaults
from lottery_mia.membership_signals import membership_signal
from lottery_mia.outputs_table import OUTPUT_SCHEMA
from lottery_mia.reference_keep import keep_from_frame, keep_matrix, reference_keep_frame

N_ROWS, N_CLASSES = 600, 3
EVAL_SIZE = 200  # attack_eval: the first 100 rows of each pool


def _model_rows(trained_on: np.ndarray, seed: int) -> pd.DataFrame:
    """Outputs of a model that is more confident on the rows it trained on.

    ``member`` follows the target's pools (first half), as in every outputs file, and is NOT
    this model's membership unless the model is the target.
    """
    rng = np.random.default_rng(seed)
    labels = np.random.default_rng(99).integers(0, N_CLASSES, N_ROWS)  # the same for every model
    logits = rng.normal(0.0, 1.0, (N_ROWS, N_CLASSES)).astype(np.float32)
    logits[np.arange(N_ROWS), labels] += np.where(trained_on, 4.0, 1.0)
    return pd.DataFrame(
        {
            "logits": list(logits),
            "label": labels,
            "member": np.arange(N_ROWS) < N_ROWS // 2,
            "attack_eval": np.arange(N_ROWS) % 3 == 0,
        }
    )


def test_shadow_attack_learns_from_the_reference_and_transfers_to_the_target() -> None:
    rng = np.random.default_rng(0)
    reference_in = rng.permutation(N_ROWS) < N_ROWS // 2  # unrelated to the target's members
    shadow = ShadowOutputs(_model_rows(reference_in, seed=1), reference_in)
    target = _model_rows(np.arange(N_ROWS) < N_ROWS // 2, seed=2)
    exclude = target["attack_eval"].to_numpy()
    attack = fit_shadow_attack([shadow], 200, AttackSettings(), exclude=exclude)
    assert attack.name == SHADOW_ATTACK
    eval_rows = target[exclude]
    metrics = membership_metrics(
        eval_rows["member"].to_numpy(),
        attack.membership_score(eval_rows),
        attack.predict(eval_rows),
    )
    # Labels from the outputs' own `member` column (the target's pools) would teach it nothing.
    assert metrics["auc"] > 0.85
    assert metrics["accuracy"] > 0.75


def test_training_rows_are_balanced_nested_and_labelled_by_the_reference() -> None:
    reference_in = np.random.default_rng(3).permutation(N_ROWS) < N_ROWS // 2
    shadow = ShadowOutputs(_model_rows(reference_in, seed=4), reference_in)
    exclude = shadow.rows["attack_eval"].to_numpy()
    small = shadow_training_rows(shadow, 40, exclude)
    large = shadow_training_rows(shadow, 100, exclude)
    assert small["member"].sum() == 20 and len(small) == 40
    assert set(small.index) <= set(large.index)
    assert not small["attack_eval"].any()
    np.testing.assert_array_equal(large["member"].to_numpy(), reference_in[large.index])


def test_too_many_rows_or_a_bad_in_column_are_refused() -> None:
    reference_in = np.arange(N_ROWS) < 10
    shadow = ShadowOutputs(_model_rows(reference_in, seed=5), reference_in)
    with pytest.raises(ValueError, match="needs 50 IN"):
        shadow_training_rows(shadow, 100)
    with pytest.raises(ValueError, match="IN column"):
        ShadowOutputs(shadow.rows, reference_in.astype(int))
    with pytest.raises(ValueError, match="at least one reference"):
        fit_shadow_attack([], 10, AttackSettings())


def _shadows(n_shadows: int) -> tuple[list[ShadowOutputs], np.ndarray]:
    keep = keep_matrix(N_ROWS, n_shadows, seed=6)
    shadows = [
        ShadowOutputs(_model_rows(column, seed=10 + k), column) for k, column in enumerate(keep)
    ]
    return shadows, keep


def _origin(rows: pd.DataFrame, shadows: list[ShadowOutputs]) -> list[tuple[int, int]]:
    """(shadow, row position) of each training row, found by its logits (unique per model)."""
    where = {
        logits.tobytes(): (k, position)
        for k, shadow in enumerate(shadows)
        for position, logits in enumerate(shadow.rows["logits"])
    }
    return [where[np.asarray(logits, dtype=np.float32).tobytes()] for logits in rows["logits"]]


def _spy_on_training_rows(monkeypatch: pytest.MonkeyPatch) -> list[pd.DataFrame]:
    """Record the rows the shadow attack's MLP is fitted on (the MLP is still fitted)."""
    seen: list[pd.DataFrame] = []
    original = shadow_module.fit_attack

    def spy(name: str, train_rows: pd.DataFrame, settings: AttackSettings):  # type: ignore[no-untyped-def]
        seen.append(train_rows)
        return original(name, train_rows, settings)

    monkeypatch.setattr(shadow_module, "fit_attack", spy)
    return seen


def test_the_attack_trains_on_n_rows_from_every_shadow_each_labelled_by_its_own_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shokri et al. pool many shadows: n rows in all, split evenly, each half IN and half OUT."""
    shadows, keep = _shadows(4)
    seen = _spy_on_training_rows(monkeypatch)
    exclude = shadows[0].rows["attack_eval"].to_numpy()
    fit_shadow_attack(shadows, 200, AttackSettings(), exclude=exclude)
    (rows,) = seen
    origin = _origin(rows, shadows)
    assert len(rows) == 200
    for k in range(4):
        positions = [position for shadow, position in origin if shadow == k]
        assert len(positions) == 50
        labelled = rows["member"].to_numpy()[[shadow == k for shadow, _ in origin]]
        np.testing.assert_array_equal(labelled, keep[k][positions])
        assert labelled.sum() == 25
        assert not exclude[positions].any()


def test_shadow_quotas_split_n_evenly_into_even_shares() -> None:
    assert shadow_quotas(200, 4) == [50, 50, 50, 50]
    assert shadow_quotas(206, 4) == [52, 52, 52, 50]
    assert shadow_quotas(200, 1) == [200]
    with pytest.raises(ValueError, match="cannot give each of 4 shadow models"):
        shadow_quotas(6, 4)


def _write_outputs(path: Path, rows: pd.DataFrame, member: np.ndarray) -> None:
    n_per_pool = N_ROWS // 2
    logits = np.stack(rows["logits"].to_numpy())
    frame = pd.DataFrame(
        {
            "sample_id": np.r_[np.arange(n_per_pool), np.arange(n_per_pool)],
            "pool": ["train"] * n_per_pool + ["test"] * n_per_pool,
            "member": member,
            "label": rows["label"].to_numpy(),
            "logits": [row.tolist() for row in logits],
            "loss": -membership_signal(logits, rows["label"].to_numpy(), "loss"),
            "correct": logits.argmax(axis=1) == rows["label"].to_numpy(),
            "attack_eval": np.r_[np.arange(n_per_pool), np.arange(n_per_pool)] < EVAL_SIZE // 2,
        }
    )
    write_parquet(frame, path, OUTPUT_SCHEMA)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_shadow_job_trains_on_all_k_references_and_finds_a_planted_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference_attacks job: every reference's outputs file is read, each labelled by its
    keep column, and the attack still separates the target's members (planted leak)."""
    n_references = 4
    keep_frame = reference_keep_frame(
        np.r_[np.arange(N_ROWS // 2), np.arange(N_ROWS // 2)],
        np.array(["train"] * (N_ROWS // 2) + ["test"] * (N_ROWS // 2)),
        n_references,
        seed=3,
    )
    keep = keep_from_frame(keep_frame)
    write_parquet(keep_frame, tmp_path / "keep.parquet")
    target_member = np.arange(N_ROWS) < N_ROWS // 2
    _write_outputs(tmp_path / "target.parquet", _model_rows(target_member, seed=2), target_member)
    references = [_model_rows(column, seed=20 + k) for k, column in enumerate(keep)]
    paths = [tmp_path / f"ref{k}.parquet" for k in range(n_references)]
    for path, rows, column in zip(paths, references, keep, strict=True):
        _write_outputs(path, rows, column)
    write_json(tmp_path / "train.json", dict.fromkeys(attack_steps.TARGET_FIELDS, 0.5))
    attack = {
        **schema_defaults("attack"),
        "eval_size": EVAL_SIZE,
        "bootstrap_resamples": 20,
        "reference_models": n_references,
        "mlp": {"hidden_layer_sizes": [16], "max_iter": 300},
    }
    seen = _spy_on_training_rows(monkeypatch)
    attack_steps.run_reference_attacks(
        key={"dataset": "planted", "n_samples": 200},
        settings={"attack": attack},
        outputs_path=tmp_path / "target.parquet",
        record_path=tmp_path / "train.json",
        reference_paths=paths,
        keep_path=tmp_path / "keep.parquet",
        attack_names=[SHADOW_ATTACK],
        largest_n=200,
        attack_dir=tmp_path / "attack",
    )
    shadows = [ShadowOutputs(rows, column) for rows, column in zip(references, keep, strict=True)]
    (rows,) = seen
    origin = _origin(rows, shadows)
    assert sorted({k for k, _ in origin}) == list(range(n_references))
    for (k, position), member in zip(origin, rows["member"], strict=True):
        assert member == keep[k][position]
    record = read_json(tmp_path / "attack" / f"{SHADOW_ATTACK}.json")
    assert record["auc"] > 0.85
