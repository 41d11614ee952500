"""What every attack family shares: settings, the balanced row selection, features, ``FittedAttack``.

Conventions: member is the positive class, encoded 1 for scikit-learn; every attack returns a
score where higher means "more likely member". Nothing here imports torch, so attack jobs start
fast; nothing here imports a family module, so the families build on it without an import circle.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.attack_scores import score_frame
from lottery_mia.membership_signals import logit_scaled_features
from lottery_mia.outputs_table import logits_matrix

FEATURE_KINDS: tuple[str, ...] = ("probabilities", "sorted_topk", "logit_scaled")
MEMBER_LABEL = 1


@dataclass(frozen=True)
class MlpSettings:
    """scikit-learn ``MLPClassifier`` hyperparameters (the paper's best attack)."""

    hidden_layer_sizes: tuple[int, ...] = (64, 64)
    max_iter: int = 300


@dataclass(frozen=True)
class SvmSettings:
    """scikit-learn ``SVC`` hyperparameters."""

    C: float = 1.0
    kernel: str = "rbf"


@dataclass(frozen=True)
class ForestSettings:
    """scikit-learn ``RandomForestClassifier`` hyperparameters (``max_depth`` None = unlimited)."""

    n_estimators: int = 100
    max_depth: int | None = None


@dataclass(frozen=True)
class AttackSettings:
    """Everything that changes an attack's result; built from the config's ``attack:`` section.

    The defaults equal the schema's (a test checks), for callers outside the pipeline.

    ``features``: ``probabilities`` is the full confidence vector P(y|x) in class order (the
    paper); ``sorted_topk`` keeps the ``top_k`` largest probabilities in descending order, which
    does not depend on which class a sample belongs to and so transfers across datasets;
    ``logit_scaled`` is the stable log-odds of the true class with the one-hot label
    (``membership_signals.logit_scaled_features``).
    ``bootstrap_resamples`` and ``bootstrap_seed`` draw every metric's interval (stats/resampling.py).
    """

    eval_size: int = 400
    features: str = "probabilities"
    top_k: int = 3
    seed: int = 0
    bootstrap_resamples: int = 1000
    bootstrap_seed: int = 0
    min_rows_per_class: int = 10
    mlp: MlpSettings = field(default_factory=MlpSettings)
    svm: SvmSettings = field(default_factory=SvmSettings)
    random_forest: ForestSettings = field(default_factory=ForestSettings)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> AttackSettings:
        """Build from the config's ``attack:`` section as the config gate left it (checked, with
        defaults filled in). A job gets only its own attack's sub-section; the others keep their
        defaults, which that job does not use."""
        mlp = dict(section.get("mlp", {}))
        if "hidden_layer_sizes" in mlp:
            mlp["hidden_layer_sizes"] = tuple(mlp["hidden_layer_sizes"])
        svm = dict(section.get("svm", {}))
        if "C" in svm:
            svm["C"] = float(svm["C"])
        return cls(
            eval_size=section["eval_size"],
            features=section["features"],
            top_k=section["top_k"],
            seed=section["seed"],
            bootstrap_resamples=section["bootstrap_resamples"],
            bootstrap_seed=section["bootstrap_seed"],
            min_rows_per_class=section.get("min_rows_per_class", cls.min_rows_per_class),
            mlp=MlpSettings(**mlp),
            svm=SvmSettings(**svm),
            random_forest=ForestSettings(**section.get("random_forest", {})),
        )


def check_n_samples(n_samples: int) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise ValueError(f"n_samples is {n_samples!r}, expected an integer")
    if n_samples <= 0 or n_samples % 2:
        raise ValueError(
            f"n_samples is {n_samples}, expected a positive even number "
            "(half members, half non-members)"
        )


def balanced_rows(member: np.ndarray, allowed: np.ndarray, half: int) -> np.ndarray:
    """The first ``half`` members and the first ``half`` non-members among the ``allowed`` rows.

    In file order, so a larger ``half`` selects every row a smaller one does (results along the
    sample-count axis are nested). The one selection of attack-training rows: the supervised
    attacks' (``split_attack_rows``), the rows the reference attacks leave out
    (``reference_scores.reference_attack_rows``) and each shadow model's (``shadow``). Returns a
    bool mask over the rows; callers check that each class had ``half`` rows to give.
    """
    members = allowed & member
    non_members = allowed & ~member
    return (members & (np.cumsum(members) <= half)) | (
        non_members & (np.cumsum(non_members) <= half)
    )


def split_attack_rows(
    outputs: pd.DataFrame, n_samples: int, eval_size: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one model's outputs into (attack training rows, attack evaluation rows).

    Training rows are the first ``n_samples / 2`` members and the first ``n_samples / 2``
    non-members among rows with ``attack_eval == False``, in file order, so a larger sample
    count contains every smaller one and results along the sample-count axis are nested.
    Evaluation rows are all ``attack_eval`` rows, which must be exactly ``eval_size / 2`` of each
    class: every model and sample count is then scored on the same balanced set.
    Both frames keep the original index and file order.
    """
    check_n_samples(n_samples)
    if eval_size <= 0 or eval_size % 2:
        raise ValueError(f"eval_size is {eval_size}, expected a positive even number")
    missing = [name for name in ("member", "attack_eval") if name not in outputs.columns]
    if missing:
        raise ValueError(f"outputs lack column(s) {missing} needed to split attack rows")
    member = outputs["member"].to_numpy(dtype=bool)
    is_eval = outputs["attack_eval"].to_numpy(dtype=bool)

    eval_members = int((is_eval & member).sum())
    eval_non_members = int((is_eval & ~member).sum())
    half_eval = eval_size // 2
    if eval_members != half_eval or eval_non_members != half_eval:
        raise ValueError(
            f"outputs have {eval_members} member and {eval_non_members} non-member rows with "
            f"attack_eval = true; expected {half_eval} of each (attack.eval_size = {eval_size})"
        )

    half = n_samples // 2
    pool_members, pool_non_members = int((~is_eval & member).sum()), int((~is_eval & ~member).sum())
    if pool_members < half or pool_non_members < half:
        raise ValueError(
            f"n_samples = {n_samples} needs {half} member and {half} non-member training rows; "
            f"outputs have {pool_members} and {pool_non_members} rows outside the evaluation set"
        )
    return outputs[balanced_rows(member, ~is_eval, half)], outputs[is_eval]


def softmax_probabilities(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, shifted by the row maximum so large logits cannot overflow."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def attack_features(frame: pd.DataFrame, settings: AttackSettings) -> np.ndarray:
    """The attack's input per row: P(y|x), or its ``top_k`` largest values in descending order."""
    logits = logits_matrix(frame)
    if not np.isfinite(logits).all():
        bad_rows = int((~np.isfinite(logits)).any(axis=1).sum())
        raise ValueError(
            f"{bad_rows} row(s) have non-finite logits; the model's outputs are unusable"
        )
    if settings.features == "logit_scaled":
        return logit_scaled_features(logits, frame["label"].to_numpy())
    probabilities = softmax_probabilities(logits)
    if settings.features == "probabilities":
        return probabilities
    n_classes = probabilities.shape[1]
    if settings.top_k > n_classes:
        raise ValueError(
            f"attack.top_k is {settings.top_k} but the model has only {n_classes} classes"
        )
    return -np.sort(-probabilities, axis=1)[:, : settings.top_k]


def member_labels(frame: pd.DataFrame) -> np.ndarray:
    """scikit-learn targets: 1 = member (the positive class), 0 = non-member."""
    return np.where(frame["member"].to_numpy(dtype=bool), MEMBER_LABEL, 0)


class FittedAttack(abc.ABC):
    """A trained attack: scores rows (higher = more likely member) and decides membership."""

    @abc.abstractmethod
    def membership_score(self, rows: pd.DataFrame) -> np.ndarray:
        """One float per row; higher means more likely a member."""

    @abc.abstractmethod
    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """One bool per row; true means the attack says "member"."""


def score_attack(fitted: FittedAttack, eval_rows: pd.DataFrame) -> pd.DataFrame:
    """The attack's score and decision on every evaluation row: a scores table
    (``attack_scores.score_frame``) from which every metric is computed."""
    return score_frame(eval_rows, fitted.membership_score(eval_rows), fitted.predict(eval_rows))
