"""Cluster resources (``runtime`` minutes, ``mem_mb``) from a table of images per second.

Runtime of a training job = epochs x images per epoch / training rate + evaluation passes /
inference rate, times ``SAFETY``, plus ``STARTUP_MINUTES``; a retry (``attempt`` 2, 3, ...) gets
that many times as much, and resumes from the epoch checkpoint. Rates are per dataset and
architecture at a reference width; each says where it comes from: ``measured`` (on which
machine), ``published`` (with the reference) or ``estimated`` (and how). Replace an estimate with
the output of ``benchmarks/gpu_check.sh`` once it has run on the cluster's GPU.

Pure Python without torch: the Snakefile imports it while parsing. What it knows of each dataset
(pool sizes, image shape, how the images are held) comes from the dataset's registry entry
(``data.pool_shape``); a dataset without a rate in ``RATES`` gets CIFAR-10's scaled by its pixels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lottery_mia.data import PoolShape, pool_shapes

#: Runtime estimates are multiplied by this: shared nodes, slower GPUs, file systems.
SAFETY = 1.5
#: Python, torch and CUDA start-up, data loading and checks before the first step.
STARTUP_MINUTES = 5
#: JPEG decode + random-resized-crop per DataLoader worker (PIL, one core): caps ImageNet rates.
JPEG_IMAGES_PER_WORKER = 150.0
#: Host memory of a torch process with CUDA context, model and optimiser, before any data.
BASE_MB = 3000
#: Host memory per ImageNet DataLoader worker (its own interpreter, prefetched uint8 batches).
WORKER_MB = 1000
#: Datasets read batch by batch into one preallocated array (``PoolShape.preallocated_train_batches``,
#: data.downsampled_imagenet): while loading, the splits are held once plus a batch being unpickled
#: and copied, 1/10 of the training split each. Measured peak (10 batches of 1,000 64 px images):
#: the splits plus 1.1 batches from npz files or protocol-4 pickles, plus 1.7 from protocol-2
#: pickles; 2 are requested.
LOADING_BATCHES = 2
#: Attack fits hold a few float64 copies of the feature matrix (logits, probabilities, scaled).
ATTACK_BYTES_PER_VALUE = 40
ATTACK_BASE_MB = 1000
#: Targets' evaluation rows a transfer job keeps between sources (read once, not once per source).
TRANSFER_EVAL_CACHE_MB = 512


#: Official pools and image shape of every registered dataset (``data.pool_shape``).
DATASETS: dict[str, PoolShape] = pool_shapes()


@dataclass(frozen=True)
class Rate:
    """Images per second of one dataset x architecture at ``width`` on one kind of device."""

    train: float  # one SGD step per batch: forward, backward, update
    infer: float  # eval mode, inference_mode: export and evaluation
    width: int
    source: str  # "measured: ...", "published: ..." or "estimated: ..."

    @property
    def kind(self) -> str:
        """``measured``, ``published`` or ``estimated``: the first word of ``source``."""
        return self.source.split(":", 1)[0]


_A100 = (
    "published: NVIDIA DeepLearningExamples PyTorch ResNet-50 v1.5, 1x A100 80GB, AMP, "
    "batch 256: 2,470 img/s training"
)
_FROM_A100 = "estimated: the published A100 ResNet-50 rate scaled by forward FLOPs"
_CPU = (
    "measured: benchmarks/gpu_check.py --device cpu --table-rates, fp32, 1 thread of a shared "
    "2-core AMD EPYC, torch 2.14.1"
)
_CPU_IMAGENET = "estimated: the measured CPU CIFAR rate / 3.2 (forward FLOPs, 224 vs 32 px)"
#: ``(device, dataset, arch)`` -> rate; device ``cuda`` (bf16 autocast, channels_last) or ``cpu``.
RATES: dict[tuple[str, str, str], Rate] = {
    ("cuda", "imagenet", "resnet50"): Rate(2470, 7400, 64, f"{_A100}; inference 3x training"),
    ("cuda", "imagenet", "resnet18"): Rate(5600, 16800, 64, f"{_FROM_A100} (4.1 / 1.8 GFLOPs)"),
    ("cuda", "cifar10", "resnet18"): Rate(9000, 27000, 64, f"{_FROM_A100} x 0.5 for 32 px"),
    ("cuda", "cifar10", "resnet50"): Rate(3900, 11700, 64, f"{_FROM_A100} x 0.5 for 32 px"),
    ("cuda", "digits", "resnet18"): Rate(
        9000, 27000, 64, "estimated: as CIFAR (8 px is no faster)"
    ),
    ("cuda", "digits", "resnet50"): Rate(
        3900, 11700, 64, "estimated: as CIFAR (8 px is no faster)"
    ),
    ("cpu", "cifar10", "resnet18"): Rate(20.3, 93.5, 64, _CPU),
    ("cpu", "cifar10", "resnet50"): Rate(7.8, 18.5, 64, _CPU),
    ("cpu", "digits", "resnet18"): Rate(900.0, 4865.0, 16, _CPU),
    ("cpu", "digits", "resnet50"): Rate(236.0, 1103.0, 16, _CPU),
    ("cpu", "imagenet", "resnet18"): Rate(6.3, 29.0, 64, _CPU_IMAGENET),
    ("cpu", "imagenet", "resnet50"): Rate(2.4, 5.8, 64, _CPU_IMAGENET),
}
#: CIFAR-100 differs from CIFAR-10 only in the classifier's 100 outputs.
for _device in ("cuda", "cpu"):
    for _arch in ("resnet18", "resnet50"):
        RATES[(_device, "cifar100", _arch)] = RATES[(_device, "cifar10", _arch)]
#: Every other dataset (Downsampled ImageNet, and any dataset registered without a rate here) runs
#: the CIFAR stem (models.SMALL_IMAGE_MAX_SIZE) on the in-memory path, so its convolutions cost
#: CIFAR's times the pixel count: x1 at 32 px, x1/4 at 64 px (a 1,000-way classifier adds under 1%
#: of the forward FLOPs, and no JPEG decoding caps the rate).
for _name, _pools in DATASETS.items():
    _side = _pools.side
    _scale = (32 * 32) / (_side * _side)
    for _device in ("cuda", "cpu"):
        for _arch in ("resnet18", "resnet50"):
            if (_device, _name, _arch) in RATES:
                continue
            _cifar = RATES[(_device, "cifar10", _arch)]
            RATES[(_device, _name, _arch)] = Rate(
                _cifar.train * _scale,
                _cifar.infer * _scale,
                _cifar.width,
                f"estimated: CIFAR-10's rate at {_arch} x {_scale:g} (pixels, 32x32 / "
                f"{_side}x{_side}; CIFAR's: {_cifar.source})",
            )


def rate(device: str, dataset: str, arch: str, width: int, workers: int = 0) -> Rate:
    """The table's rate, slowed by (width / reference width)^2 for wider models (never sped up
    for narrower ones: small models leave a GPU idle) and capped by JPEG decoding on ImageNet."""
    key = (device, dataset, arch)
    if key not in RATES:
        raise KeyError(f"no throughput for {key}; expected one of {sorted(RATES)}")
    base = RATES[key]
    slowdown = max(1.0, (width / base.width) ** 2)
    train, infer = base.train / slowdown, base.infer / slowdown
    if DATASETS[dataset].decoded_by_workers:
        decode = max(1, workers) * JPEG_IMAGES_PER_WORKER
        train, infer = min(train, decode), min(infer, decode)
    return Rate(train, infer, width, base.source)


def padded_minutes(seconds: float, attempt: int) -> int:
    """A job's ``runtime`` request for ``seconds`` of work: x ``SAFETY`` + ``STARTUP_MINUTES``,
    times the attempt."""
    return math.ceil(STARTUP_MINUTES + SAFETY * seconds / 60) * max(1, attempt)


#: Set to 1 by ``make plan``: the Snakefile's config gate then reads no data (``planning``).
PLANNING_ENV = "LOTTERY_MIA_PLANNING"


def planning(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the workflow is parsed to plan a config (``PLANNING_ENV`` is 1): pool sizes are then
    ``official_pool_sizes`` and the data on disk is neither read nor checked."""
    return environ.get(PLANNING_ENV) == "1"


