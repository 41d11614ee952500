"""ImageNet in the ImageFolder layout: listed without torch, decoded by ``image_folder_pool``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lottery_mia.data.base import Dataset, DatasetInfo, root_path
from lottery_mia.data.image_folders import SPLIT_FOLDERS, index_split
from lottery_mia.data.image_folders import list_classes as list_image_folder_classes

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def load(settings: Mapping[str, Any]) -> Dataset:
    from lottery_mia.data.image_folder_pool import ImageFolderPool
    from lottery_mia.data.tensor_pool import Normaliser

    root = root_path(settings)
    classes = list_image_folder_classes("imagenet", root)
    normaliser = Normaliser(IMAGENET_MEAN, IMAGENET_STD)
    info = DatasetInfo(
        "imagenet", len(classes), 3, settings["image_size"], IMAGENET_MEAN, IMAGENET_STD, classes
    )
    pools = []
    for split in ("train", "test"):
        paths, labels = index_split("imagenet", root, split, classes)
        folder = root / SPLIT_FOLDERS[split]
        pools.append(
            ImageFolderPool(
                "imagenet",
                folder,
                paths,
                labels,
                normaliser,
                settings["augmentation"],
                settings["image_size"],
                settings["workers"],
            )
        )
    return Dataset(info, *pools)


def pool_sizes(settings: Mapping[str, Any]) -> tuple[int, int]:
    """Counts the image files per class folder, without decoding any."""
    root = root_path(settings)
    classes = list_image_folder_classes("imagenet", root)
    train_paths, _ = index_split("imagenet", root, "train", classes)
    test_paths, _ = index_split("imagenet", root, "test", classes)
    return len(train_paths), len(test_paths)
