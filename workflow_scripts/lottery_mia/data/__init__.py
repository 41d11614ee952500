"""Datasets as two sample pools: ``train`` (members) and ``test`` (non-members), behind a registry.

``load_dataset(name, settings)`` takes the config entry ``datasets.<name>``, already checked by the
config gate; missing keys take the schema's defaults (``rules/schemas/config.schema.yaml`` describes
every key). One module per dataset provides ``load`` and ``pool_sizes``; its registry entry
(``_REGISTRY``) adds its official pools and image shape (``PoolShape``), from which ``resources``
sizes its jobs, so a new dataset is its module and one entry here (and its schema entry):

``digits``    scikit-learn's 8x8 handwritten digits, one stratified seeded split (``digits.py``).
``cifar10``, ``cifar100``  the "python version" pickle batches, read by ``cifar_files.py``
              and held in memory (``tensor_pool.py``).
``imagenet32``, ``imagenet64``  Downsampled ImageNet (Chrabaszcz et al. 2017): pickled or npz
              batches, read by ``downsampled_imagenet.py`` and held in memory (``tensor_pool.py``).
``imagenet``  ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG``, listed without torch
              (``image_folders.py``) and decoded by DataLoader workers (``image_folder_pool.py``).

Mean and std: digits' from its train pool (the non-members must not inform the preprocessing of
the model they attack); the standard published values for CIFAR and ImageNet (ImageNet's also for
its downsampled variants).
``class_profile: long_tail`` keeps a long-tailed subset of the members (``class_profile.py``)
before anything else uses the train pool: ``load_dataset`` returns that subset, addressed
0 .. n-1, and ``pool_sizes`` counts it, so the config gate checks sample counts against it.
Relative roots are resolved against the working directory (Snakemake's ``--directory``).
Missing or broken data raise ``FileNotFoundError``/``ValueError`` with one message naming the
dataset, the path, the files expected and the fix; the config gate calls ``pool_sizes`` so that
this happens before any job starts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lottery_mia.config import PIPELINE_DATASET_KEYS, schema_defaults
from lottery_mia.data import cifar, digits, downsampled_imagenet, imagenet
from lottery_mia.data.base import Dataset, DatasetInfo, SamplePool
from lottery_mia.data.cifar import CIFAR10_MEAN, CIFAR10_STD, CIFAR100_MEAN, CIFAR100_STD
from lottery_mia.data.class_profile import profile_indices
from lottery_mia.data.digits import digits_arrays, digits_split
from lottery_mia.data.imagenet import IMAGENET_MEAN, IMAGENET_STD
from lottery_mia.data.pool_shape import PoolShape

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "DATASET_NAMES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "Dataset",
    "DatasetInfo",
    "PoolShape",
    "SamplePool",
    "digits_arrays",
    "digits_split",
    "load_dataset",
    "pool_shape",
    "pool_shapes",
    "pool_sizes",
    "with_defaults",
]


@dataclass(frozen=True)
class _Entry:
    """How to load one dataset, how to count its pools without loading it, and its official
    pools and image shape (``PoolShape``: what job sizing and planning read before any data)."""

    load: Callable[[Mapping[str, Any]], Dataset]
    pool_sizes: Callable[[Mapping[str, Any]], tuple[int, int]]
    shape: PoolShape


#: Downsampled ImageNet's training split comes in 10 batches (``downsampled_imagenet``).
_DOWNSAMPLED_TRAIN_BATCHES = 10
_REGISTRY: dict[str, _Entry] = {
    "digits": _Entry(
        digits.load, digits.pool_sizes, PoolShape(898, 899, 10, 1 * 8 * 8, channels=1)
    ),
    "cifar10": _Entry(
        functools.partial(cifar.load, "cifar10"),
        functools.partial(cifar.pool_sizes, "cifar10"),
        PoolShape(50_000, 10_000, 10, 3 * 32 * 32),
    ),
    "cifar100": _Entry(
        functools.partial(cifar.load, "cifar100"),
        functools.partial(cifar.pool_sizes, "cifar100"),
        PoolShape(50_000, 10_000, 100, 3 * 32 * 32),
    ),
    **{
        name: _Entry(
            functools.partial(downsampled_imagenet.load, name),
            functools.partial(downsampled_imagenet.pool_sizes, name),
            PoolShape(
                1_281_167,
                50_000,
                1_000,
                3 * layout.side * layout.side,
                preallocated_train_batches=_DOWNSAMPLED_TRAIN_BATCHES,
            ),
        )
        for name, layout in downsampled_imagenet.LAYOUTS.items()
    },
    "imagenet": _Entry(
        imagenet.load,
        imagenet.pool_sizes,
        PoolShape(1_281_167, 50_000, 1_000, 3 * 224 * 224, decoded_by_workers=True),
    ),
}
#: The datasets the pipeline can load (the schema's ``datasets`` keys, checked by a test).
DATASET_NAMES = tuple(_REGISTRY)


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASET_NAMES)}")
    return _REGISTRY[name]


def pool_shape(name: str) -> PoolShape:
    """Official pool sizes and image shape of ``name``, without reading any data."""
    return _entry(name).shape


def pool_shapes() -> dict[str, PoolShape]:
    """Every dataset's ``pool_shape``, in the registry's order."""
    return {name: entry.shape for name, entry in _REGISTRY.items()}


def with_defaults(name: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """``settings`` completed with the schema's defaults for ``datasets.<name>``.

    Settings are not checked here: the config gate (``config.validate_config``) did that once.
    """
    _entry(name)
    defaults = schema_defaults(f"datasets.{name}")
    resolved = {**defaults, **(settings or {})}
    return {key: value for key, value in resolved.items() if key not in PIPELINE_DATASET_KEYS}


def load_dataset(name: str, settings: Mapping[str, Any] | None = None) -> Dataset:
    """Load dataset ``name`` with its config entry ``settings`` (see the module docstring)."""
    resolved = with_defaults(name, settings)
    dataset = _entry(name).load(resolved)
    kept = profile_indices(dataset.train.labels, resolved)
    if kept is None:
        return dataset
    from lottery_mia.data.reference_pool import MixedPool  # imports torch: loaders only

    return Dataset(dataset.info, MixedPool([(dataset.train, kept)]), dataset.test)


def pool_sizes(name: str, settings: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """(train, test) pool sizes without decoding images, and with the data checked to be there.

    A long-tail profile needs the train labels: the dataset is loaded (its labels only are read;
    the count is cached by ``pool_cache`` for datasets on disk)."""
    resolved = with_defaults(name, settings)
    sizes = _entry(name).pool_sizes(resolved)
    if resolved.get("class_profile", "balanced") == "balanced":
        return sizes
    kept = profile_indices(_entry(name).load(resolved).train.labels, resolved)
    return len(kept), sizes[1]
