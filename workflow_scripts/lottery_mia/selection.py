"""Which samples every model of a dataset is queried on.

The selection depends only on the dataset's pool sizes and the selection settings, never on the
model, so every model of a dataset is queried on the same rows in the same order. It does not depend
on the sample counts either: adding a sample count must not re-export every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleSelection:
    """Which samples of each pool are exported, and which of them form the attack evaluation set.

    Each pool contributes ``per_pool`` samples (a seeded permutation); the first ``eval_size / 2`` of
    each are the fixed evaluation rows, the rest are attack-training rows in file order.
    """

    train_ids: np.ndarray
    test_ids: np.ndarray
    eval_per_pool: int

    @property
    def per_pool(self) -> int:
        return len(self.train_ids)


def samples_per_pool(train_size: int, test_size: int, max_per_pool: int | None) -> int:
    """Members and non-members exported per pool: balanced, capped by the smaller pool."""
    limit = min(train_size, test_size)
    return limit if max_per_pool is None else min(limit, max_per_pool)


def max_sample_count(per_pool: int, eval_size: int) -> int:
    """Largest balanced attack-training sample count the exported rows allow."""
    return 2 * (per_pool - eval_size // 2)


def select_samples(
    train_size: int, test_size: int, eval_size: int, max_per_pool: int | None, seed: int
) -> SampleSelection:
    """Seeded, balanced selection of member (train pool) and non-member (test pool) samples."""
    if eval_size <= 0 or eval_size % 2:
        raise ValueError(f"attack.eval_size must be a positive even number, got {eval_size}")
    per_pool = samples_per_pool(train_size, test_size, max_per_pool)
    if eval_size // 2 >= per_pool:
        raise ValueError(
            f"attack.eval_size {eval_size} needs {eval_size // 2} samples per pool plus training "
            f"rows, but only {per_pool} per pool are exported"
        )
    train_ids, test_ids = exported_ids(train_size, test_size, max_per_pool, seed)
    return SampleSelection(train_ids=train_ids, test_ids=test_ids, eval_per_pool=eval_size // 2)


def exported_ids(
    train_size: int, test_size: int, max_per_pool: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The exported ids of each pool, in export order; independent of the evaluation size, so
    reference models (trained on halves of these rows) do not depend on ``attack.eval_size``."""
    per_pool = samples_per_pool(train_size, test_size, max_per_pool)
    rng = np.random.default_rng(seed)
    return rng.permutation(train_size)[:per_pool], rng.permutation(test_size)[:per_pool]
