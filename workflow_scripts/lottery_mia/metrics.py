"""Membership-inference metrics: the paper's accuracy/precision/recall plus today's ROC-based ones.

Member is the positive class and a higher score means "more likely member". Besides the paper's
threshold metrics we report AUC, the true-positive rate at low false-positive rates and the
membership advantage, because an attack can look strong on accuracy while identifying no
individual member with confidence (Carlini et al. 2022, "Membership Inference Attacks From First
Principles").

TPR at FPR ``x`` follows Carlini et al.: the largest TPR of any ROC point whose FPR is at most
``x``. No interpolation between points is done, so with few non-members the low-FPR values are
conservative (with 200 non-members, FPR <= 0.1% means zero false positives).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score, roc_curve

METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "auc",
    "tpr_at_1pct_fpr",
    "tpr_at_0.1pct_fpr",
    "advantage",
    "n_eval",
)


def _as_member_array(member: np.ndarray) -> np.ndarray:
    """Return ``member`` as a 1-D bool array, refusing values other than 0/1/True/False."""
    values = np.asarray(member)
    if values.ndim != 1:
        raise ValueError(f"member must be 1-D, found shape {values.shape}")
    if values.dtype != np.bool_:
        if not np.isin(values, (0, 1)).all():
            found = sorted(set(np.unique(values).tolist()) - {0, 1})[:5]
            raise ValueError(f"member must be boolean (or 0/1); found values such as {found}")
        values = values.astype(bool)
    if values.all() or not values.any():
        raise ValueError(
            f"member has {int(values.sum())} members and {int((~values).sum())} non-members; "
            "expected both classes to be present"
        )
    return values


def _as_score_array(score: np.ndarray, n_rows: int) -> np.ndarray:
    """Return ``score`` as a finite 1-D float array of length ``n_rows``."""
    values = np.asarray(score, dtype=np.float64)
    if values.shape != (n_rows,):
        raise ValueError(f"score has shape {values.shape}, expected ({n_rows},) like member")
    if not np.isfinite(values).all():
        raise ValueError(f"score has {int((~np.isfinite(values)).sum())} non-finite value(s)")
    return values


def tpr_at_fpr(member: np.ndarray, score: np.ndarray, max_fpr: float) -> float:
    """Largest true-positive rate on the ROC curve among points with FPR <= ``max_fpr``.

    Every ROC point is kept (``drop_intermediate=False``): dropping collinear points, as
    scikit-learn does by default, can remove the very point that satisfies the FPR bound.
    """
    if not 0.0 <= max_fpr <= 1.0:
        raise ValueError(f"max_fpr is {max_fpr}, expected a rate in [0, 1]")
    labels = _as_member_array(member)
    values = _as_score_array(score, labels.size)
    fpr, tpr, _ = roc_curve(labels, values, drop_intermediate=False)
    return float(tpr[fpr <= max_fpr].max())


def membership_metrics(
    member: np.ndarray, score: np.ndarray, predicted: np.ndarray
) -> dict[str, float]:
    """All attack metrics for one evaluation set, keyed by ``METRIC_NAMES``.

    ``score`` drives the threshold-free metrics (AUC, TPR at FPR, advantage); ``predicted`` is
    the attack's hard decision, used for accuracy, precision and recall as in the paper.
    Advantage is the maximum of TPR - FPR over all thresholds (Yeom et al. 2018).
    """
    labels = _as_member_array(member)
    values = _as_score_array(score, labels.size)
    decisions = np.asarray(predicted)
    if decisions.shape != labels.shape:
        raise ValueError(
            f"predicted has shape {decisions.shape}, expected {labels.shape} like member"
        )
    if decisions.dtype != np.bool_:
        if not np.isin(decisions, (0, 1)).all():
            raise ValueError("predicted must be boolean (or 0/1), true meaning 'member'")
        decisions = decisions.astype(bool)
    fpr, tpr, _ = roc_curve(labels, values, drop_intermediate=False)
    return {
        "accuracy": float(accuracy_score(labels, decisions)),
        "precision": float(precision_score(labels, decisions, zero_division=0)),
        "recall": float(recall_score(labels, decisions, zero_division=0)),
        "auc": float(roc_auc_score(labels, values)),
        "tpr_at_1pct_fpr": float(tpr[fpr <= 0.01].max()),
        "tpr_at_0.1pct_fpr": float(tpr[fpr <= 0.001].max()),
        "advantage": float((tpr - fpr).max()),
        "n_eval": float(labels.size),
    }