def official_pool_sizes(name: str, settings: Mapping[str, object] | None = None) -> tuple[int, int]:
    """(train, test) pool sizes of ``name`` from ``DATASETS``, for planning before the data is on
    disk (``make plan``); ``settings`` are ignored: nothing is read."""
    pools = DATASETS[name]
    return pools.train, pools.test


def train_seconds(
    device: str,
    dataset: str,
    arch: str,
    width: int,
    epochs: int,
    metrics_max_samples: int | None = None,
    workers: int = 0,
) -> float:
    """Compute time of a dense or ticket training at the table's rate, without ``SAFETY`` or
    start-up: every epoch trains on the member pool and evaluates the non-member pool; the end
    evaluates the member pool once more."""
    pools, speed = DATASETS[dataset], rate(device, dataset, arch, width, workers)
    cap = metrics_max_samples or math.inf
    evaluated = epochs * min(pools.test, cap) + min(pools.train, cap)
    return epochs * pools.train / speed.train + evaluated / speed.infer


def export_seconds(
    device: str, dataset: str, arch: str, width: int, workers: int = 0, queries: int = 1
) -> float:
    """Compute time of an export at the table's rate: inference on min(members, non-members)
    rows of each pool, ``queries`` times (2 with the mirror images)."""
    pools, speed = DATASETS[dataset], rate(device, dataset, arch, width, workers)
    return queries * 2 * min(pools.train, pools.test) / speed.infer


