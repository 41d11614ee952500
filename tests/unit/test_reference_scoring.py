"""Which rows LiRA and RMIA score, and their scores on a planted population."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import log_expit

from lottery_mia.attacks import split_attack_rows
from lottery_mia.reference_keep import keep_matrix
from lottery_mia.reference_scoring import (
    REFERENCE_ATTACK_NAMES,
    ReferenceAttackSettings,
    ReferenceStatistics,
    reference_attack_rows,
    score_reference_attacks,
)
from lottery_mia.uncertainty import EvaluationRows, point_metrics


def membership_metrics(member: np.ndarray, score: np.ndarray, predicted: np.ndarray) -> dict:
    """Every metric of the evaluation rows (the pipeline's definitions, uncertainty.py)."""
    return point_metrics(
        EvaluationRows(np.asarray(member), np.asarray(score), np.asarray(predicted))
    )


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
    assert ReferenceAttackSettings(variance="per_row").lira_variance(4) == "per_row"
