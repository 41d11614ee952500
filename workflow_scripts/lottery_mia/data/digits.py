"""scikit-learn's bundled 8x8 digits: one seeded, stratified train/test split (no download).

Every job on digits (and every Snakefile parse, through the config gate's pool count) loads these
arrays and the split, so neither imports scikit-learn: ``import sklearn`` pulls in scipy.stats and
pandas, 1.3 s of CPU, more than half of ``import torch``. The file is read where scikit-learn
installs it, as ``sklearn.datasets.load_digits`` reads it, and the split is scikit-learn's
``train_test_split(..., stratify=labels)`` algorithm, copied (``stratified_split``, BSD-3-Clause):
tests/unit/test_data.py checks both against scikit-learn itself, so reruns give the same pools.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lottery_mia.data.base import Dataset, DatasetInfo, SamplePool

#: Where the digits live inside the scikit-learn package (``sklearn.datasets.load_digits``).
DIGITS_FILE = Path("datasets", "data", "digits.csv.gz")


def bundled_digits_file() -> Path:
    """scikit-learn's ``digits.csv.gz``, located without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("datasets.digits: scikit-learn, which ships the digits, is missing")
    return Path(next(iter(spec.submodule_search_locations))) / DIGITS_FILE


@functools.cache
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 (N, 1, 8, 8) images (0..16 scaled to 0..255) and int64 labels."""
    with gzip.open(bundled_digits_file(), "rt", encoding="utf-8") as text:
        data = np.loadtxt(text, delimiter=",")
    images = np.rint(data[:, :-1].reshape(-1, 8, 8) * (255 / 16)).astype(np.uint8)[:, None, :, :]
    images.setflags(write=False)
    labels = data[:, -1].astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState):
    """scikit-learn's ``utils.extmath._approximate_mode``: per-class draws that sum to
    ``n_draws``, proportional to the class counts, ties broken by ``rng``."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``train_test_split(np.arange(n), test_size=test_fraction, random_state=seed,
    stratify=labels)``: scikit-learn's ``StratifiedShuffleSplit`` with one split, step by step
    (the same draws from the same ``RandomState``, so the same indices in the same order)."""
    n_test = math.ceil(test_fraction * len(labels))
    n_train = len(labels) - n_test
    _, class_of_row, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    if min(n_train, n_test) < len(class_counts) or class_counts.min() < 2:
        raise ValueError(f"{n_train} train and {n_test} test rows for {len(class_counts)} classes")
    class_rows = np.split(np.argsort(class_of_row, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    train_per_class = _approximate_mode(class_counts, n_train, rng)
    test_per_class = _approximate_mode(class_counts - train_per_class, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for rows, count, n_class_train, n_class_test in zip(
        class_rows, class_counts, train_per_class, test_per_class, strict=True
    ):
        shuffled = rows.take(rng.permutation(count), mode="clip")
        train.extend(shuffled[:n_class_train])
        test.extend(shuffled[n_class_train : n_class_train + n_class_test])
    return rng.permutation(train), rng.permutation(test)


def digits_split(test_fraction: float, split_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into ``digits_arrays()``: one stratified, seeded split, each sorted.

    Sorting keeps the original sample order inside each pool, so sample ids read naturally.
    """
    _, labels = digits_arrays()
    try:
        train, test = stratified_split(labels, test_fraction, split_seed)
    except ValueError as err:
        raise ValueError(
            f"datasets.digits.test_fraction = {test_fraction} leaves a pool with fewer samples "
            f"than classes ({err}); choose a fraction nearer 0.5"
        ) from err
    return np.sort(train), np.sort(test)


def load(settings: Mapping[str, Any]) -> Dataset:
    from lottery_mia.data.tensor_pool import Normaliser, TensorPool

    images, labels = digits_arrays()
    train, test = digits_split(settings["test_fraction"], settings["split_seed"])
    train_pixels = images[train].astype(np.float64) / 255
    mean, std = (float(train_pixels.mean()),), (float(train_pixels.std()),)
    normaliser = Normaliser(mean, std)
    info = DatasetInfo("digits", 10, 1, 8, mean, std, tuple(str(d) for d in range(10)))

    def pool(selected: np.ndarray) -> SamplePool:
        return TensorPool(
            images[selected],
            labels[selected],
            normaliser,
            settings["augmentation"],
            settings["crop_padding"],
        )

    return Dataset(info, pool(train), pool(test))


def pool_sizes(settings: Mapping[str, Any]) -> tuple[int, int]:
    train, test = digits_split(settings["test_fraction"], settings["split_seed"])
    return len(train), len(test)
