"""Per-row membership signals computed from a model's logits and the true labels.

Every signal is oriented so that a higher value means "more likely a member" (member = positive
class), and every one is computed in float64 from the logits, never from rounded probabilities:

- ``loss``: -CE(z, y) (Yeom et al. 2018).
- ``confidence``: p_y = softmax(z)_y.
- ``entropy``: -H(softmax(z)) (Song & Mittal 2021, "Systematic Evaluation of Privacy Risks of
  Machine Learning Models").
- ``modified_entropy``: -Mentr with Mentr = -(1 - p_y) log p_y - Σ_{j≠y} p_j log(1 - p_j)
  (Song & Mittal 2021, their "modified prediction entropy").
- ``logit_scaled``: φ = z_y - logsumexp_{j≠y} z_j, which equals log(p_y / (1 - p_y)) without
  overflow or log(0) (Carlini et al. 2022, "Membership Inference Attacks From First Principles":
  the logit scaling that makes the statistic approximately Gaussian).

This module imports no torch and no pandas: it works on plain arrays.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import logsumexp

Signal = Literal["loss", "confidence", "entropy", "modified_entropy", "logit_scaled"]
SIGNAL_NAMES: tuple[Signal, ...] = (
    "loss",
    "confidence",
    "entropy",
    "modified_entropy",
    "logit_scaled",
)


def _checked(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits as a finite (rows, classes) float64 array and labels as valid int64 class indices."""
    values = np.asarray(logits, dtype=np.float64)
    classes = np.asarray(labels)
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValueError(f"logits have shape {values.shape}, expected (rows, classes >= 2)")
    if classes.shape != (values.shape[0],):
        raise ValueError(f"labels have shape {classes.shape}, expected ({values.shape[0]},)")
    if not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"labels have dtype {classes.dtype}, expected integer class indices")
    if classes.size and (classes.min() < 0 or classes.max() >= values.shape[1]):
        raise ValueError(
            f"labels range from {classes.min()} to {classes.max()}; "
            f"expected 0..{values.shape[1] - 1} (one logit per class)"
        )
    if not np.isfinite(values).all():
        bad_rows = int((~np.isfinite(values)).any(axis=1).sum())
        raise ValueError(f"{bad_rows} row(s) have non-finite logits")
    return values, classes.astype(np.int64, copy=False)


def _true_class_mask(n_rows: int, n_classes: int, labels: np.ndarray) -> np.ndarray:
    mask = np.zeros((n_rows, n_classes), dtype=bool)
    mask[np.arange(n_rows), labels] = True
    return mask


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64 (shifted by the row's log-sum-exp, so never overflows)."""
    values = np.asarray(logits, dtype=np.float64)
    return values - logsumexp(values, axis=1, keepdims=True)


def logit_scaled_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """φ = z_y - logsumexp_{j≠y} z_j per row, float64 (LiRA's statistic, log-odds of p_y)."""
    values, classes = _checked(logits, labels)
    true_class = _true_class_mask(*values.shape, classes)
    others = np.where(true_class, -np.inf, values)
    return values[true_class] - logsumexp(others, axis=1)


def _log1m_exp(log_p: np.ndarray) -> np.ndarray:
    """log(1 - exp(a)) for a ≤ 0, accurate at both ends (Mächler 2012), finite for a = 0.

    A probability that rounds to exactly 1 is treated as 1 - tiny, so log(1 - p) stays finite
    (about -708) instead of -inf.
    """
    a = np.minimum(log_p, -np.finfo(np.float64).tiny)
    near_zero = a > -np.log(2.0)
    safe_near = np.where(near_zero, a, -1.0)
    safe_far = np.where(near_zero, -1.0, a)
    return np.where(near_zero, np.log(-np.expm1(safe_near)), np.log1p(-np.exp(safe_far)))


def membership_signal(logits: np.ndarray, labels: np.ndarray, signal: Signal) -> np.ndarray:
    """One float64 per row; higher means more likely a member (see the module docstring)."""
    if signal not in SIGNAL_NAMES:
        raise ValueError(f"unknown signal {signal!r}; expected one of {SIGNAL_NAMES}")
    if signal == "logit_scaled":
        return logit_scaled_confidence(logits, labels)
    values, classes = _checked(logits, labels)
    log_p = log_softmax(values)
    rows = np.arange(values.shape[0])
    log_p_true = log_p[rows, classes]
    if signal == "loss":
        return log_p_true
    if signal == "confidence":
        return np.exp(log_p_true)
    p = np.exp(log_p)
    if signal == "entropy":
        return (p * log_p).sum(axis=1)
    # Modified entropy: the true class contributes (1 - p_y) log p_y, every other class
    # p_j log(1 - p_j); Mentr is the negated sum, and the signal is -Mentr.
    true_class = _true_class_mask(*values.shape, classes)
    other_terms = np.where(true_class, 0.0, p * _log1m_exp(log_p)).sum(axis=1)
    true_term = -np.expm1(log_p_true) * log_p_true
    return true_term + other_terms


def logit_scaled_features(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Learned-attack features: column 0 is φ, then the one-hot label (rows, 1 + classes).

    The label tells a classifier which class's calibration applies; φ alone is the strongest
    single per-row statistic of the target's confidence (Carlini et al. 2022).
    """
    values, classes = _checked(logits, labels)
    one_hot = _true_class_mask(*values.shape, classes).astype(np.float64)
    return np.column_stack([logit_scaled_confidence(values, classes), one_hot])
