"""Which rows LiRA and RMIA score, and their scores on a planted population."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.special import log_expit

from conftest import membership_metrics
from lottery_mia.attack.base import split_attack_rows
from lottery_mia.attack.reference_scores import (
    REFERENCE_ATTACK_NAMES,
    ReferenceAttackSettings,
    ReferenceStatistics,
    load_reference_statistics,
    read_reference_statistics,
    reference_attack_rows,
    score_reference_attacks,
    write_reference_statistics,
)
from lottery_mia.membership_signals import logit_scaled_confidence, membership_signal
from lottery_mia.outputs_table import FLIPPED_COLUMN, output_schema, read_outputs
from lottery_mia.reference_keep import keep_matrix


def _outputs(per_pool: int, eval_per_pool: int) -> pd.DataFrame:
    """The outputs' row layout: each pool's first rows are the evaluation rows."""
    position = np.r_[np.arange(per_pool), np.arange(per_pool)]
    return pd.DataFrame(
        {
            "member": np.r_[np.ones(per_pool, bool), np.zeros(per_pool, bool)],
            "attack_eval": position < eval_per_pool,
        }
    )


def test_scored_rows_are_every_row_no_attack_trains_on() -> None:
    outputs = _outputs(per_pool=50, eval_per_pool=10)
    scored, population = reference_attack_rows(outputs, largest_n=60)
    trained = set()
    for n in (20, 60):
        train_rows, eval_rows = split_attack_rows(outputs, n, eval_size=20)
        trained |= set(train_rows.index)
        assert set(eval_rows.index) <= set(scored)
    assert set(scored) == set(range(100)) - trained
    assert len(scored) == 2 * (50 - 30)  # 10 eval + 10 beyond n/2 = 30 training rows, per pool
    assert outputs["member"].to_numpy()[scored].sum() == len(scored) // 2
    # RMIA's population: non-members the attacker holds, never scored.
    assert not outputs["member"].to_numpy()[population].any()
    assert len(population) == 30
    assert not set(population) & set(scored)


def test_too_large_a_sample_count_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer than 41"):
        reference_attack_rows(_outputs(per_pool=50, eval_per_pool=10), largest_n=82)


def _planted(n_rows: int, n_references: int, seed: int) -> tuple[ReferenceStatistics, np.ndarray]:
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(2.0, 3.0, n_rows)
    keep = keep_matrix(n_rows, n_references, seed)
    member = np.r_[np.ones(n_rows // 2, bool), np.zeros(n_rows - n_rows // 2, bool)]

    def phi(trained_on: np.ndarray) -> np.ndarray:
        return difficulty + 2.0 * trained_on + rng.normal(0.0, 0.5, n_rows)

    target = phi(member)
    references = np.stack([phi(column) for column in keep])
    statistics = ReferenceStatistics(
        target, log_expit(target), references, log_expit(references), keep
    )
    return statistics, member


def test_every_reference_attack_scores_members_higher_and_decides_consistently() -> None:
    statistics, member = _planted(n_rows=800, n_references=8, seed=0)
    outputs = pd.DataFrame(
        {"member": member, "attack_eval": np.r_[np.arange(400), np.arange(400)] < 100}
    )
    scored, population = reference_attack_rows(outputs, largest_n=400)
    results = score_reference_attacks(statistics, scored, population, ReferenceAttackSettings())
    assert set(results.scores) == set(REFERENCE_ATTACK_NAMES)
    assert results.lira_variance == "global"
    assert 0.0 <= results.rmia_a <= 1.0
    for name, (score, predicted) in results.scores.items():
        metrics = membership_metrics(member[scored], score, predicted)
        assert metrics["auc"] > 0.8, name
        assert metrics["accuracy"] > 0.6, name


def test_lira_needs_four_references() -> None:
    statistics, _ = _planted(n_rows=100, n_references=2, seed=1)
    with pytest.raises(ValueError, match="at least 4"):
        score_reference_attacks(
            statistics, np.arange(50), np.arange(50, 100), ReferenceAttackSettings()
        )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"lira": {"variance": "pooled"}}, "attack.lira.variance"),
        ({"rmia": {"a": 1.5}}, "attack.rmia.a"),
        ({"rmia": {"gamma": 0}}, "attack.rmia.gamma"),
        ({"decision_level": 1.0}, "attack.decision_level"),
    ],
)
def test_bad_settings_name_their_key(section: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReferenceAttackSettings.from_config(section)


def test_auto_variance_switches_to_per_row_at_64_references() -> None:
    settings = ReferenceAttackSettings()
    assert settings.lira_variance(16) == "global"
    assert settings.lira_variance(64) == "per_row"
    assert ReferenceAttackSettings(variance="per_row").lira_variance(16) == "per_row"


def test_per_row_variance_below_its_minimum_is_refused_by_the_attack_too() -> None:
    """The gate refuses the config; a caller outside the pipeline gets the same refusal."""
    with pytest.raises(ValueError, match=r"attack\.lira\.variance.*per_row.*16"):
        ReferenceAttackSettings(variance="per_row").lira_variance(14)


def _outputs_file(path, logits, flipped, labels, member) -> None:
    """An outputs.parquet with the mirror image's logits (the contract's optional column)."""
    rows = len(labels)

    def as_list(values: np.ndarray) -> pa.ListArray:
        offsets = np.arange(0, values.size + 1, values.shape[1], dtype=np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.ravel(), pa.float32()))

    columns = {
        "sample_id": np.arange(rows, dtype=np.int64) % (rows // 2),
        "pool": ["train"] * (rows // 2) + ["test"] * (rows // 2),
        "member": member,
        "label": labels,
        "logits": as_list(logits),
        "loss": np.zeros(rows, np.float32),
        "correct": np.zeros(rows, bool),
        "attack_eval": np.zeros(rows, bool),
    }
    if flipped is not None:
        columns[FLIPPED_COLUMN] = as_list(flipped)
    pq.write_table(pa.Table.from_pydict(columns, schema=output_schema(flipped is not None)), path)


def test_flip_queries_give_lira_a_query_axis_and_rmia_the_identity(tmp_path) -> None:
    rng = np.random.default_rng(0)
    rows, classes, k = 8, 3, 4
    labels = rng.integers(0, classes, rows)
    keep = keep_matrix(rows, k, seed=0)
    target_member = np.arange(rows) < rows // 2

    def logits() -> np.ndarray:
        return rng.normal(size=(rows, classes)).astype(np.float32)

    target_path, paths, reference_logits = tmp_path / "target.parquet", [], []
    _outputs_file(target_path, target_logits := logits(), target_flipped := logits(), labels,
                  target_member)  # fmt: skip
    for index in range(k):
        paths.append(tmp_path / f"ref{index}.parquet")
        reference_logits.append((logits(), logits()))
        _outputs_file(paths[-1], *reference_logits[-1], labels, keep[index])
    target = read_outputs(target_path, flipped=True)
    statistics = load_reference_statistics(target, paths, keep)
    assert statistics.target_phi.shape == (rows, 2)
    assert statistics.reference_phi.shape == (k, rows, 2)
    np.testing.assert_allclose(
        statistics.target_phi, np.stack([logit_scaled_confidence(target_logits, labels),
                                         logit_scaled_confidence(target_flipped, labels)], -1),
        rtol=1e-5,
    )  # fmt: skip
    flipped_phi = [logit_scaled_confidence(flipped, labels) for _, flipped in reference_logits]
    np.testing.assert_allclose(statistics.reference_phi[..., 1], flipped_phi, rtol=1e-5)
    identity_log_p = [membership_signal(plain, labels, "loss") for plain, _ in reference_logits]
    np.testing.assert_allclose(statistics.reference_log_p, identity_log_p, rtol=1e-5)
    # Without the column in the target's frame: one query, as before.
    single = load_reference_statistics(read_outputs(target_path), paths, keep)
    assert single.target_phi.shape == (rows,) and single.reference_phi.shape == (k, rows)
    # A reference exported without mirror images cannot serve a target with them.
    _outputs_file(paths[2], *reference_logits[2][:1], None, labels, keep[2])
    with pytest.raises(ValueError, match=rf"ref2\.parquet: missing column.*{FLIPPED_COLUMN}"):
        load_reference_statistics(target, paths, keep)


def test_statistics_come_back_as_saved_and_only_for_their_keep_matrix(tmp_path) -> None:
    statistics, _ = _planted(n_rows=40, n_references=4, seed=1)
    path = tmp_path / "reference_statistics.npz"
    write_reference_statistics(statistics, path)
    back = read_reference_statistics(path, statistics.keep)
    for name in ("target_phi", "target_log_p", "reference_phi", "reference_log_p", "keep"):
        np.testing.assert_array_equal(getattr(back, name), getattr(statistics, name))
    other_keep = keep_matrix(40, 4, seed=2)
    with pytest.raises(ValueError, match=r"another keep matrix.*rerun reference_statistics"):
        read_reference_statistics(path, other_keep)
    path.write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="not a reference statistics file"):
        read_reference_statistics(path, statistics.keep)
