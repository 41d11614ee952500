"""Small fake datasets written in the REAL on-disk formats, for tests and benchmarks.

- CIFAR-10/100: the "python version" pickle batches (dicts with bytes keys, ``b"data"`` uint8
  N x 3072 CHW rows, ``b"labels"`` or ``b"fine_labels"``) and their meta files, pickled with
  protocol 2 like the official files. Images are class-dependent colours with noise, so a small
  model can learn them; the arrays written are returned so tests can compare pixels exactly.
- ImageNet: a torchvision ImageFolder tree (``train/<wnid>/*.JPEG``, ``val/<wnid>/*.JPEG``) of
  JPEGs whose red channel encodes the class and green channel the split (both constant over the
  image), so tests can tell from pixels where an image came from; blue is a left-to-right ramp, so
  crops and flips change pixels.
- Downsampled ImageNet (imagenet32/imagenet64): ``train_data_batch_1..10`` and ``val_data``, each
  a pickled dict with str keys (``"data"`` uint8 N x 3*S*S channel-major rows, ``"labels"`` a list
  of ints 1..1000, ``"mean"`` in the training batches) like the official files, or the same keys
  in ``.npz`` files; optionally inside the archives' ``Imagenet{S}_train/``/``Imagenet{S}_val/``.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR_FILES = {
    "cifar10": {
        "folder": "cifar-10-batches-py",
        "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
        "test": ("test_batch",),
        "meta": "batches.meta",
        "classes": 10,
    },
    "cifar100": {
        "folder": "cifar-100-python",
        "train": ("train",),
        "test": ("test",),
        "meta": "meta",
        "classes": 100,
    },
}
TRAIN_GREEN, VAL_GREEN = 60, 190  # green channel of fabricated ImageFolder images per split


@dataclass(frozen=True)
class FabricatedCifar:
    folder: Path  # the folder holding the batch files (what `root` points at)
    train_images: np.ndarray  # (N, 3, 32, 32) uint8, in file order
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray
    test_labels: np.ndarray


def _cifar_images(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Noisy images whose mean colour depends on the class (learnable, never constant)."""
    class_colours = np.random.default_rng(1234).uniform(40, 215, size=(num_classes, 3, 1, 1))
    noise = rng.normal(0, 30, size=(len(labels), 3, 32, 32))
    return np.clip(np.rint(class_colours[labels] + noise), 0, 255).astype(np.uint8)


