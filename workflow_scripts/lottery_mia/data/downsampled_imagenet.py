"""Downsampled ImageNet (Chrabaszcz, Loshchilov & Hutter 2017): ``imagenet32`` and ``imagenet64``.

The official release: ``train_data_batch_1`` .. ``train_data_batch_10`` (1,281,167 images) and
``val_data`` (50,000), each a pickled dict with ``data`` (uint8 rows of 3 x S x S values, channel
major like CIFAR: all red, then green, then blue), ``labels`` (a list of ints 1..1000) and, in the
training batches, ``mean``; or the same keys in ``.npz`` files of the same names. The archives
extract to ``Imagenet{S}_train/`` and ``Imagenet{S}_val/`` (``..._npz/`` for the npz variant):
``root`` may hold the files or those folders.

Pickles go through the restricted unpickler CIFAR uses (``safe_pickle``); npz files are read with
``allow_pickle=False``. Labels become 0-indexed. A split is read batch by batch into one
preallocated uint8 array, so loading peaks at the split plus one or two batches (ImageNet64x64's
training split: 15.7 GB plus 1.6 GB a batch; ``resources.LOADING_BATCHES``), and the split is held
as uint8 by ``tensor_pool`` with CIFAR's augmentation (padded random crop and horizontal flip).

Counting the pools (the config gate) reads only the labels and array headers of npz files; pickles
are unpickled one batch at a time (the counts are then cached, ``pool_cache``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lottery_mia.data.base import Dataset, DatasetInfo, root_path
from lottery_mia.data.imagenet import IMAGENET_MEAN, IMAGENET_STD
from lottery_mia.data.safe_pickle import load_pickled_dict

DOWNSAMPLED_URL = "https://image-net.org/download-images.php (Downsampled ImageNet)"
NUM_CLASSES = 1000
TRAIN_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))
VAL_FILES = ("val_data",)
NPZ_SUFFIX = ".npz"


@dataclass(frozen=True)
class DownsampledLayout:
    """What one Downsampled ImageNet variant looks like on disk."""

    name: str  # dataset key in the config: imagenet32 / imagenet64
    side: int  # images are side x side pixels

    @property
    def title(self) -> str:
        return f"ImageNet{self.side}x{self.side}"

    @property
    def row_length(self) -> int:
        return 3 * self.side * self.side

    @property
    def official_sizes(self) -> tuple[int, int]:
        return 1_281_167, 50_000

    def folders(self, root: Path, split: str) -> list[Path]:
        """Where the files of ``split`` (train/val) may be: ``root`` or the archives' folders."""
        base = f"Imagenet{self.side}_{split}"
        return [root, root / base, root / f"{base}_npz"]


LAYOUTS = {
    "imagenet32": DownsampledLayout("imagenet32", 32),
    "imagenet64": DownsampledLayout("imagenet64", 64),
}


def _expected(layout: DownsampledLayout) -> str:
    return (
        f"Expected files: {', '.join((*TRAIN_FILES, *VAL_FILES))} (pickled, or the same names "
        f"ending in {NPZ_SUFFIX}), each a dict with 'data' (uint8, N x {layout.row_length}: "
        f"{layout.side}x{layout.side} RGB images, channel-major rows) and 'labels' (1..1000). "
        f"Fix: set datasets.{layout.name}.root to the folder holding them or the official "
        f"Imagenet{layout.side}_train/ and Imagenet{layout.side}_val/ folders "
        f"(from {DOWNSAMPLED_URL})."
    )


