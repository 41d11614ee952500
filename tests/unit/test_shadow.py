"""The shadow-model attack: trained on a reference's own IN/OUT labels, applied to the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import membership_metrics
from lottery_mia.attacks import AttackSettings
from lottery_mia.shadow import SHADOW_ATTACK, ShadowOutputs, fit_shadow_attack, shadow_training_rows

N_ROWS, N_CLASSES = 600, 3


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
