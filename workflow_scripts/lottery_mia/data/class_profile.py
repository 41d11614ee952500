"""Class density of the members: ``datasets.<name>.class_profile``.

``balanced`` (the default) keeps the train pool as it is. ``long_tail`` keeps, of class c (labels
0 .. C-1 in order), exactly

    n_c = floor(n_max * rho ** (-c / (C - 1)))

members, the exponential profile of CIFAR-10-LT (Cui et al. 2019), with ``rho`` =
``imbalance_ratio`` and n_max the smallest class of the balanced train pool (so that every class
can supply its quota exactly). floor, as Cui et al.'s ``int(...)``: class C-1 gets
floor(n_max / rho). The members of each class are drawn without replacement with
``profile_seed``, before anything else reads the pool (the digits' normalisation excepted, which
reads the whole train pool, never a non-member). Non-members (the test pool) stay balanced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

PROFILES = ("balanced", "long_tail")


def long_tail_counts(n_max: int, n_classes: int, imbalance_ratio: float) -> np.ndarray:
    """Members kept per class: floor(n_max * rho^(-c/(C-1))), c = 0 .. C-1."""
    if n_classes < 2:
        raise ValueError(f"{n_classes} class(es): a long-tail profile needs at least two")
    if imbalance_ratio < 1:
        raise ValueError(f"imbalance_ratio is {imbalance_ratio}, expected rho >= 1")
    exponents = -np.arange(n_classes) / (n_classes - 1)
    # The small epsilon keeps an exact product (rho = 1: n_max * 1.0) from flooring one below.
    return np.floor(n_max * float(imbalance_ratio) ** exponents + 1e-9).astype(np.int64)


def _class_positions(labels: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    classes = np.unique(labels)
    if not np.array_equal(classes, np.arange(classes.size)):
        raise ValueError(f"labels are {classes.tolist()}; a class profile needs labels 0 .. C-1")
    return classes, [np.flatnonzero(labels == c) for c in classes]


def long_tail_indices(labels: np.ndarray, imbalance_ratio: float, seed: int) -> np.ndarray:
    """Sorted train-pool indices that follow the long-tail profile exactly."""
    labels = np.asarray(labels, dtype=np.int64)
    classes, positions = _class_positions(labels)
    n_max = min(len(p) for p in positions)
    counts = long_tail_counts(n_max, classes.size, imbalance_ratio)
    rng = np.random.default_rng(seed)
    kept = [rng.choice(p, size=n, replace=False) for p, n in zip(positions, counts, strict=True)]
    return np.sort(np.concatenate(kept))


def profile_indices(labels: np.ndarray, settings: Mapping[str, Any]) -> np.ndarray | None:
    """The train-pool rows kept under the dataset's ``class_profile``; None keeps all of them."""
    profile = settings.get("class_profile", "balanced")
    if profile == "balanced":
        return None
    if profile != "long_tail":
        raise ValueError(f"class_profile is {profile!r}, expected one of {', '.join(PROFILES)}")
    return long_tail_indices(labels, settings["imbalance_ratio"], settings["profile_seed"])


def class_frequencies(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Training rows per class label, 0 .. n_classes-1."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes)
