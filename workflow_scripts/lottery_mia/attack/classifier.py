"""The paper's attacks: a scikit-learn classifier (MLP, SVM, random forest) trained on the
confidence vectors P(y|x) of equal numbers of members and non-members of one model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from lottery_mia.attack.base import (
    MEMBER_LABEL,
    AttackSettings,
    FittedAttack,
    attack_features,
    member_labels,
)
from lottery_mia.attack.registry import family_names

CLASSIFIER_NAMES: tuple[str, ...] = family_names("classifier")


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
    raise ValueError(f"unknown classifier attack {name!r}; expected one of {CLASSIFIER_NAMES}")


def fit(name: str, train_rows: pd.DataFrame, settings: AttackSettings) -> ClassifierAttack:
    """Train classifier ``name`` on the attack features of ``train_rows`` (both classes present)."""
    pipeline = _classifier_pipeline(name, settings)
    pipeline.fit(attack_features(train_rows, settings), member_labels(train_rows))
    return ClassifierAttack(name=name, pipeline=pipeline, settings=settings)
