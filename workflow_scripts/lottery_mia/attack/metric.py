"""Metric attacks: a threshold on one per-row signal, no model to fit (Song & Mittal 2021).

Song & Mittal, "Systematic Evaluation of Privacy Risks of Machine Learning Models" (USENIX
Security 2021) show that thresholds on simple signals (confidence, entropy, their modified
entropy) match or beat learned attack classifiers, and that a threshold per class beats one global
threshold because classes differ in how confident the model is. Yeom et al. (2018) is the loss
threshold: the signal ``loss``, -CE in float64 from the logits like every other signal (never the
stored float32 loss, which rounds an overfit model's losses together), defined here only.

Each attack is ``{signal}`` (one global threshold) or ``{signal}_per_class`` (one threshold per
label). Thresholds are chosen on the attack's training rows only, to maximise the accuracy of
"member iff signal > threshold". A label with fewer than ``min_rows_per_class`` member or
non-member training rows keeps the global threshold; the fallback is logged and recorded.

Score: the signal minus the row's threshold (its margin), so the score ranks rows across classes
by how far they are past their own class's decision boundary, and ``predicted`` is exactly
``score > 0``. For the global variant this is the signal shifted by a constant.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lottery_mia.attack.base import AttackSettings, FittedAttack
from lottery_mia.membership_signals import Signal, membership_signal
from lottery_mia.outputs_table import logits_matrix

LOGGER = logging.getLogger(__name__)

#: Attack name → the signal it thresholds (higher = more likely member).
METRIC_SIGNALS: Mapping[str, Signal] = {
    "loss_threshold": "loss",
    "confidence": "confidence",
    "entropy": "entropy",
    "modified_entropy": "modified_entropy",
}
PER_CLASS_SUFFIX = "_per_class"
METRIC_ATTACK_NAMES: tuple[str, ...] = (
    *METRIC_SIGNALS,
    *(f"{name}{PER_CLASS_SUFFIX}" for name in METRIC_SIGNALS),
)
#: Default minimum of member and of non-member training rows a label needs for its own threshold.
MIN_ROWS_PER_CLASS = 10


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


def best_signal_threshold(signal: np.ndarray, member: np.ndarray) -> float:
    """The t that maximises training accuracy of "member iff signal > t" (ties: the largest t).

    Thresholding ``signal`` from above is thresholding ``-signal`` from below, so this reuses the
    loss attack's search (midpoints between distinct values, most conservative on ties).
    """
    values = np.asarray(signal, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{int((~np.isfinite(values)).sum())} row(s) have a non-finite signal")
    return -best_loss_threshold(-values, np.asarray(member, dtype=bool))


@dataclass(frozen=True)
class Thresholds:
    """A global threshold and, for labels with enough training rows, one threshold per label."""

    global_threshold: float
    per_label: Mapping[int, float] = field(default_factory=dict)
    fallback_labels: tuple[int, ...] = ()

    def for_labels(self, labels: np.ndarray) -> np.ndarray:
        """The threshold that applies to each row (unknown labels take the global one)."""
        classes = np.asarray(labels, dtype=np.int64)
        result = np.full(classes.shape, self.global_threshold, dtype=np.float64)
        for label, threshold in self.per_label.items():
            result[classes == label] = threshold
        return result


def fit_thresholds(
    signal: np.ndarray,
    member: np.ndarray,
    labels: np.ndarray,
    per_class: bool,
    min_rows_per_class: int = MIN_ROWS_PER_CLASS,
) -> Thresholds:
    """Choose the global threshold and, if ``per_class``, one per label with enough rows."""
    values = np.asarray(signal, dtype=np.float64)
    is_member = np.asarray(member, dtype=bool)
    classes = np.asarray(labels, dtype=np.int64)
    if not values.shape == is_member.shape == classes.shape or values.ndim != 1:
        raise ValueError(
            f"signal, member and labels have shapes {values.shape}, {is_member.shape}, "
            f"{classes.shape}; expected equal 1-D shapes"
        )
    if is_member.all() or not is_member.any():
        raise ValueError(
            f"threshold training rows hold {int(is_member.sum())} members and "
            f"{int((~is_member).sum())} non-members; expected both"
        )
    if min_rows_per_class < 1:
        raise ValueError(f"min_rows_per_class is {min_rows_per_class}, expected >= 1")
    global_threshold = best_signal_threshold(values, is_member)
    if not per_class:
        return Thresholds(global_threshold)
    per_label: dict[int, float] = {}
    fallback: list[int] = []
    for label in np.unique(classes).tolist():
        in_label = classes == label
        n_members = int((in_label & is_member).sum())
        n_non_members = int((in_label & ~is_member).sum())
        if min(n_members, n_non_members) < min_rows_per_class:
            fallback.append(label)
            continue
        per_label[label] = best_signal_threshold(values[in_label], is_member[in_label])
    if fallback:
        LOGGER.warning(
            "labels %s have fewer than %d member or non-member training rows: "
            "they use the global threshold",
            fallback,
            min_rows_per_class,
        )
    return Thresholds(global_threshold, per_label, tuple(fallback))


def _rows_signal(rows: pd.DataFrame, signal: Signal) -> np.ndarray:
    return membership_signal(logits_matrix(rows), rows["label"].to_numpy(), signal)


@dataclass(frozen=True)
class MetricAttack(FittedAttack):
    """A fitted metric attack: score = signal - threshold of the row's label; member iff > 0."""

    name: str
    signal: Signal
    thresholds: Thresholds

    def margin(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """How far each row's signal lies above its label's threshold."""
        return np.asarray(signal, dtype=np.float64) - self.thresholds.for_labels(labels)

    def membership_score(self, rows: pd.DataFrame) -> np.ndarray:
        return self.margin(_rows_signal(rows, self.signal), rows["label"].to_numpy())

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return self.membership_score(rows) > 0


def parse_metric_attack(name: str) -> tuple[Signal, bool]:
    """(signal, per_class) of a metric attack name such as ``entropy_per_class``."""
    if name not in METRIC_ATTACK_NAMES:
        raise ValueError(f"unknown metric attack {name!r}; expected one of {METRIC_ATTACK_NAMES}")
    per_class = name.endswith(PER_CLASS_SUFFIX)
    base = name.removesuffix(PER_CLASS_SUFFIX) if per_class else name
    return METRIC_SIGNALS[base], per_class


def fit_metric_attack(
    name: str, train_rows: pd.DataFrame, min_rows_per_class: int = MIN_ROWS_PER_CLASS
) -> MetricAttack:
    """Choose the thresholds of metric attack ``name`` on the attack's training rows only."""
    signal, per_class = parse_metric_attack(name)
    thresholds = fit_thresholds(
        _rows_signal(train_rows, signal),
        train_rows["member"].to_numpy(dtype=bool),
        train_rows["label"].to_numpy(),
        per_class=per_class,
        min_rows_per_class=min_rows_per_class,
    )
    return MetricAttack(name=name, signal=signal, thresholds=thresholds)


def fit(name: str, train_rows: pd.DataFrame, settings: AttackSettings) -> MetricAttack:
    """The family's entry point (``attack.registry``): ``fit_metric_attack`` with the settings'
    ``min_rows_per_class``."""
    return fit_metric_attack(name, train_rows, settings.min_rows_per_class)