def find_files(layout: DownsampledLayout, root: Path) -> tuple[list[Path], list[Path]]:
    """Paths of the training and validation batches (npz preferred where both exist).

    Raises ``FileNotFoundError`` naming the dataset, the folders searched, the missing files, the
    files expected and the fix.
    """
    found: dict[str, list[Path]] = {"train": [], "val": []}
    missing = []
    for split, names in (("train", TRAIN_FILES), ("val", VAL_FILES)):
        for name in names:
            candidates = [
                folder / f"{name}{suffix}"
                for folder in layout.folders(root, split)
                for suffix in (NPZ_SUFFIX, "")
            ]
            path = next((path for path in candidates if path.is_file()), None)
            if path is None:
                missing.append(name)
            else:
                found[split].append(path)
    if missing:
        searched = ", ".join(
            str(folder) for split in ("train", "val") for folder in layout.folders(root, split)[1:]
        )
        problem = (
            f"{root} does not exist"
            if not root.exists()
            else f"no {', '.join(missing)} (nor {NPZ_SUFFIX}) in {root}, {searched}"
        )
        raise FileNotFoundError(
            f"{layout.name}: {layout.title} batches not found ({problem}). {_expected(layout)}"
        )
    return found["train"], found["val"]


def _fix(layout: DownsampledLayout) -> str:
    return f"Replace it with the original {layout.title} file (from {DOWNSAMPLED_URL})"


def _read_npz(layout: DownsampledLayout, path: Path) -> dict[str, Any]:
    """The arrays of one npz file; never unpickles (``allow_pickle=False``)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files if key in ("data", "labels")}
    except Exception as err:  # a truncated zip, a damaged member, an object array
        raise ValueError(
            f"{layout.name}: cannot read {path}: the file is corrupt or truncated, or holds "
            f"pickled objects ({type(err).__name__}: {err}). {_fix(layout)}."
        ) from err


def _record(layout: DownsampledLayout, path: Path) -> dict[str, Any]:
    """One batch file as a dict with str keys (the files use str keys; bytes are accepted)."""
    if path.name.endswith(NPZ_SUFFIX):
        return _read_npz(layout, path)
    record = load_pickled_dict(layout.name, layout.title, path, _fix(layout))
    return {key.decode() if isinstance(key, bytes) else key: value for key, value in record.items()}


def _labels(layout: DownsampledLayout, path: Path, record: Mapping[str, Any]) -> np.ndarray:
    """0-indexed int64 labels of one batch, checked to be 1..1000 in the file."""
    if "labels" not in record:
        raise ValueError(
            f"{layout.name}: {path} has no 'labels' entry (keys: {sorted(map(str, record))}); "
            f"expected an {layout.title} batch"
        )
    try:
        labels = np.asarray(record["labels"], dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{layout.name}: {path}: labels are not integers ({err})") from err
    if labels.ndim != 1:
        raise ValueError(f"{layout.name}: {path}: labels have shape {labels.shape}; expected 1-D")
    if labels.size and (labels.min() < 1 or labels.max() > NUM_CLASSES):
        raise ValueError(
            f"{layout.name}: {path} has labels from {labels.min()} to {labels.max()}; expected "
            f"1..{NUM_CLASSES} (the official files number the classes from 1)"
        )
    return labels - 1


def _check_data(layout: DownsampledLayout, path: Path, dtype: Any, shape: tuple, rows: int) -> None:
    if np.dtype(dtype).hasobject:  # seen in an npz header: its objects are never unpickled
        raise ValueError(
            f"{layout.name}: {path}: 'data' holds pickled objects (dtype object), which are never "
            f"unpickled (they could run code); expected uint8 rows. {_fix(layout)}."
        )
    if np.dtype(dtype) != np.uint8 or len(shape) != 2 or shape[1] != layout.row_length:
        other = [
            f" (rows of {o.title}: is this a {o.name} file?)"
            for o in LAYOUTS.values()
            if o != layout and len(shape) == 2 and shape[1] == o.row_length
        ]
        raise ValueError(
            f"{layout.name}: {path}: 'data' is {np.dtype(dtype)} with shape {shape}; expected "
            f"uint8 with shape (N, {layout.row_length}) (channel-major rows of {layout.side}x"
            f"{layout.side} RGB images){''.join(other)}"
        )
    if shape[0] != rows:
        raise ValueError(f"{layout.name}: {path} has {shape[0]} images but {rows} labels")


def read_batch(layout: DownsampledLayout, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rows (N, 3 x S x S) uint8 and 0-indexed labels (N,) int64 of one batch file, validated."""
    record = _record(layout, path)
    labels = _labels(layout, path, record)
    data = record.get("data")
    if not isinstance(data, np.ndarray):
        raise ValueError(
            f"{layout.name}: {path} has no 'data' array (found {type(data).__name__}); "
            f"expected an {layout.title} batch"
        )
    _check_data(layout, path, data.dtype, data.shape, labels.size)
    return data, labels


