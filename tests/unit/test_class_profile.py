"""The long-tail class profile: exact member counts per class, seeded, applied by the registry."""

from __future__ import annotations

import numpy as np
import pytest

from lottery_mia.data import load_dataset, pool_sizes
from lottery_mia.data.class_profile import (
    class_frequencies,
    long_tail_counts,
    long_tail_indices,
)

LONG_TAIL = {"class_profile": "long_tail", "imbalance_ratio": 10, "profile_seed": 0}


def test_cifar10_lt_counts_follow_the_exponential_profile():
    # CIFAR-10-LT with rho = 100 (Cui et al. 2019): 5000, 2997, 1796, 1077, 645, 387, 232, 139,
    # 83, 50 members, each floor(5000 * 100^(-c/9)).
    expected = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert long_tail_counts(5000, 10, 100).tolist() == expected


def test_ratio_one_keeps_every_class_at_n_max():
    assert long_tail_counts(89, 10, 1).tolist() == [89] * 10


def test_long_tail_indices_keep_exactly_the_profile_and_are_seeded():
    labels = np.repeat(np.arange(10), 120)
    np.random.default_rng(0).shuffle(labels)
    kept = long_tail_indices(labels, 10, seed=3)
    expected = np.floor(120 * 10 ** (-np.arange(10) / 9) + 1e-9).astype(int)
    assert class_frequencies(labels[kept], 10).tolist() == expected.tolist()
    assert np.array_equal(kept, np.unique(kept))  # sorted, no row twice
    assert np.array_equal(kept, long_tail_indices(labels, 10, seed=3))
    assert not np.array_equal(kept, long_tail_indices(labels, 10, seed=4))


def test_n_max_is_the_smallest_class_so_every_quota_is_met():
    labels = np.r_[np.zeros(50), np.ones(30), np.full(40, 2)].astype(int)
    kept = long_tail_indices(labels, 4, seed=0)
    assert class_frequencies(labels[kept], 3).tolist() == [30, 15, 7]


def test_labels_must_be_contiguous():
    with pytest.raises(ValueError, match=r"labels 0 \.\. C-1"):
        long_tail_indices(np.array([0, 2, 2]), 10, seed=0)


def test_digits_long_tail_members_follow_the_profile_and_non_members_stay_balanced():
    dataset = load_dataset("digits", LONG_TAIL)
    balanced = load_dataset("digits", {})
    n_max = class_frequencies(balanced.train.labels, 10).min()
    expected = np.floor(n_max * 10 ** (-np.arange(10) / 9) + 1e-9).astype(int)
    assert class_frequencies(dataset.train.labels, 10).tolist() == expected.tolist()
    assert np.array_equal(dataset.test.labels, balanced.test.labels)
    # The gate's count is the subsampled pool's size.
    assert pool_sizes("digits", LONG_TAIL) == (int(expected.sum()), len(balanced.test))


def test_the_subset_pool_serves_the_kept_images():
    import torch

    dataset = load_dataset("digits", LONG_TAIL)
    ids = np.arange(len(dataset.train))[:5]
    ((_, labels),) = dataset.train.batches(ids, 5, torch.device("cpu"), augment=False)
    assert labels.tolist() == dataset.train.labels[:5].tolist()
