"""The attacks trained on one model's own outputs (classifier and metric families): fit, score, run.

``fit_attack`` picks the family's ``fit`` from the registry; the rows are the shared balanced
selection (``base.split_attack_rows``).
"""

from __future__ import annotations

import pandas as pd

from lottery_mia.attack.base import (
    AttackSettings,
    FittedAttack,
    member_labels,
    score_attack,
    split_attack_rows,
)
from lottery_mia.attack.registry import PER_MODEL_ATTACKS, get


def fit_attack(name: str, train_rows: pd.DataFrame, settings: AttackSettings) -> FittedAttack:
    """Train attack ``name`` on balanced member / non-member rows of one model's outputs."""
    if name not in PER_MODEL_ATTACKS:
        raise ValueError(f"unknown attack {name!r}; expected one of {PER_MODEL_ATTACKS}")
    labels = member_labels(train_rows)
    if labels.size == 0 or labels.min() == labels.max():
        raise ValueError(
            f"attack training rows hold {int(labels.sum())} members and "
            f"{int(labels.size - labels.sum())} non-members; expected both"
        )
    return get(name).implementation().fit(name, train_rows, settings)


def run_attack(
    outputs: pd.DataFrame, name: str, n_samples: int, settings: AttackSettings
) -> pd.DataFrame:
    """Train attack ``name`` on ``n_samples`` rows of one model's outputs; score the evaluation rows."""
    train_rows, eval_rows = split_attack_rows(outputs, n_samples, settings.eval_size)
    return score_attack(fit_attack(name, train_rows, settings), eval_rows)
