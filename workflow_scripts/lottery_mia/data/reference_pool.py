"""A reference model's training data: its keep-half of the population, mixed from both pools.

The population is the exported rows, in the outputs' order: the selected train-pool rows, then the
selected test-pool rows. Reference k trains on the population rows of its keep column (members
and non-members of the target alike) plus every train-pool row that is not exported: those are in
the target's training set too, are never scored, and keep the reference's training set exactly
as large as the target's (len(train pool) rows, because the population holds 2 x per_pool rows of
which the keep column takes per_pool). Same size, same schedule, same number of SGD steps: the
reference is made the way the target was. On digits every train-pool row is exported, so the
reference trains on its keep-half alone. Its "test" pool, for train.json's accuracy, is its OUT
half of the population.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from lottery_mia.data.base import Dataset, SamplePool
from lottery_mia.data.tensor_pool import canonical_device, check_indices


class MixedPool:
    """Rows drawn from several pools, addressed 0..n-1 in the order of ``parts``.

    Each batch asks every underlying pool for its share of the batch in one call and puts the
    rows back in the requested order, so shuffling mixes rows of all pools in every batch.
    """

    def __init__(self, parts: Sequence[tuple[SamplePool, np.ndarray]]) -> None:
        if not parts:
            raise ValueError("a mixed pool needs at least one (pool, ids) part")
        self._pools = [pool for pool, _ in parts]
        ids = [check_indices(np.asarray(part_ids), len(pool), 1) for pool, part_ids in parts]
        self._part = np.concatenate([np.full(len(part_ids), i) for i, part_ids in enumerate(ids)])
        self._local = np.concatenate(ids).astype(np.int64)
        self.labels = np.concatenate(
            [pool.labels[part_ids] for pool, part_ids in zip(self._pools, ids, strict=True)]
        )
        self.labels.setflags(write=False)

    def __len__(self) -> int:
        return len(self.labels)

    def batches(
        self,
        indices: np.ndarray,
        batch_size: int,
        device: torch.device,
        augment: bool,
        generator: torch.Generator | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (normalised float32 images, int64 labels) on ``device``, in ``indices`` order."""
        indices = check_indices(indices, len(self), batch_size)
        device = canonical_device(device)
        for start in range(0, len(indices), batch_size):
            yield self._batch(indices[start : start + batch_size], device, augment, generator)

    def _batch(
        self,
        chunk: np.ndarray,
        device: torch.device,
        augment: bool,
        generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        parts, local = self._part[chunk], self._local[chunk]
        images: torch.Tensor | None = None
        labels = torch.empty(len(chunk), dtype=torch.int64, device=device)
        for i, pool in enumerate(self._pools):
            where = np.flatnonzero(parts == i)
            if where.size == 0:
                continue
            (pieces,) = list(pool.batches(local[where], where.size, device, augment, generator))
            part_images, part_labels = pieces
            if images is None:
                images = part_images.new_empty((len(chunk), *part_images.shape[1:]))
            positions = torch.from_numpy(where).to(device)
            images[positions] = part_images
            labels[positions] = part_labels
        assert images is not None  # chunk is non-empty, so some part filled it
        return images, labels


def reference_dataset(
    dataset: Dataset, train_ids: np.ndarray, test_ids: np.ndarray, keep: np.ndarray
) -> Dataset:
    """Reference training data: IN rows of the population plus unexported train-pool rows.

    ``train_ids`` and ``test_ids`` are the exported ids of each pool (the selection), and
    ``keep`` the reference's bool column over the population (train ids first, then test ids).
    """
    train_ids, test_ids = np.asarray(train_ids), np.asarray(test_ids)
    keep = np.asarray(keep)
    n_train = len(train_ids)
    if keep.dtype != np.bool_ or keep.shape != (n_train + len(test_ids),):
        raise ValueError(
            f"keep column has shape {keep.shape} and dtype {keep.dtype}; expected bool of shape "
            f"({n_train + len(test_ids)},), one per exported row"
        )
    in_train, in_test = keep[:n_train], keep[n_train:]
    unexported = np.setdiff1d(np.arange(len(dataset.train)), train_ids)
    inside = MixedPool(
        [
            (dataset.train, np.concatenate([train_ids[in_train], unexported])),
            (dataset.test, test_ids[in_test]),
        ]
    )
    outside = MixedPool([(dataset.train, train_ids[~in_train]), (dataset.test, test_ids[~in_test])])
    return Dataset(dataset.info, inside, outside)
