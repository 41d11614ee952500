"""scikit-learn's bundled 8x8 digits: one seeded, stratified train/test split (no download)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from lottery_mia.data.base import Dataset, DatasetInfo, SamplePool


@functools.cache
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 (N, 1, 8, 8) images (0..16 scaled to 0..255) and int64 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)[:, None, :, :]
    images.setflags(write=False)
    labels = digits.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def digits_split(test_fraction: float, split_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into ``digits_arrays()``: one stratified, seeded split, each sorted.

    Sorting keeps the original sample order inside each pool, so sample ids read naturally.
    """
    from sklearn.model_selection import train_test_split

    _, labels = digits_arrays()
    try:
        train, test = train_test_split(
            np.arange(len(labels)),
            test_size=test_fraction,
            random_state=split_seed,
            stratify=labels,
        )
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
