"""ImageNet-style folders (``train/<wnid>/*.JPEG``, ``val/<wnid>/*.JPEG``) through a DataLoader.

Classes and the sample order come from ``image_folders`` (torchvision's ``ImageFolder`` layout,
listed without decoding any image or importing torch, which keeps config validation cheap).

Decoding and resizing happen in DataLoader workers and return uint8 tensors (four times less to
copy than float32); the copy to the device is pinned and non-blocking, and normalisation runs on the
device. Training augmentation is drawn per sample from a seed taken from the caller's generator, so
a seeded epoch is the same whatever the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from lottery_mia.data.image_folders import FOLDER_AUGMENTATIONS
from lottery_mia.data.tensor_pool import Normaliser, canonical_device, check_indices

# Inception-style random-resized-crop ranges, as in the standard ImageNet recipe.
CROP_SCALE = (0.08, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


def eval_resize_size(image_size: int) -> int:
    """Shorter side before the centre crop: 256 for 224, the standard ratio at any size."""
    return round(image_size * 256 / 224)


def random_resized_crop_box(
    height: int, width: int, rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """(top, left, box height, box width) of an Inception-style random crop.

    Tries ten random boxes of 8-100% of the area and aspect ratio 3/4-4/3 (log-uniform); if none
    fits, falls back to the largest centred box within the ratio range.
    """
    area = height * width
    log_ratio = (math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1]))
    for _ in range(10):
        target_area = area * rng.uniform(*CROP_SCALE)
        aspect = math.exp(rng.uniform(*log_ratio))
        box_width = round(math.sqrt(target_area * aspect))
        box_height = round(math.sqrt(target_area / aspect))
        if 0 < box_width <= width and 0 < box_height <= height:
            top = int(rng.integers(0, height - box_height + 1))
            left = int(rng.integers(0, width - box_width + 1))
            return top, left, box_height, box_width
    ratio = width / height
    if ratio < CROP_RATIO[0]:
        box_width, box_height = width, round(width / CROP_RATIO[0])
    elif ratio > CROP_RATIO[1]:
        box_height, box_width = height, round(height * CROP_RATIO[1])
    else:
        box_height, box_width = height, width
    return (height - box_height) // 2, (width - box_width) // 2, box_height, box_width


class _DecodedImages(torch.utils.data.Dataset):
    """Item i: the uint8 CHW image of ``indices[i]`` (augmented from ``seeds[i]`` if given)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        relative_paths: np.ndarray,
        labels: np.ndarray,
        indices: np.ndarray,
        seeds: np.ndarray | None,
        image_size: int,
    ) -> None:
        self.name = name
        self.folder = folder
        self.relative_paths = relative_paths
        self.labels = labels
        self.indices = indices
        self.seeds = seeds
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> tuple[torch.Tensor, int]:
        sample = int(self.indices[position])
        path = self.folder / self.relative_paths[sample].decode()
        try:
            with Image.open(path) as opened:
                image = opened.convert("RGB")
        except OSError as err:
            raise ValueError(f"{self.name}: cannot decode image {path} ({err})") from err
        size = [self.image_size, self.image_size]
        if self.seeds is None:
            image = TF.resize(image, eval_resize_size(self.image_size), antialias=True)
            image = TF.center_crop(image, size)
        else:
            rng = np.random.default_rng(int(self.seeds[position]))
            top, left, box_height, box_width = random_resized_crop_box(
                image.height, image.width, rng
            )
            image = TF.resized_crop(image, top, left, box_height, box_width, size, antialias=True)
            if rng.random() < 0.5:
                image = TF.hflip(image)
        return TF.pil_to_tensor(image), int(self.labels[sample])


class ImageFolderPool:
    """One split of an ImageFolder tree; images are decoded on demand by DataLoader workers."""

    def __init__(
        self,
        name: str,
        folder: Path,
        relative_paths: np.ndarray,
        labels: np.ndarray,
        normaliser: Normaliser,
        augmentation: str,
        image_size: int,
        workers: int,
    ) -> None:
        if augmentation not in FOLDER_AUGMENTATIONS:
            raise ValueError(
                f"{name}: augmentation {augmentation!r} is not available for image folders; "
                f"expected one of {FOLDER_AUGMENTATIONS}"
            )
        self.name = name
        self.folder = folder
        self.relative_paths = relative_paths
        self.labels = np.asarray(labels, dtype=np.int64)
        self.labels.setflags(write=False)
        self._normalise = normaliser
        self.augmentation = augmentation
        self.image_size = image_size
        self.workers = workers

    def __len__(self) -> int:
        return len(self.labels)

    def file_of(self, sample_id: int) -> Path:
        """The image file behind one sample id (for reports and debugging)."""
        return self.folder / self.relative_paths[sample_id].decode()

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
        seeds = None
        if augment and self.augmentation != "none":
            rng_device = generator.device if generator is not None else torch.device("cpu")
            seeds = (
                torch.randint(0, 2**62, (len(indices),), generator=generator, device=rng_device)
                .cpu()
                .numpy()
            )
        images = _DecodedImages(
            self.name,
            self.folder,
            self.relative_paths,
            self.labels,
            indices,
            seeds,
            self.image_size,
        )
        loader = torch.utils.data.DataLoader(
            images,
            batch_size=batch_size,
            shuffle=False,
            num_workers=self.workers,
            pin_memory=device.type == "cuda",
        )
        for batch, labels in loader:
            batch = batch.to(device, non_blocking=True)
            yield self._normalise(batch), labels.to(device, non_blocking=True)
