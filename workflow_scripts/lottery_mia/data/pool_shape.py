"""What the workflow knows about a dataset before reading it: its official pools and image shape.

Standard library only: ``resources`` sizes jobs from it (runtime, memory) and ``make plan`` uses
the official pool sizes in place of counted ones, both while the Snakefile is parsed. Each
dataset's shape sits in its registry entry (``data._REGISTRY``), so a new dataset brings its own
and ``resources`` keeps no table of datasets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PoolShape:
    """Official pool sizes and image shape of a dataset (members, non-members), and how it is held."""

    train: int
    test: int
    classes: int
    pixels: int  # channels x height x width of one stored image
    channels: int = 3
    #: Images are JPEG files decoded by DataLoader workers (memory per worker, rate capped by
    #: decoding), instead of uint8 splits held in memory.
    decoded_by_workers: bool = False
    #: The uint8 splits are read batch by batch into one preallocated array, the training split
    #: in this many batches (``data.downsampled_imagenet``); None: loaded whole, then copied.
    preallocated_train_batches: int | None = None

    @property
    def side(self) -> int:
        """Height (= width) of one image in pixels."""
        return math.isqrt(self.pixels // self.channels)
