"""What every dataset provides: its ``DatasetInfo`` and two sample pools (members, non-members)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

# torch (several seconds to import) is imported only by the loaders: every Snakefile parse imports
# this package for ``pool_sizes``, and must stay fast.
if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about its input and output."""

    name: str
    num_classes: int
    in_channels: int
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    class_names: tuple[str, ...] = ()  # label i is class_names[i]; for tables and per-class plots


@runtime_checkable
class SamplePool(Protocol):
    """One split: ``train`` (members) or ``test`` (non-members); sample id = index in the pool."""

    labels: np.ndarray  # int64, one per sample, available without decoding any image

    def __len__(self) -> int: ...

    def batches(
        self,
        indices: np.ndarray,
        batch_size: int,
        device: torch.device,
        augment: bool,
        generator: torch.Generator | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (float32 normalised NCHW images, int64 labels) on ``device``, in ``indices`` order.

        ``augment=True`` applies the dataset's configured training augmentation, drawn from
        ``generator`` (torch's global generator when ``None``); ``augment=False`` is deterministic.
        """
        ...


@dataclass(frozen=True)
class Dataset:
    """A dataset as the study uses it: members come from ``train``, non-members from ``test``."""

    info: DatasetInfo
    train: SamplePool
    test: SamplePool


def root_path(settings: Mapping[str, Any]) -> Path:
    """The dataset's ``root``, resolved against the working directory (Snakemake's ``--directory``)."""
    return Path(settings["root"]).expanduser().resolve()
