"""CIFAR-10 and CIFAR-100 from the python-pickle batches, held in memory (see ``cifar_files``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lottery_mia.data.base import Dataset, DatasetInfo, root_path
from lottery_mia.data.cifar_files import (
    CIFAR_LAYOUTS,
    download_cifar,
    find_cifar_folder,
    read_class_names,
    read_split,
    read_split_labels,
)

# Standard per-channel statistics of the training sets (CIFAR std is the per-pixel std over the
# whole training set, not the often-copied 0.2023/0.1994/0.2010).
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)


def _cifar_folder(name: str, settings: Mapping[str, Any]) -> Path:
    layout = CIFAR_LAYOUTS[name]
    root = root_path(settings)
    try:
        return find_cifar_folder(layout, root)
    except FileNotFoundError:
        if not settings["download"]:
            raise
    download_cifar(layout, root)
    return find_cifar_folder(layout, root)


def load(name: str, settings: Mapping[str, Any]) -> Dataset:
    from lottery_mia.data.tensor_pool import Normaliser, TensorPool

    layout = CIFAR_LAYOUTS[name]
    folder = _cifar_folder(name, settings)
    class_names = read_class_names(layout, folder)
    mean, std = (CIFAR10_MEAN, CIFAR10_STD) if name == "cifar10" else (CIFAR100_MEAN, CIFAR100_STD)
    normaliser = Normaliser(mean, std)
    info = DatasetInfo(name, layout.num_classes, 3, 32, mean, std, class_names)
    pools = []
    for files in (layout.train_files, layout.test_files):
        images, labels = read_split(layout, folder, files)
        pools.append(
            TensorPool(
                images, labels, normaliser, settings["augmentation"], settings["crop_padding"]
            )
        )
    return Dataset(info, *pools)


def pool_sizes(name: str, settings: Mapping[str, Any]) -> tuple[int, int]:
    """Counts the labels of every batch file (which also validates them); with ``download: true``
    and no files yet, the official sizes (the first job that loads the data downloads it)."""
    layout = CIFAR_LAYOUTS[name]
    try:
        folder = find_cifar_folder(layout, root_path(settings))
    except FileNotFoundError:
        if settings["download"]:
            return layout.official_sizes
        raise
    read_class_names(layout, folder)
    train_labels = read_split_labels(layout, folder, layout.train_files)
    test_labels = read_split_labels(layout, folder, layout.test_files)
    return len(train_labels), len(test_labels)
