"""A reference model's training data: its keep-half of the population, mixed from both pools."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lottery_mia.data.base import Dataset, DatasetInfo
from lottery_mia.data.reference_pool import MixedPool, reference_dataset
from lottery_mia.data.tensor_pool import Normaliser, TensorPool
from lottery_mia.reference_keep import keep_column

CPU = torch.device("cpu")


def _pool(first_value: int, size: int) -> TensorPool:
    """Images whose every pixel is the row's tag (first_value + id), labels = tag % 3."""
    tags = np.arange(first_value, first_value + size)
    images = np.broadcast_to(tags[:, None, None, None], (size, 1, 2, 2)).astype(np.uint8)
    return TensorPool(images, tags % 3, Normaliser((0.0,), (1.0,)), "none", 0)


def _tags(pool: MixedPool, indices: np.ndarray, batch_size: int) -> tuple[list[int], list[int]]:
    tags, labels = [], []
    for images, batch_labels in pool.batches(indices, batch_size, CPU, augment=False):
        tags += (images[:, 0, 0, 0] * 255).round().int().tolist()
        labels += batch_labels.tolist()
    return tags, labels


def test_mixed_pool_returns_rows_of_both_pools_in_the_requested_order() -> None:
    train, test = _pool(0, 20), _pool(100, 15)
    mixed = MixedPool([(train, np.array([3, 5, 7])), (test, np.array([0, 14]))])
    assert len(mixed) == 5
    np.testing.assert_array_equal(mixed.labels, np.array([3, 5, 7, 100, 114]) % 3)
    tags, labels = _tags(mixed, np.array([4, 0, 3, 2, 1]), batch_size=2)
    assert tags == [114, 3, 100, 7, 5]
    assert labels == [tag % 3 for tag in tags]


def test_mixed_pool_refuses_bad_ids() -> None:
    with pytest.raises(ValueError, match="indices range"):
        MixedPool([(_pool(0, 5), np.array([5]))])
    mixed = MixedPool([(_pool(0, 5), np.array([1, 2]))])
    with pytest.raises(ValueError, match="indices range"):
        next(mixed.batches(np.array([2]), 1, CPU, augment=False))


def test_reference_trains_on_its_keep_half_plus_unexported_train_rows() -> None:
    train, test = _pool(0, 30), _pool(100, 12)
    dataset = Dataset(DatasetInfo("toy", 3, 1, 2, (0.0,), (1.0,)), train, test)
    train_ids = np.array([4, 9, 0, 17, 22, 5, 11, 28, 2, 13, 19, 7])  # 12 exported of 30
    test_ids = np.arange(12)[::-1]
    keep = keep_column(24, reference=3, seed=0)
    reference = reference_dataset(dataset, train_ids, test_ids, keep)
    population = np.r_[train_ids, 100 + test_ids]
    inside = set(_tags(reference.train, np.arange(len(reference.train)), 7)[0])
    outside = set(_tags(reference.test, np.arange(len(reference.test)), 7)[0])
    unexported = set(range(30)) - set(train_ids.tolist())
    assert inside == set(population[keep].tolist()) | unexported
    assert outside == set(population[~keep].tolist())
    assert len(reference.train) == len(train)  # as many training rows as the target has


def test_a_keep_column_of_the_wrong_length_is_refused() -> None:
    dataset = Dataset(DatasetInfo("toy", 3, 1, 2, (0.0,), (1.0,)), _pool(0, 5), _pool(100, 5))
    with pytest.raises(ValueError, match="one per exported row"):
        reference_dataset(dataset, np.arange(4), np.arange(4), np.ones(7, bool))