def _balanced_labels(count: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Every class as often as possible, shuffled (all classes present once count >= classes)."""
    return rng.permutation(np.arange(count) % num_classes).astype(np.int64)


def _write_pickle(path: Path, record: dict) -> None:
    with path.open("wb") as handle:
        pickle.dump(record, handle, protocol=2)


def write_cifar(
    root: Path,
    name: str = "cifar10",
    train_size: int = 100,
    test_size: int = 50,
    seed: int = 0,
) -> FabricatedCifar:
    """Write a CIFAR-10 or CIFAR-100 folder under ``root`` (``root/<official folder name>``).

    The train split is spread over the variant's train files as evenly as possible (CIFAR-10: five
    batches); labels cycle over all classes, shuffled.
    """
    spec = CIFAR_FILES[name]
    num_classes = int(spec["classes"])
    label_key = b"labels" if name == "cifar10" else b"fine_labels"
    folder = Path(root) / str(spec["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    splits = {}
    for split, size in (("train", train_size), ("test", test_size)):
        labels = _balanced_labels(size, num_classes, rng)
        images = _cifar_images(labels, num_classes, rng)
        splits[split] = (images, labels)
        files = spec[split]
        bounds = np.linspace(0, size, len(files) + 1).round().astype(int)
        for file_name, start, stop in zip(files, bounds[:-1], bounds[1:], strict=True):
            record = {
                b"batch_label": f"fabricated {file_name}".encode(),
                label_key: [int(label) for label in labels[start:stop]],
                b"data": images[start:stop].reshape(stop - start, -1),
                b"filenames": [f"img_{i}.png".encode() for i in range(start, stop)],
            }
            if name == "cifar100":
                record[b"coarse_labels"] = [int(label) // 5 for label in labels[start:stop]]
            _write_pickle(folder / file_name, record)
    class_names = [f"class_{c}".encode() for c in range(num_classes)]
    if name == "cifar10":
        meta = {
            b"label_names": class_names,
            b"num_cases_per_batch": train_size // 5,
            b"num_vis": 3072,
        }
    else:
        meta = {
            b"fine_label_names": class_names,
            b"coarse_label_names": [f"super_{c}".encode() for c in range(20)],
        }
    _write_pickle(folder / str(spec["meta"]), meta)
    return FabricatedCifar(folder, *splits["train"], *splits["test"])


@dataclass(frozen=True)
class FabricatedImageFolder:
    root: Path  # holds train/ and val/
    classes: tuple[str, ...]  # sorted wnids; label i = classes[i]
    train_per_class: int
    val_per_class: int


def class_red(label: int, num_classes: int) -> int:
    """Red channel of every fabricated image of class ``label``."""
    return round(255 * (label + 0.5) / num_classes)


def write_image_folder(
    root: Path,
    classes: Sequence[str] = ("n01440764", "n01443537", "n01484850"),
    train_per_class: int = 4,
    val_per_class: int = 2,
) -> FabricatedImageFolder:
    """Write ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG`` images.

    Red encodes the class (``class_red``), green the split (``TRAIN_GREEN``/``VAL_GREEN``), blue
    rises from 0 at the left edge to 255 at the right; sizes alternate between landscape and
    portrait to exercise resize and crop. Saved without chroma subsampling so colours survive JPEG.
    """
    classes = tuple(sorted(classes))
    root = Path(root)
    for split, per_class, green in (
        ("train", train_per_class, TRAIN_GREEN),
        ("val", val_per_class, VAL_GREEN),
    ):
        for label, wnid in enumerate(classes):
            folder = root / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                width, height = (48, 36) if i % 2 == 0 else (36, 48)
                pixels = np.empty((height, width, 3), dtype=np.uint8)
                pixels[..., 0] = class_red(label, len(classes))
                pixels[..., 1] = green
                pixels[..., 2] = np.rint(np.linspace(0, 255, width))
                Image.fromarray(pixels).save(
                    folder / f"{wnid}_{i:04d}.JPEG", "JPEG", quality=95, subsampling=0
                )
    return FabricatedImageFolder(root, classes, train_per_class, val_per_class)


DOWNSAMPLED_TRAIN_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))
DOWNSAMPLED_VAL_FILE = "val_data"


@dataclass(frozen=True)
class FabricatedDownsampled:
    root: Path  # what `root` points at
    train_images: np.ndarray  # (N, 3, S, S) uint8, in file order
    train_labels: np.ndarray  # (N,) int64, 0-indexed (the files hold label + 1)
    test_images: np.ndarray  # val_data
    test_labels: np.ndarray
    files: tuple[Path, ...]  # train_data_batch_1..10, then val_data


def write_downsampled_imagenet(
    root: Path,
    side: int = 32,
    train_size: int = 40,
    val_size: int = 20,
    file_format: str = "pickle",
    official_folders: bool = False,
    seed: int = 0,
) -> FabricatedDownsampled:
    """Write Downsampled ImageNet batches under ``root`` (in ``Imagenet{side}_train/`` and
    ``Imagenet{side}_val/`` with ``official_folders``), as pickles (protocol 2, as the official
    files) or ``.npz`` files. The train split is spread over the ten batches; labels are random in
    0..999 with 0 and 999 always present (written as 1 and 1000); pixels are random."""
    assert file_format in ("pickle", "npz")
    root = Path(root)
    rng = np.random.default_rng(seed)
    suffix = ".npz" if file_format == "npz" else ""
    splits, files = {}, []
    for split, size, names in (
        ("train", train_size, DOWNSAMPLED_TRAIN_FILES),
        ("val", val_size, (DOWNSAMPLED_VAL_FILE,)),
    ):
        folder = (
            root / f"Imagenet{side}_{split}{'_npz' if suffix else ''}" if official_folders else root
        )
        folder.mkdir(parents=True, exist_ok=True)
        labels = rng.integers(0, 1000, size).astype(np.int64)
        labels[:2] = (0, 999)
        images = rng.integers(0, 256, (size, 3, side, side), dtype=np.uint8)
        splits[split] = (images, labels)
        bounds = np.linspace(0, size, len(names) + 1).round().astype(int)
        for name, start, stop in zip(names, bounds[:-1], bounds[1:], strict=True):
            record = {
                "data": images[start:stop].reshape(stop - start, 3 * side * side),
                "labels": [int(label) + 1 for label in labels[start:stop]],
            }
            if split == "train":
                record["mean"] = images.reshape(size, -1).mean(axis=0)
            path = folder / f"{name}{suffix}"
            if suffix:
                np.savez(path, **{key: np.asarray(value) for key, value in record.items()})
            else:
                _write_pickle(path, record)
            files.append(path)
    return FabricatedDownsampled(root, *splits["train"], *splits["val"], tuple(files))
