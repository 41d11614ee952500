"""Datasets as two sample pools: ``train`` (members) and ``test`` (non-members).

``load_dataset(name, settings)`` takes the config entry ``datasets.<name>``. Every key is optional;
unknown keys are rejected (a typo must not silently fall back to a default). Keys and defaults:

``digits`` (scikit-learn's 8x8 handwritten digits, shipped with scikit-learn; 1,797 images)
    ``test_fraction: 0.5``  share of the samples in the non-member (test) pool, in (0, 1).
    ``split_seed: 0``       seed of the one stratified train/test split (scikit-learn
                            ``train_test_split``); both pools keep the original sample order.
    ``augmentation: "none"``  ``none`` or ``crop`` (random crop from a zero-padded copy; no flip,
                            a mirrored digit is another symbol).
    ``crop_padding: 1``     padding in pixels for ``crop``.
    Pixels 0..16 are scaled to uint8 0..255 (rounded); mean and std are computed from the train pool
    (the non-members must not inform the preprocessing of the model they attack).

``cifar10`` / ``cifar100`` (the "python version" pickle batches)
    ``root: "data/cifar-10-batches-py"`` / ``"data/cifar-100-python"``  the folder holding
                            ``data_batch_1..5, test_batch, batches.meta`` (CIFAR-10) or
                            ``train, test, meta`` (CIFAR-100); its parent is accepted too.
    ``download: false``     fetch the official archive with torchvision when the files are missing.
    ``augmentation: "flip_crop"``  ``none``, ``crop`` or ``flip_crop`` (random 32x32 crop from a
                            zero-padded copy plus a random horizontal flip, the standard recipe).
    ``crop_padding: 4``     padding in pixels for ``crop`` and ``flip_crop``.
    Normalisation: the standard per-channel mean and std of each training set.

``imagenet`` (``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG``, torchvision ImageFolder)
    ``root: "data/imagenet"``
    ``augmentation: "random_resized_crop"``  ``none`` or ``random_resized_crop`` (Inception-style
                            crop of 8-100% of the area, resized to ``image_size``, plus a flip).
    ``image_size: 224``     side of the square input; evaluation resizes the shorter side to
                            ``image_size * 256 / 224`` and takes the centre crop.
    ``workers: 8``          DataLoader worker processes that decode JPEGs.
    Normalisation: the standard ImageNet mean and std. The test pool is val/ (50,000 images).

Relative roots are resolved against the working directory (Snakemake's ``--directory``).
Missing or broken data raise ``FileNotFoundError``/``ValueError`` with one message naming the
dataset, the path, the files expected and the fix; call ``pool_sizes`` at config validation so that
this happens before any job starts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, runtime_checkable

import numpy as np

from lottery_mia.data.cifar_files import (
    CIFAR_LAYOUTS,
    download_cifar,
    find_cifar_folder,
    read_class_names,
    read_split,
    read_split_labels,
)
from lottery_mia.data.image_folders import FOLDER_AUGMENTATIONS, SPLIT_FOLDERS, index_split
from lottery_mia.data.image_folders import list_classes as list_image_folder_classes

# torch and torchvision (several seconds to import) are imported only by the loaders below:
# every Snakefile parse imports this module for ``pool_sizes``, and must stay fast.
if TYPE_CHECKING:
    import torch

DATASET_NAMES = ("digits", "cifar10", "cifar100", "imagenet")

DEFAULT_SETTINGS: Mapping[str, Mapping[str, Any]] = {
    "digits": {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none", "crop_padding": 1},
    "cifar10": {
        "root": "data/cifar-10-batches-py",
        "download": False,
        "augmentation": "flip_crop",
        "crop_padding": 4,
    },
    "cifar100": {
        "root": "data/cifar-100-python",
        "download": False,
        "augmentation": "flip_crop",
        "crop_padding": 4,
    },
    "imagenet": {
        "root": "data/imagenet",
        "augmentation": "random_resized_crop",
        "image_size": 224,
        "workers": 8,
    },
}

AUGMENTATIONS: Mapping[str, tuple[str, ...]] = {
    "digits": ("none", "crop"),
    "cifar10": ("none", "crop", "flip_crop"),
    "cifar100": ("none", "crop", "flip_crop"),
    "imagenet": FOLDER_AUGMENTATIONS,
}

# Standard per-channel statistics of the training sets (CIFAR std is the per-pixel std over the
# whole training set, not the often-copied 0.2023/0.1994/0.2010).
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


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


def _check_name(name: str) -> None:
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASET_NAMES)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def resolve_settings(name: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_SETTINGS[name]`` updated with ``settings``, every value type- and range-checked."""
    _check_name(name)
    settings = dict(settings or {})
    defaults = DEFAULT_SETTINGS[name]
    unknown = sorted(set(settings) - set(defaults))
    if unknown:
        raise ValueError(
            f"datasets.{name}: unknown key(s) {unknown}; expected keys {sorted(defaults)}"
        )
    resolved = {**defaults, **settings}

    def fail(key: str, expected: str) -> NoReturn:
        raise ValueError(f"datasets.{name}.{key} is {resolved[key]!r}; expected {expected}")

    if resolved["augmentation"] not in AUGMENTATIONS[name]:
        fail("augmentation", f"one of {', '.join(AUGMENTATIONS[name])}")
    if "test_fraction" in resolved:
        fraction = resolved["test_fraction"]
        if not isinstance(fraction, float | int) or isinstance(fraction, bool):
            fail("test_fraction", "a number between 0 and 1")
        if not 0 < fraction < 1:
            fail("test_fraction", "a number strictly between 0 and 1")
    if "split_seed" in resolved and not (
        _is_int(resolved["split_seed"]) and 0 <= resolved["split_seed"] < 2**32
    ):
        fail("split_seed", "an integer from 0 to 2**32 - 1")
    if "crop_padding" in resolved and not (
        _is_int(resolved["crop_padding"]) and resolved["crop_padding"] >= 0
    ):
        fail("crop_padding", "a non-negative integer")
    if "root" in resolved and not (isinstance(resolved["root"], str) and resolved["root"]):
        fail("root", "a folder path (string)")
    if "download" in resolved and not isinstance(resolved["download"], bool):
        fail("download", "true or false")
    if "image_size" in resolved and not (
        _is_int(resolved["image_size"]) and resolved["image_size"] >= 8
    ):
        fail("image_size", "an integer of at least 8 (pixels)")
    if "workers" in resolved and not (_is_int(resolved["workers"]) and resolved["workers"] >= 0):
        fail("workers", "a non-negative integer (0 = decode in the main process)")
    return resolved


