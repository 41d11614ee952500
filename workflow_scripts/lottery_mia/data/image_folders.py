"""ImageNet-style folder trees (``train/<wnid>/*``, ``val/<wnid>/*``): classes and file lists.

Only the standard library and numpy: config validation (``pool_sizes``) runs at every Snakefile
parse and must not pay for importing torch/torchvision. Decoding lives in ``image_folder_pool``.

The layout is torchvision's ``ImageFolder``: classes are the sorted folder names, and samples are
ordered by class, then by file name, so ``sample_id`` i means the same file on every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
FOLDER_AUGMENTATIONS = ("none", "random_resized_crop")
SPLIT_FOLDERS = {"train": "train", "test": "val"}


def _layout_hint(name: str, root: Path) -> str:
    return (
        f"Expected {root}/train/<wnid>/*.JPEG and {root}/val/<wnid>/*.JPEG (one folder per class, "
        f"the same class folders in both). Fix: set datasets.{name}.root to the folder holding "
        f"train/ and val/."
    )


def list_classes(name: str, root: Path) -> tuple[str, ...]:
    """Sorted class folder names, checked to be the same in train/ and val/."""
    if not root.is_dir():
        raise FileNotFoundError(f"{name}: {root} does not exist. {_layout_hint(name, root)}")
    classes = {}
    for split_folder in SPLIT_FOLDERS.values():
        folder = root / split_folder
        if not folder.is_dir():
            raise FileNotFoundError(f"{name}: {folder} does not exist. {_layout_hint(name, root)}")
        with os.scandir(folder) as scan:
            entries = list(scan)
        subfolders = sorted(e.name for e in entries if e.is_dir())
        loose_images = [e.name for e in entries if e.name.lower().endswith(IMAGE_EXTENSIONS)]
        if loose_images:
            raise ValueError(
                f"{name}: {folder} holds images directly (e.g. {loose_images[0]}); expected them "
                f"in one subfolder per class, {folder}/<wnid>/. For the official validation "
                f"images, move each into its class folder (ImageNet's devkit lists the labels)."
            )
        if not subfolders:
            raise FileNotFoundError(
                f"{name}: {folder} has no class folders. {_layout_hint(name, root)}"
            )
        classes[split_folder] = subfolders
    if classes["train"] != classes["val"]:
        only_train = sorted(set(classes["train"]) - set(classes["val"]))
        only_val = sorted(set(classes["val"]) - set(classes["train"]))
        raise ValueError(
            f"{name}: train/ and val/ under {root} have different class folders: only in train/ "
            f"{only_train[:5]}{' ...' if len(only_train) > 5 else ''} ({len(only_train)}), only in "
            f"val/ {only_val[:5]}{' ...' if len(only_val) > 5 else ''} ({len(only_val)}); "
            f"expected the same classes in both"
        )
    return tuple(classes["train"])


def index_split(
    name: str, root: Path, split: str, classes: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Relative paths (as a numpy bytes array) and int64 labels of one split, in sample order.

    A numpy array rather than a list of str: 1.28 million Python strings would be copied page by
    page into every forked DataLoader worker as their reference counts change.
    """
    folder = root / SPLIT_FOLDERS[split]
    names: list[str] = []
    labels: list[np.ndarray] = []
    for label, class_name in enumerate(classes):
        with os.scandir(folder / class_name) as entries:
            files = sorted(
                e.name for e in entries if e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS)
            )
        if not files:
            raise ValueError(
                f"{name}: {folder / class_name} holds no images (extensions "
                f"{', '.join(IMAGE_EXTENSIONS)}); every class needs at least one"
            )
        names.extend(f"{class_name}/{file}" for file in files)
        labels.append(np.full(len(files), label, dtype=np.int64))
    return np.array([n.encode() for n in names]), np.concatenate(labels)
