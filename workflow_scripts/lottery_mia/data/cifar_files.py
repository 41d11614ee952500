"""Our own reader of the CIFAR-10/100 "python version" pickle batches.

Why not torchvision's ``CIFAR10``/``CIFAR100`` classes: they check the MD5 of the official files and
refuse anything else ("Dataset not found or corrupted"), so a user's re-packed copy or the files our
tests write never load through them. We validate what matters instead (structure, shapes, dtypes,
label ranges) and keep torchvision only to *download* the official archive.

The pickles are loaded with a restricted unpickler that only rebuilds numpy arrays
(``safe_pickle``, shared with Downsampled ImageNet), so a tampered batch file cannot run code.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lottery_mia.data.safe_pickle import load_pickled_dict

IMAGE_SHAPE = (3, 32, 32)
ROW_LENGTH = 3 * 32 * 32
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


@dataclass(frozen=True)
class CifarLayout:
    """What one CIFAR variant looks like on disk."""

    name: str  # dataset key in the config: cifar10 / cifar100
    title: str  # human name for messages
    folder: str  # the folder the official archive extracts to
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    label_key: bytes  # key of the labels in each batch dict
    names_key: bytes  # key of the class names in the meta dict
    num_classes: int
    official_sizes: tuple[int, int]  # (train, test) of the official release

    @property
    def expected_files(self) -> tuple[str, ...]:
        return (*self.train_files, *self.test_files, self.meta_file)


CIFAR_LAYOUTS = {
    "cifar10": CifarLayout(
        name="cifar10",
        title="CIFAR-10",
        folder="cifar-10-batches-py",
        train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
        test_files=("test_batch",),
        meta_file="batches.meta",
        label_key=b"labels",
        names_key=b"label_names",
        num_classes=10,
        official_sizes=(50_000, 10_000),
    ),
    "cifar100": CifarLayout(
        name="cifar100",
        title="CIFAR-100",
        folder="cifar-100-python",
        train_files=("train",),
        test_files=("test",),
        meta_file="meta",
        label_key=b"fine_labels",
        names_key=b"fine_label_names",
        num_classes=100,
        official_sizes=(50_000, 10_000),
    ),
}


def _fix_hint(layout: CifarLayout) -> str:
    return (
        f"Fix: set datasets.{layout.name}.root to the folder holding these files (the python "
        f"version from {CIFAR_URL}, which extracts to {layout.folder}/), or set "
        f"datasets.{layout.name}.download: true to fetch it."
    )


def find_cifar_folder(layout: CifarLayout, root: Path) -> Path:
    """Return the folder holding every expected file: ``root`` itself or ``root/<official folder>``.

    Accepting the parent too spares users the most common mistake (pointing at the folder they
    extracted the archive into). Raises ``FileNotFoundError`` naming what is missing and the fix.
    """
    candidates = [root] if root.name == layout.folder else [root, root / layout.folder]
    for folder in candidates:
        if all((folder / name).is_file() for name in layout.expected_files):
            return folder
    searched = " and ".join(str(folder) for folder in candidates)
    if not root.exists():
        found = f"{root} does not exist"
    else:
        best = max(candidates, key=lambda f: sum((f / n).is_file() for n in layout.expected_files))
        missing = [name for name in layout.expected_files if not (best / name).is_file()]
        found = f"{best} lacks {', '.join(missing)}"
    raise FileNotFoundError(
        f"{layout.name}: {layout.title} batches not found (searched {searched}: {found}). "
        f"Expected files: {', '.join(layout.expected_files)}. {_fix_hint(layout)}"
    )


def download_cifar(layout: CifarLayout, root: Path) -> Path:
    """Download and extract the official archive so that ``find_cifar_folder(root)`` succeeds.

    torchvision downloads into a temporary folder beside the target and the extracted folder is
    renamed into place, so concurrent jobs never see a half-written folder (the first rename wins).
    """
    import torchvision  # imported here: only downloads need it

    dataset_class = {
        "cifar10": torchvision.datasets.CIFAR10,
        "cifar100": torchvision.datasets.CIFAR100,
    }[layout.name]
    target = root if root.name == layout.folder else root / layout.folder
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{layout.folder}.") as tmp:
        try:
            dataset_class(tmp, train=True, download=True)
        except (OSError, RuntimeError) as err:
            raise FileNotFoundError(
                f"{layout.name}: downloading {layout.title} into {target} failed ({err}). "
                f"Download the python version from {CIFAR_URL} by hand, extract it, and set "
                f"datasets.{layout.name}.root to the extracted {layout.folder}/ folder."
            ) from err
        try:
            os.replace(Path(tmp) / layout.folder, target)
        except OSError as err:
            if not all((target / name).is_file() for name in layout.expected_files):
                raise FileNotFoundError(
                    f"{layout.name}: downloaded {layout.title}, but cannot move it to {target} "
                    f"({err}); remove the incomplete folder {target} and run again."
                ) from err
    return target


def _load_pickle(layout: CifarLayout, path: Path) -> dict[bytes, Any]:
    """Unpickle one CIFAR file (numpy arrays only), naming a corrupt or truncated file."""
    return load_pickled_dict(
        layout.name,
        layout.title,
        path,
        f"Replace it with the original {layout.title} file (from {CIFAR_URL})",
        f", or delete the folder and set datasets.{layout.name}.download: true",
    )


def read_labels(layout: CifarLayout, path: Path, record: dict[bytes, Any]) -> np.ndarray:
    """Labels of one batch as int64, checked against the class count."""
    if layout.label_key not in record:
        raise ValueError(
            f"{layout.name}: {path} has no {layout.label_key!r} entry (keys: "
            f"{sorted(record)}); expected a {layout.title} batch"
        )
    try:
        labels = np.asarray(record[layout.label_key], dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{layout.name}: {path}: labels are not integers ({err})") from err
    if labels.ndim != 1:
        raise ValueError(f"{layout.name}: {path}: labels have shape {labels.shape}; expected 1-D")
    if labels.size and (labels.min() < 0 or labels.max() >= layout.num_classes):
        raise ValueError(
            f"{layout.name}: {path} has labels from {labels.min()} to {labels.max()}; expected "
            f"0..{layout.num_classes - 1} for {layout.title} (is this a file of another dataset?)"
        )
    return labels


def read_batch(layout: CifarLayout, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of one batch file, validated."""
    record = _load_pickle(layout, path)
    labels = read_labels(layout, path, record)
    data = record.get(b"data")
    if not isinstance(data, np.ndarray):
        raise ValueError(
            f"{layout.name}: {path} has no b'data' array (found {type(data).__name__}); "
            f"expected a {layout.title} batch"
        )
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != ROW_LENGTH:
        raise ValueError(
            f"{layout.name}: {path}: b'data' is {data.dtype} with shape {data.shape}; "
            f"expected uint8 with shape (N, {ROW_LENGTH}) (CHW rows of 32x32 RGB images)"
        )
    if data.shape[0] != labels.size:
        raise ValueError(
            f"{layout.name}: {path} has {data.shape[0]} images but {labels.size} labels"
        )
    return data.reshape(-1, *IMAGE_SHAPE), labels


def read_split(layout: CifarLayout, folder: Path, files: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Concatenate the batches of one split, in file order."""
    parts = [read_batch(layout, folder / name) for name in files]
    images = np.concatenate([images for images, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    return images, labels


def read_split_labels(layout: CifarLayout, folder: Path, files: tuple[str, ...]) -> np.ndarray:
    """Labels of one split, each batch fully validated (images are unpickled anyway), so a
    damaged file stops the workflow at parse time, before any job."""
    return np.concatenate([read_batch(layout, folder / name)[1] for name in files])


def read_class_names(layout: CifarLayout, folder: Path) -> tuple[str, ...]:
    """Class names from the meta file, which also confirms the class count."""
    path = folder / layout.meta_file
    record = _load_pickle(layout, path)
    names = record.get(layout.names_key)
    if not isinstance(names, list) or len(names) != layout.num_classes:
        found = f"{len(names)} names" if isinstance(names, list) else f"keys {sorted(record)}"
        raise ValueError(
            f"{layout.name}: {path}: expected {layout.num_classes} class names under "
            f"{layout.names_key!r}, found {found}"
        )
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
