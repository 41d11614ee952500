"""Seeded SGD training with masks that hold, epoch checkpoints that resume, and device selection.

Randomness comes only from per-epoch generators seeded by ``(seed, epoch)``: a run resumed from
the checkpoint of epoch k draws exactly the batches and augmentations an uninterrupted run draws.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from lottery_mia.atomic import atomic_path
from lottery_mia.data import Dataset, SamplePool
from lottery_mia.pruning import MaskEnforcer

log = logging.getLogger(__name__)
SCHEDULES = ("cosine", "step", "constant")


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the config's ``training`` section, checked by the
    config gate; the defaults equal the schema's, which a test checks)."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.9
    weight_decay: float = 5e-4
    nesterov: bool = False
    schedule: str = "cosine"
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    warmup_epochs: int = 0
    device: str = "auto"
    channels_last: bool | str = "auto"  # "auto": only on CUDA (see uses_channels_last)
    amp: bool = True
    eval_batch_size: int = 512
    metrics_max_samples: int | None = None

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> TrainSettings:
        known = {name for name in cls.__dataclass_fields__}
        values = {key: value for key, value in section.items() if key in known}
        if "milestones" in values:
            values["milestones"] = tuple(values["milestones"])
        return cls(**values)

    def uses_channels_last(self, device: torch.device) -> bool:
        """``auto`` means CUDA only: there it pays, while on the CPU oneDNN's AVX2 path corrupts
        the heap in the weight gradient of narrow strided 1x1 convs (docs/known_issues.md)."""
        if self.channels_last == "auto":
            return device.type == "cuda"
        return bool(self.channels_last)


def learning_rate(epoch: int, step: int, steps_per_epoch: int, settings: TrainSettings) -> float:
    """Learning rate of optimiser step ``step`` (0-based) of ``epoch`` (0-based).

    Warm-up rises linearly per step, from ``lr / W`` at the first step to ``lr`` at step W, the
    last of the ``warmup_epochs`` epochs (W steps in all; Goyal et al. 2017): a per-epoch ramp
    would run all of epoch 0 at the full rate when ``warmup_epochs`` is 1. After the warm-up the
    configured schedule runs per epoch over the remaining epochs.
    """
    warmup_steps = settings.warmup_epochs * steps_per_epoch
    done_steps = epoch * steps_per_epoch + step
    if done_steps < warmup_steps:
        return settings.lr * (done_steps + 1) / warmup_steps
    if settings.schedule == "constant":
        return settings.lr
    progress = (epoch - settings.warmup_epochs) / max(1, settings.epochs - settings.warmup_epochs)
    if settings.schedule == "cosine":
        return settings.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    passed = sum(progress >= milestone for milestone in settings.milestones)
    return settings.lr * settings.gamma**passed


def resolve_device(requested: str) -> torch.device:
    """``auto``/``cuda`` use CUDA when it is really there; otherwise the CPU, with a warning for ``cuda``.

    A GPU-tagged cluster job that lands on a node without a usable CUDA device must not crash.
    """
    if requested == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if requested == "cuda":
        log.warning("device 'cuda' requested but torch.cuda.is_available() is false: using the CPU")
    return torch.device("cpu")


def describe_device(device: torch.device) -> dict[str, Any]:
    """What a log or record should say about where a job ran (GPU name, visible devices, SLURM job)."""
    info: dict[str, Any] = {"device": str(device)}
    if device.type == "cuda":
        info["gpu_name"] = torch.cuda.get_device_name(device)
    for variable in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID", "SLURM_JOB_GPUS", "SLURM_GPUS"):
        if variable in os.environ:
            info[variable] = os.environ[variable]
    return info


@dataclass
class TrainResult:
    """What ``train.json`` reports besides provenance."""

    train_accuracy: float
    train_loss: float
    test_accuracy: float
    test_loss: float
    test_rows: int  # how many test rows ``test_accuracy`` counts (its interval's n)
    epochs: int
    seconds: float
    resumed_from_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def _metrics_indices(pool: SamplePool, limit: int | None, seed: int) -> np.ndarray:
    """All indices of ``pool``, or a fixed seeded subset of ``limit`` of them (huge pools)."""
    if limit is None or limit >= len(pool):
        return np.arange(len(pool))
    return np.sort(np.random.default_rng(seed).permutation(len(pool))[:limit])


def prepare_model(model: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    pool: SamplePool,
    indices: np.ndarray,
    settings: TrainSettings,
    device: torch.device,
) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of ``model`` in eval mode on ``pool[indices]``."""
    model.eval()
    correct = 0
    loss_sum = 0.0
    for images, labels in pool.batches(indices, settings.eval_batch_size, device, augment=False):
        logits = forward_batch(model, images, settings, device)
        loss_sum += functional.cross_entropy(logits.float(), labels, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == labels).sum())
    return correct / len(indices), loss_sum / len(indices)


def forward_batch(
    model: nn.Module, images: torch.Tensor, settings: TrainSettings, device: torch.device
) -> torch.Tensor:
    if settings.uses_channels_last(device):
        images = images.contiguous(memory_format=torch.channels_last)
    use_amp = settings.amp and device.type == "cuda"
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
        return model(images)