def train_minutes(
    device: str,
    dataset: str,
    arch: str,
    width: int,
    epochs: int,
    metrics_max_samples: int | None = None,
    workers: int = 0,
    attempt: int = 1,
) -> int:
    """``runtime`` of a dense or ticket training job: ``train_seconds`` with margin and start-up."""
    seconds = train_seconds(device, dataset, arch, width, epochs, metrics_max_samples, workers)
    return padded_minutes(seconds, attempt)


def export_minutes(
    device: str,
    dataset: str,
    arch: str,
    width: int,
    workers: int = 0,
    attempt: int = 1,
    queries: int = 1,
) -> int:
    """``runtime`` of an export job: ``export_seconds`` with margin and start-up."""
    seconds = export_seconds(device, dataset, arch, width, workers, queries)
    return padded_minutes(seconds, attempt)


def train_mem_mb(dataset: str, workers: int = 0, attempt: int = 1) -> int:
    """``mem_mb`` of a training or export job: torch + CUDA, and the in-memory uint8 splits
    (CIFAR, digits: twice, for the copy made while loading; Downsampled ImageNet: once plus two
    training batches, about 4.6 GB for imagenet32 and 18.6 GB for imagenet64) or the DataLoader
    workers (ImageNet). The splits are never held as float: batches are normalised on the device.
    """
    pools = DATASETS[dataset]
    if pools.decoded_by_workers:
        data_mb = max(1, workers) * WORKER_MB
    elif pools.preallocated_train_batches:
        batch = pools.train / pools.preallocated_train_batches
        rows = pools.train + pools.test + LOADING_BATCHES * batch
        data_mb = rows * pools.pixels / 2**20
    else:
        data_mb = 2 * (pools.train + pools.test) * pools.pixels / 2**20
    return math.ceil(BASE_MB + data_mb) * max(1, attempt)


