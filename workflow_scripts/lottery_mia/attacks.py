"""Membership-inference attacks on a model's outputs (the paper's attack classifiers + a baseline).

The paper's attack: take each sample's confidence vector P(y|x), label it member / non-member,
and train a scikit-learn classifier on equal numbers of both (MLP, SVM, random forest). The
threshold attacks (``metric_attacks``: the loss threshold of Yeom et al. 2018, the baseline the
field expects, and Song & Mittal's signals) build on this module's conventions.

Conventions: member is the positive class, encoded 1 for scikit-learn; every attack returns a
score where higher means "more likely member". This module imports no torch, so attack jobs
start fast. It stays one module because its settings, row split, features and classifiers all
rest on that convention.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from lottery_mia.attack_scores import score_frame
from lottery_mia.membership_signals import logit_scaled_features
from lottery_mia.outputs_table import logits_matrix

#: Attacks trained on one model's own outputs: the paper's classifiers, then threshold attacks
#: on one signal, global or per class (``metric_attacks``, the loss threshold included).
ATTACK_NAMES: tuple[str, ...] = (
    "mlp", "svm", "random_forest", "loss_threshold", "loss_threshold_per_class",
    "confidence", "confidence_per_class", "entropy", "entropy_per_class",
    "modified_entropy", "modified_entropy_per_class",
)  # fmt: skip
CLASSIFIER_NAMES: tuple[str, ...] = ("mlp", "svm", "random_forest")
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


def _check_n_samples(n_samples: int) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise ValueError(f"n_samples is {n_samples!r}, expected an integer")
    if n_samples <= 0 or n_samples % 2:
        raise ValueError(
            f"n_samples is {n_samples}, expected a positive even number "
            "(half members, half non-members)"
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
    _check_n_samples(n_samples)
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
    pool_members = ~is_eval & member
    pool_non_members = ~is_eval & ~member
    if pool_members.sum() < half or pool_non_members.sum() < half:
        raise ValueError(
            f"n_samples = {n_samples} needs {half} member and {half} non-member training rows; "
            f"outputs have {int(pool_members.sum())} and {int(pool_non_members.sum())} rows "
            "outside the evaluation set"
        )
    first_members = pool_members & (np.cumsum(pool_members) <= half)
    first_non_members = pool_non_members & (np.cumsum(pool_non_members) <= half)
    return outputs[first_members | first_non_members], outputs[is_eval]


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


def _member_labels(frame: pd.DataFrame) -> np.ndarray:
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


@dataclass(frozen=True)
class ClassifierAttack(FittedAttack):
    """A scikit-learn classifier trained on attack features (the paper's attacks)."""

    name: str
    pipeline: Pipeline
    settings: AttackSettings

    def _member_column(self) -> int:
        classes = list(self.pipeline.classes_)
        return classes.index(MEMBER_LABEL)

    def membership_score(self, rows: pd.DataFrame) -> np.ndarray:
        features = attack_features(rows, self.settings)
        if self.name == "svm":
            # SVC's decision function is positive for classes_[1]; flip it if that is not "member".
            decision = self.pipeline.decision_function(features)
            return decision if self._member_column() == 1 else -decision
        return self.pipeline.predict_proba(features)[:, self._member_column()]

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return self.pipeline.predict(attack_features(rows, self.settings)) == MEMBER_LABEL


def best_loss_threshold(losses: np.ndarray, member: np.ndarray) -> float:
    """The loss cut-off that maximises training accuracy of "member iff loss < cut-off".

    Candidates lie midway between consecutive distinct losses (plus below the smallest and above
    the largest), so that unseen losses between two training values are split evenly. Ties in
    accuracy go to the smallest cut-off, i.e. the most conservative member decision.
    """
    order = np.argsort(losses, kind="stable")
    sorted_losses = losses[order]
    sorted_member = member[order].astype(np.int64)
    n_rows = sorted_losses.size
    n_non_members = n_rows - int(sorted_member.sum())
    # Predicting the k smallest losses as members, for k = 0..n: correct = TP(k) + TN(k).
    members_below = np.concatenate(([0], np.cumsum(sorted_member)))
    k = np.arange(n_rows + 1)
    correct = members_below + (n_non_members - (k - members_below))
    # k may only cut between distinct values (or at either end).
    valid = np.ones(n_rows + 1, dtype=bool)
    valid[1:-1] = sorted_losses[1:] > sorted_losses[:-1]
    best_k = int(np.flatnonzero(valid)[np.argmax(correct[valid])])
    if best_k == 0:
        return float(np.nextafter(sorted_losses[0], -np.inf))
    if best_k == n_rows:
        return float(np.nextafter(sorted_losses[-1], np.inf))
    return float((sorted_losses[best_k - 1] + sorted_losses[best_k]) / 2)


def _classifier_pipeline(name: str, settings: AttackSettings) -> Pipeline:
    """The paper's classifiers, seeded; scaled where the model is sensitive to feature scale."""
    if name == "mlp":
        return make_pipeline(
            StandardScaler(),
            MLPClassifier(
                hidden_layer_sizes=settings.mlp.hidden_layer_sizes,
                max_iter=settings.mlp.max_iter,
                random_state=settings.seed,
            ),
        )
    if name == "svm":
        return make_pipeline(
            StandardScaler(),
            # No Platt scaling (deprecated in scikit-learn 1.9): the decision function is the score.
            SVC(C=settings.svm.C, kernel=settings.svm.kernel, random_state=settings.seed),
        )
    if name == "random_forest":
        # Trees split on thresholds, so scaling would change nothing.
        return make_pipeline(
            RandomForestClassifier(
                n_estimators=settings.random_forest.n_estimators,
                max_depth=settings.random_forest.max_depth,
                random_state=settings.seed,
            )
        )
    raise ValueError(f"unknown attack {name!r}; expected one of {ATTACK_NAMES}")


def fit_attack(name: str, train_rows: pd.DataFrame, settings: AttackSettings) -> FittedAttack:
    """Train attack ``name`` on balanced member / non-member rows of one model's outputs."""
    if name not in ATTACK_NAMES:
        raise ValueError(f"unknown attack {name!r}; expected one of {ATTACK_NAMES}")
    labels = _member_labels(train_rows)
    if labels.size == 0 or labels.min() == labels.max():
        raise ValueError(
            f"attack training rows hold {int(labels.sum())} members and "
            f"{int(labels.size - labels.sum())} non-members; expected both"
        )
    if name not in CLASSIFIER_NAMES:
        # The loss threshold too: its signal is -CE in float64 from the logits, like every other
        # signal, never the stored float32 loss (which rounds an overfit model's losses together).
        # Imported here: metric_attacks builds on this module's FittedAttack and threshold search.
        from lottery_mia.metric_attacks import fit_metric_attack

        return fit_metric_attack(name, train_rows, settings.min_rows_per_class)
    pipeline = _classifier_pipeline(name, settings)
    pipeline.fit(attack_features(train_rows, settings), labels)
    return ClassifierAttack(name=name, pipeline=pipeline, settings=settings)


def score_attack(fitted: FittedAttack, eval_rows: pd.DataFrame) -> pd.DataFrame:
    """The attack's score and decision on every evaluation row: a scores table
    (``attack_scores.score_frame``) from which every metric is computed."""
    return score_frame(eval_rows, fitted.membership_score(eval_rows), fitted.predict(eval_rows))


def run_attack(
    outputs: pd.DataFrame, name: str, n_samples: int, settings: AttackSettings
) -> pd.DataFrame:
    """Train attack ``name`` on ``n_samples`` rows of one model's outputs; score the evaluation rows."""
    train_rows, eval_rows = split_attack_rows(outputs, n_samples, settings.eval_size)
    return score_attack(fit_attack(name, train_rows, settings), eval_rows)