def _npz_data_header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of an npz file's ``data`` array, read from its header alone."""
    with zipfile.ZipFile(path) as archive, archive.open("data.npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    return shape, dtype


def count_batch(layout: DownsampledLayout, path: Path) -> int:
    """Images in one batch file, validated without reading an npz file's pixels."""
    if not path.name.endswith(NPZ_SUFFIX):
        return len(read_batch(layout, path)[1])
    try:
        with np.load(path, allow_pickle=False) as archive:
            record = {"labels": archive["labels"]} if "labels" in archive.files else {}
        shape, dtype = _npz_data_header(path)
    except Exception as err:
        raise ValueError(
            f"{layout.name}: cannot read {path}: the file is corrupt or truncated, or holds "
            f"pickled objects or no 'data' array ({type(err).__name__}: {err}). {_fix(layout)}."
        ) from err
    labels = _labels(layout, path, record)
    _check_data(layout, path, dtype, shape, labels.size)
    return labels.size


def _row_capacity(layout: DownsampledLayout, path: Path) -> int:
    """An upper bound of the rows in a batch file without reading it: the npz header's count, or
    the pickle's size over the row length (a pickle stores every pixel in at least one byte; up
    to two in protocol 2, whose surplus rows are allocated but never written, so never resident)."""
    if path.name.endswith(NPZ_SUFFIX):
        try:
            return _npz_data_header(path)[0][0]
        except Exception:  # damaged: read_batch names the file
            return 0
    return path.stat().st_size // layout.row_length


def read_split(layout: DownsampledLayout, paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, S, S) uint8 and labels of one split, batch by batch into one array."""
    images = np.empty((sum(_row_capacity(layout, p) for p in paths), layout.row_length), np.uint8)
    labels, filled = [], 0
    for path in paths:
        data, batch_labels = read_batch(layout, path)
        if filled + len(data) > len(images):  # only if a capacity bound failed: grow
            images = np.concatenate([images[:filled], np.empty_like(data)])
        images[filled : filled + len(data)] = data
        filled += len(data)
        labels.append(batch_labels)
        del data
    side = layout.side
    return images[:filled].reshape(filled, 3, side, side), np.concatenate(labels)


def load(name: str, settings: Mapping[str, Any]) -> Dataset:
    from lottery_mia.data.tensor_pool import Normaliser, TensorPool

    layout = LAYOUTS[name]
    train_paths, val_paths = find_files(layout, root_path(settings))
    normaliser = Normaliser(IMAGENET_MEAN, IMAGENET_STD)
    info = DatasetInfo(name, NUM_CLASSES, 3, layout.side, IMAGENET_MEAN, IMAGENET_STD)
    pools = []
    for paths in (train_paths, val_paths):
        images, labels = read_split(layout, paths)
        pools.append(
            TensorPool(
                images, labels, normaliser, settings["augmentation"], settings["crop_padding"]
            )
        )
    return Dataset(info, *pools)


def pool_sizes(name: str, settings: Mapping[str, Any]) -> tuple[int, int]:
    """Counts (and validates) every batch file; see the module docstring for the cost."""
    layout = LAYOUTS[name]
    train_paths, val_paths = find_files(layout, root_path(settings))
    train = sum(count_batch(layout, path) for path in train_paths)
    val = sum(count_batch(layout, path) for path in val_paths)
    return train, val