def _save_checkpoint(
    path: Path,
    fingerprint: str,
    epoch: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    history: list[dict[str, float]],
) -> None:
    state = {
        "fingerprint": fingerprint,
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(
    path: Path, fingerprint: str, model: nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[int, list[dict[str, float]]]:
    """Restore model and optimiser from ``path``; return the next epoch and the history so far.

    A checkpoint left by a run with other settings (another ``fingerprint``) is ignored: resuming it
    would silently mix two experiments.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError, EOFError, RuntimeError, ...
        raise ValueError(
            f"{path}: not a loadable weights-only training checkpoint ({type(err).__name__}: {err}); "
            "delete it to restart training from epoch 1"
        ) from err
    if not isinstance(state, dict) or state.get("fingerprint") != fingerprint:
        log.warning("ignoring %s: it was written by a run with other settings", path)
        return 0, []
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]) + 1, list(state["history"])


def train(
    model: nn.Module,
    dataset: Dataset,
    settings: TrainSettings,
    seed: int,
    mask: Mapping[str, torch.Tensor] | None = None,
    checkpoint: Path | None = None,
    fingerprint: str = "",
    on_epoch_end: Callable[[int, nn.Module], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place with SGD; pruned weights (``mask``) stay exactly zero throughout.

    With ``checkpoint``, state is saved atomically after every epoch, and a run finding a checkpoint
    with the same ``fingerprint`` (a hash of everything that shapes the run) resumes from it.
    ``on_epoch_end(k, model)`` runs after epoch k (1-based) and before its checkpoint, e.g. to keep
    the weights w_k a late-rewound ticket starts from; epochs skipped by a resume do not call it.
    """
    started = time.perf_counter()
    device = resolve_device(settings.device)
    log.info("training on %s", describe_device(device))
    prepare_model(model, device, settings.uses_channels_last(device))
    enforcer = MaskEnforcer(model, mask or {})
    enforcer.apply_to_weights()
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=settings.lr,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
        nesterov=settings.nesterov,
    )
    first_epoch, history = 0, []
    if checkpoint is not None and checkpoint.exists():
        first_epoch, history = _load_checkpoint(checkpoint, fingerprint, model, optimizer)
        if first_epoch:
            log.info("resumed from %s at epoch %d", checkpoint, first_epoch + 1)
    train_pool, test_pool = dataset.train, dataset.test
    test_indices = _metrics_indices(test_pool, settings.metrics_max_samples, seed)
    for epoch in range(first_epoch, settings.epochs):
        epoch_stats = _train_one_epoch(
            model, train_pool, optimizer, enforcer, settings, seed, epoch, device
        )
        epoch_stats["test_accuracy"], epoch_stats["test_loss"] = evaluate(
            model, test_pool, test_indices, settings, device
        )
        history.append(epoch_stats)
        log.info(
            "epoch %d/%d lr %.4g train_loss %.4f train_acc %.4f test_acc %.4f",
            epoch + 1, settings.epochs, epoch_stats["lr"], epoch_stats["train_loss"],
            epoch_stats["train_accuracy"], epoch_stats["test_accuracy"],
        )  # fmt: skip
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, model)
        if checkpoint is not None:
            _save_checkpoint(checkpoint, fingerprint, epoch, model, optimizer, history)
    train_indices = _metrics_indices(train_pool, settings.metrics_max_samples, seed)
    train_accuracy, train_loss = evaluate(model, train_pool, train_indices, settings, device)
    # The last epoch already evaluated the final weights on the test pool (also when resumed).
    test_accuracy, test_loss = history[-1]["test_accuracy"], history[-1]["test_loss"]
    return TrainResult(
        train_accuracy=train_accuracy,
        train_loss=train_loss,
        test_accuracy=test_accuracy,
        test_loss=test_loss,
        test_rows=len(test_indices),
        epochs=settings.epochs,
        seconds=time.perf_counter() - started,
        resumed_from_epoch=first_epoch,
        history=history,
    )


def _train_one_epoch(
    model: nn.Module,
    pool: SamplePool,
    optimizer: torch.optim.Optimizer,
    enforcer: MaskEnforcer,
    settings: TrainSettings,
    seed: int,
    epoch: int,
    device: torch.device,
) -> dict[str, float]:
    model.train()
    generator = _epoch_generator(seed, epoch)
    order = torch.randperm(len(pool), generator=generator).numpy()
    # Drop the last incomplete batch (reshuffled each epoch, so every sample is still used):
    # BatchNorm on a handful of samples, at 1x1 resolution in the last stage, destabilises training.
    if len(order) > settings.batch_size:
        order = order[: len(order) - len(order) % settings.batch_size]
    steps_per_epoch = math.ceil(len(order) / settings.batch_size)
    seen = correct = 0
    loss_sum = 0.0
    batches = pool.batches(order, settings.batch_size, device, augment=True, generator=generator)
    for step, (images, labels) in enumerate(batches):
        lr = learning_rate(epoch, step, steps_per_epoch, settings)
        for group in optimizer.param_groups:
            group["lr"] = lr
        logits = forward_batch(model, images, settings, device)
        loss = functional.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        enforcer.apply_to_gradients()
        optimizer.step()
        enforcer.apply_to_weights()
        seen += len(labels)
        loss_sum += loss.item() * len(labels)
        correct += int((logits.argmax(dim=1) == labels).sum())
    return {
        "epoch": epoch + 1,
        "lr": lr,  # of the epoch's last step
        "train_loss": loss_sum / seen,
        "train_accuracy": correct / seen,
    }
