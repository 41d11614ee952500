"""The shadow-model attack of Shokri et al. 2017 ("Membership Inference Attacks Against Machine
Learning Models", IEEE S&P 2017).

The attacker knows nothing about the target's membership. It trains reference ("shadow") models
the way the target was trained, on data whose membership it controls, trains the paper's attack
MLP on the shadow models' outputs labelled by their own IN/OUT column, and applies that classifier
unchanged to the target's outputs. This contrasts with the paper we reproduce (Bagmar et al.),
whose attacker trains on the *target's* outputs with the target's true membership labels: a
supervised upper bound rather than a realistic threat.

Rows: like the paper, which trains the attack on many shadow models, we pool every reference
model. The n training rows (the sample count, as for the supervised attacks) are split evenly
over the K shadows (``shadow_quotas``); shadow k gives its first n_k/2 IN and first n_k/2 OUT
rows (in file order) outside ``exclude`` (the target's evaluation rows), labelled by its own keep
column, so a larger n contains every smaller one. Features and classifier are exactly the
supervised MLP's (``base.attack_features``, ``classifier.fit("mlp", ...)``); the rows are the
shared balanced selection (``base.balanced_rows``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lottery_mia.attack import classifier
from lottery_mia.attack.base import AttackSettings, balanced_rows
from lottery_mia.attack.per_model import fit_attack
from lottery_mia.outputs_table import logits_matrix

SHADOW_ATTACK = "shadow_mlp"  # the family's one attack (``attack.registry``)


@dataclasses.dataclass(frozen=True)
class ShadowOutputs:
    """One shadow (reference) model's outputs and which of those rows it trained on."""

    rows: pd.DataFrame
    trained_on: np.ndarray

    def __post_init__(self) -> None:
        trained_on = np.asarray(self.trained_on)
        if trained_on.dtype != np.bool_ or trained_on.shape != (len(self.rows),):
            raise ValueError(
                f"a shadow model's IN column has shape {trained_on.shape} and dtype "
                f"{trained_on.dtype}; expected bool of shape ({len(self.rows)},), one per row"
            )


def shadow_training_rows(
    shadow: ShadowOutputs, n_samples: int, exclude: np.ndarray | None = None
) -> pd.DataFrame:
    """n/2 IN and n/2 OUT rows of one shadow model, ``member`` set to its own IN column."""
    if n_samples <= 0 or n_samples % 2:
        raise ValueError(f"n_samples is {n_samples}, expected a positive even number")
    allowed = np.ones(len(shadow.rows), dtype=bool) if exclude is None else ~np.asarray(exclude)
    if allowed.shape != (len(shadow.rows),):
        raise ValueError(f"exclude has shape {allowed.shape}, expected ({len(shadow.rows)},)")
    half = n_samples // 2
    inside, outside = (
        int((allowed & shadow.trained_on).sum()),
        int((allowed & ~shadow.trained_on).sum()),
    )
    if inside < half or outside < half:
        raise ValueError(
            f"n_samples = {n_samples} needs {half} IN and {half} OUT rows of the shadow model; "
            f"it has {inside} and {outside} outside the evaluation rows"
        )
    chosen = balanced_rows(shadow.trained_on, allowed, half)
    rows = shadow.rows[chosen].copy()
    rows["member"] = shadow.trained_on[chosen]
    # Own copies of the chosen logits: rows read from parquet are views of the whole file's
    # buffer, which would stay alive for every shadow pooled.
    rows["logits"] = list(logits_matrix(rows))
    return rows


def shadow_quotas(n_samples: int, n_shadows: int) -> list[int]:
    """Each shadow's share of the n training rows: even counts, as equal as can be, summing to n
    (half IN, half OUT within each share)."""
    if n_samples <= 0 or n_samples % 2:
        raise ValueError(f"n_samples is {n_samples}, expected a positive even number")
    half = n_samples // 2
    if not 1 <= n_shadows <= half:
        raise ValueError(
            f"n_samples = {n_samples} cannot give each of {n_shadows} shadow models an IN and an "
            "OUT row; expected 1 <= shadows <= n_samples / 2"
        )
    base, extra = divmod(half, n_shadows)
    return [2 * (base + (k < extra)) for k in range(n_shadows)]


def fit_shadow_attack(
    shadows: Sequence[ShadowOutputs],
    n_samples: int,
    settings: AttackSettings,
    exclude: np.ndarray | None = None,
) -> classifier.ClassifierAttack:
    """The paper's MLP trained on n rows pooled from every shadow model's outputs, each labelled
    by that model's own IN/OUT column.

    ``shadows`` is read once, in order, so a lazy sequence holds one model's outputs at a time.
    The returned attack scores any model's rows, in particular the target's, unchanged.
    """
    if not len(shadows):
        raise ValueError("the shadow attack needs at least one reference model")
    quotas = shadow_quotas(n_samples, len(shadows))
    train_rows = pd.concat(
        [
            shadow_training_rows(shadow, quota, exclude)
            for shadow, quota in zip(shadows, quotas, strict=True)
        ],
        ignore_index=True,
    )
    fitted = fit_attack("mlp", train_rows, settings)
    if not isinstance(fitted, classifier.ClassifierAttack):
        raise TypeError(
            f"fit_attack('mlp') returned {type(fitted).__name__}, expected a classifier"
        )
    return dataclasses.replace(fitted, name=SHADOW_ATTACK)