def _root(settings: Mapping[str, Any]) -> Path:
    return Path(settings["root"]).expanduser().resolve()


# ---- digits -------------------------------------------------------------------------------------


@functools.cache
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 (N, 1, 8, 8) images (0..16 scaled to 0..255) and int64 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)[:, None, :, :]
    images.setflags(write=False)
    labels = digits.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def digits_split(test_fraction: float, split_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into ``digits_arrays()``: one stratified, seeded split, each sorted.

    Sorting keeps the original sample order inside each pool, so sample ids read naturally.
    """
    from sklearn.model_selection import train_test_split

    _, labels = digits_arrays()
    try:
        train, test = train_test_split(
            np.arange(len(labels)),
            test_size=test_fraction,
            random_state=split_seed,
            stratify=labels,
        )
    except ValueError as err:
        raise ValueError(
            f"datasets.digits.test_fraction = {test_fraction} leaves a pool with fewer samples "
            f"than classes ({err}); choose a fraction nearer 0.5"
        ) from err
    return np.sort(train), np.sort(test)


def _load_digits(settings: Mapping[str, Any]) -> Dataset:
    from lottery_mia.data.tensor_pool import Normaliser, TensorPool

    images, labels = digits_arrays()
    train, test = digits_split(settings["test_fraction"], settings["split_seed"])
    train_pixels = images[train].astype(np.float64) / 255
    mean, std = (float(train_pixels.mean()),), (float(train_pixels.std()),)
    normaliser = Normaliser(mean, std)
    info = DatasetInfo("digits", 10, 1, 8, mean, std, tuple(str(d) for d in range(10)))

    def pool(selected: np.ndarray) -> SamplePool:
        return TensorPool(
            images[selected],
            labels[selected],
            normaliser,
            settings["augmentation"],
            settings["crop_padding"],
        )

    return Dataset(info, pool(train), pool(test))


# ---- CIFAR --------------------------------------------------------------------------------------


def _cifar_folder(name: str, settings: Mapping[str, Any]) -> Path:
    layout = CIFAR_LAYOUTS[name]
    root = _root(settings)
    try:
        return find_cifar_folder(layout, root)
    except FileNotFoundError:
        if not settings["download"]:
            raise
    download_cifar(layout, root)
    return find_cifar_folder(layout, root)


def _load_cifar(name: str, settings: Mapping[str, Any]) -> Dataset:
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


# ---- ImageNet -----------------------------------------------------------------------------------


def _load_imagenet(settings: Mapping[str, Any]) -> Dataset:
    from lottery_mia.data.image_folder_pool import ImageFolderPool
    from lottery_mia.data.tensor_pool import Normaliser

    root = _root(settings)
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


# ---- public entry points ------------------------------------------------------------------------


def load_dataset(name: str, settings: Mapping[str, Any] | None = None) -> Dataset:
    """Load dataset ``name`` with its config entry ``settings`` (see the module docstring)."""
    resolved = resolve_settings(name, settings)
    if name == "digits":
        return _load_digits(resolved)
    if name in CIFAR_LAYOUTS:
        return _load_cifar(name, resolved)
    return _load_imagenet(resolved)


def pool_sizes(name: str, settings: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """(train, test) pool sizes without decoding images, and with the data checked to be there.

    Digits: computed from the split. CIFAR: counts the labels of every batch file (which also
    validates them); with ``download: true`` and no files yet, the official sizes (the download
    happens in the first job that loads the data). ImageNet: counts image files per class folder.
    """
    resolved = resolve_settings(name, settings)
    if name == "digits":
        train, test = digits_split(resolved["test_fraction"], resolved["split_seed"])
        return len(train), len(test)
    if name in CIFAR_LAYOUTS:
        layout = CIFAR_LAYOUTS[name]
        try:
            folder = find_cifar_folder(layout, _root(resolved))
        except FileNotFoundError:
            if resolved["download"]:
                return layout.official_sizes
            raise
        read_class_names(layout, folder)
        train_labels = read_split_labels(layout, folder, layout.train_files)
        test_labels = read_split_labels(layout, folder, layout.test_files)
        return len(train_labels), len(test_labels)
    root = _root(resolved)
    classes = list_image_folder_classes(name, root)
    train_paths, _ = index_split(name, root, "train", classes)
    test_paths, _ = index_split(name, root, "test", classes)
    return len(train_paths), len(test_paths)
