"""Training-input throughput: our in-memory CIFAR path against a plain per-sample DataLoader.

Both sides read the same fabricated CIFAR-10 batch files (written in the official pickle format),
apply the same augmentation (random 32x32 crop with 4-pixel zero padding, random horizontal flip,
normalisation) at the same batch size, in the same process, and hand batches to the same device.

- ours: ``lottery_mia.data.load_dataset("cifar10", ...)`` then ``train.batches(..., augment=True)``
  (one uint8 tensor on the device, whole-batch augmentation there);
- baseline: a ``torch.utils.data.DataLoader`` over a small Dataset that, like torchvision's
  ``CIFAR10``, turns each sample into a PIL image and applies ``torchvision.transforms``
  ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``, ``Normalize()``.
  torchvision's ``CIFAR10`` class itself refuses our files (it checks the MD5 of the official ones).

Run: ``python benchmarks/data_throughput.py [--images 10000] [--batch-size 256] [--epochs 5]
[--workers 0,2] [--threads N] [--json out.json]``. Prints the median images/s of each side over
epochs run in turn, and the ratio ours / baseline for each baseline worker count. The device is
CUDA when available, else CPU. On a shared CPU machine, ``--threads 1`` avoids the stalls of a
multi-threaded op waiting for a core another process holds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "workflow_scripts"), str(REPO / "tests")]

from fabricate import write_cifar  # noqa: E402
from lottery_mia.atomic import write_json  # noqa: E402
from lottery_mia.data import CIFAR10_MEAN, CIFAR10_STD, load_dataset  # noqa: E402


class PerSampleCifar(torch.utils.data.Dataset):
    """The torchvision-style baseline: one PIL image and one transform chain per sample."""

    def __init__(self, images_chw: np.ndarray, labels: np.ndarray) -> None:
        self.images = np.ascontiguousarray(images_chw.transpose(0, 2, 3, 1))  # HWC, as torchvision
        self.labels = labels
        self.transform = T.Compose(
            [
                T.RandomCrop(32, padding=4),
                T.RandomHorizontalFlip(),
                T.ToTensor(),
                T.Normalize(CIFAR10_MEAN, CIFAR10_STD),
            ]
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class OursEpoch:
    """One epoch of our in-memory path with flip_crop augmentation, in a shuffled order."""

    def __init__(self, root: Path, batch_size: int, device: torch.device) -> None:
        self.pool = load_dataset("cifar10", {"root": str(root), "augmentation": "flip_crop"}).train
        self.batch_size = batch_size
        self.device = device
        self.generator = torch.Generator().manual_seed(0)
        self.checksum = torch.zeros((), device=device)

    def __call__(self) -> int:
        order = torch.randperm(len(self.pool), generator=self.generator).numpy()
        batches = self.pool.batches(order, self.batch_size, self.device, True, self.generator)
        for images, _ in batches:
            self.checksum += images[:, 0, 0, 0].sum()  # consume the batch so no work is skipped
        return len(order)


class BaselineEpoch:
    """One epoch of a plain DataLoader with per-sample torchvision transforms."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        device: torch.device,
        workers: int,
    ) -> None:
        self.loader = torch.utils.data.DataLoader(
            PerSampleCifar(images, labels),
            batch_size=batch_size,
            shuffle=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,  # worker start-up is not what we measure
            generator=torch.Generator().manual_seed(0),
        )
        self.device = device
        self.checksum = torch.zeros((), device=device)

    def __call__(self) -> int:
        count = 0
        for batch, _ in self.loader:
            self.checksum += batch.to(self.device, non_blocking=True)[:, 0, 0, 0].sum()
            count += len(batch)
        return count


def images_per_second(epoch, device: torch.device) -> float:
    """Throughput of one timed epoch."""
    _synchronise(device)
    start = time.perf_counter()
    count = epoch()
    _synchronise(device)
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000, help="training images to fabricate")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--epochs", type=int, default=5, help="timed epochs per contender (after one warm-up)"
    )
    parser.add_argument(
        "--workers", default="0,2", help="comma-separated DataLoader worker counts for the baseline"
    )
    parser.add_argument(
        "--threads", type=int, help="torch intra-op threads of the main process (default: torch's)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    worker_counts = [int(w) for w in args.workers.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        written = write_cifar(Path(tmp), "cifar10", train_size=args.images, test_size=100)
        contenders = {"ours": OursEpoch(written.folder, args.batch_size, device)}
        for workers in worker_counts:
            contenders[f"baseline_{workers}_workers"] = BaselineEpoch(
                written.train_images, written.train_labels, args.batch_size, device, workers
            )
        for epoch in contenders.values():
            epoch()  # warm-up: the copy to the device, worker start-up, kernel caches
        # Interleave the contenders epoch by epoch so that both see the same machine load, and
        # compare medians: a shared, busy machine makes single epochs noisy.
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.epochs):
            for name, epoch in contenders.items():
                rates[name].append(images_per_second(epoch, device))
    medians = {name: float(np.median(values)) for name, values in rates.items()}
    results: dict[str, object] = {
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "images": args.images,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "images_per_s_median": medians,
        "images_per_s_all": rates,
        "ratio_ours_over": {
            name: medians["ours"] / rate for name, rate in medians.items() if name != "ours"
        },
    }
    print(
        f"device {device}, {torch.get_num_threads()} torch threads, {args.images} images, "
        f"batch size {args.batch_size}, median of {args.epochs} interleaved epochs"
    )
    print(f"ours (in-memory, on-device flip_crop): {medians['ours']:12,.0f} images/s")
    for workers in worker_counts:
        rate = medians[f"baseline_{workers}_workers"]
        print(
            f"baseline DataLoader, {workers} workers:    {rate:12,.0f} images/s   "
            f"ratio ours/baseline {medians['ours'] / rate:6.1f}x"
        )
    if args.json:
        write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