def attack_fit_mem_mb(dataset: str, rows: int, attempt: int = 1, cache_mb: int = 0) -> int:
    """``mem_mb`` of an attack or transfer job fitting on ``rows`` rows of class probabilities,
    plus ``cache_mb`` the job keeps besides (the transfer job: ``TRANSFER_EVAL_CACHE_MB``).

    The transfer job streams (lottery_mia.transfer_matrix): it holds one model's training rows at
    a time and at most ``TRANSFER_EVAL_CACHE_MB`` of evaluation rows, so its memory does not grow
    with the number of models (benchmarks/transfer_memory.py)."""
    values = rows * DATASETS[dataset].classes
    fit_mb = ATTACK_BASE_MB + ATTACK_BYTES_PER_VALUE * values / 2**20
    return math.ceil(fit_mb + cache_mb) * max(1, attempt)


def shared_minutes(minutes: int, slowdown: float) -> int:
    """``runtime`` of one of the trainings that share a GPU (``compute.trainings_per_gpu`` > 1):
    its own runtime alone times the contention factor ``compute.sharing_slowdown``. A bundle asks
    SLURM for its slowest member's (Snakemake takes the maximum over members running side by
    side)."""
    return math.ceil(minutes * slowdown)


class Bundles:
    """Which bundle of up to ``size`` jobs goes to SLURM as one allocation, and each job's slot.

    A bundle is a Snakemake job group (its id, ``<stage>_<index>``) that the rules set themselves
    (rules/resources.smk), filled in the order Snakemake asks for its members. A stage holds jobs
    that never wait for each other through a job outside the group, so that the members of a
    bundle run side by side in its allocation. ``GpuBundles`` holds the training and export jobs
    of models that share one GPU, ``AttackBundles`` the ``run_attacks`` jobs of a grid."""

    #: What ``size`` counts, for the error message.
    member = "job"

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a bundle holds at least one {self.member}, not {size}")
        self.size = size
        self._placed: dict[Hashable, tuple[str, int]] = {}
        self._filled: dict[str, int] = {}

    def place(self, stage: str, member: Hashable) -> tuple[str, int]:
        """(group id, slot) of ``member`` in ``stage``; the same answer every time it is asked."""
        if member not in self._placed:
            count = self._filled.get(stage, 0)
            self._filled[stage] = count + 1
            self._placed[member] = (f"{stage}_{count // self.size}", count % self.size)
        return self._placed[member]


class GpuBundles(Bundles):
    """Bundles of ``size`` models that share one GPU (``compute.trainings_per_gpu``).

    A bundle holds the training and export jobs of up to ``size`` models of one stage (one
    dataset, architecture and kind of model, so that no member depends on another through a job
    outside the group). Slot 0 asks for the bundle's GPU and the others for none: Snakemake adds
    up the integer resources of members that run side by side, so the bundle holds one GPU."""

    member = "model"


class AttackBundles(Bundles):
    """Bundles of ``size`` ``run_attacks`` jobs (``compute.attacks_per_job``), one SLURM job each.

    Attack jobs depend only on exported outputs, never on each other, so one stage holds them all.
    Every member asks for its own CPUs and memory: Snakemake adds them up for members that run
    side by side and takes the slowest member's runtime."""

    member = "attack job"


def local_gpu_present(
    environ: Mapping[str, str] = os.environ, devices: Path = Path("/dev")
) -> bool:
    """Whether this machine shows a GPU to torch, read from its device files (NVIDIA's
    ``/dev/nvidiaN``, ROCm's ``/dev/kfd``) and the variables that hide them, without importing
    torch (1.5 s of every Snakefile parse). A driver torch cannot use still reads as present: the
    job then holds a ``gpu`` slot and trains on the CPU, which costs parallelism, not results."""

    def hidden(*names: str) -> bool:
        return any(environ.get(name, "unset").strip() in ("", "-1") for name in names)

    nvidia = not hidden("CUDA_VISIBLE_DEVICES") and any(devices.glob("nvidia[0-9]*"))
    rocm = not hidden("HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES") and (devices / "kfd").exists()
    return nvidia or rocm
