"""Stage 2, the mask of one ticket, with plain arguments instead of ``snakemake``.

``prune`` reads what the method needs (``pruning_plan.METHODS``: the trained dense model, the
previous IMP round's ticket, or only w0), calls the method (``pruning``, ``pruning_methods``) and
writes the mask atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.models import build_model, load_weights
from lottery_mia.pruning import Mask, global_magnitude_mask, random_mask_like, select_global
from lottery_mia.pruning_methods import (
    Batch,
    grasp_scores,
    imp_mask,
    snip_scores,
    synflow_mask,
)
from lottery_mia.pruning_plan import METHODS, imp_round
from lottery_mia.training_steps import _dataset_and_spec, _spec_from_record, load_mask

log = logging.getLogger(__name__)


def prune(
    method: str,
    sparsity: float,
    settings: Mapping[str, Any],
    key: Mapping[str, Any],
    mask_path: PathLike,
    dense_model_path: PathLike | None = None,
    dense_record_path: PathLike | None = None,
    init_path: PathLike | None = None,
    previous_model_path: PathLike | None = None,
    previous_mask_path: PathLike | None = None,
) -> None:
    """Stage 2: the mask of the ``method`` ticket at ``sparsity``, exactly round(sparsity * N)
    prunable weights removed."""
    if method not in METHODS:
        raise ValueError(f"unknown pruning method {method!r}; expected one of {sorted(METHODS)}")
    exclude = settings["exclude"]
    if not METHODS[method].needs_dense:
        mask = _mask_at_init(method, sparsity, settings, key, _required(init_path, "init_path"))
    elif method == "imp":
        mask = _imp_round_mask(
            sparsity, settings, dense_model_path, dense_record_path,
            previous_model_path, previous_mask_path,
        )  # fmt: skip
    else:
        dense = _load(_required(dense_model_path, "dense_model_path"), dense_record_path)
        mask = global_magnitude_mask(dense, sparsity, exclude)
        if method == "random":
            mask = random_mask_like(mask, seed=key["seed"])
    kept = sum(int(layer.sum()) for layer in mask.values())
    total = sum(layer.numel() for layer in mask.values())
    log.info("%s mask keeps %d of %d prunable weights (sparsity %.6f)", method, kept, total,
             1 - kept / total)  # fmt: skip
    with atomic_path(mask_path) as tmp:
        torch.save(mask, tmp)


def _required(path: PathLike | None, name: str) -> PathLike:
    if path is None:
        raise ValueError(f"this pruning method needs {name}")
    return path


def _load(model_path: PathLike, record_path: PathLike | None) -> nn.Module:
    model = build_model(_spec_from_record(_required(record_path, "dense_record_path")))
    load_weights(model, model_path)
    return model


def _imp_round_mask(
    sparsity: float,
    settings: Mapping[str, Any],
    dense_model_path: PathLike | None,
    dense_record_path: PathLike | None,
    previous_model_path: PathLike | None,
    previous_mask_path: PathLike | None,
) -> Mask:
    """Round r prunes the round r - 1 ticket's trained weights inside its mask (round 1: dense)."""
    round_ = imp_round(sparsity, settings["imp_rate"])
    if round_ == 1:
        trained = _load(_required(dense_model_path, "dense_model_path"), dense_record_path)
        return imp_mask(trained, 1, settings["imp_rate"], None, settings["exclude"])
    trained = _load(_required(previous_model_path, "previous_model_path"), dense_record_path)
    previous = load_mask(_required(previous_mask_path, "previous_mask_path"), trained)
    return imp_mask(trained, round_, settings["imp_rate"], previous, settings["exclude"])


def _mask_at_init(
    method: str,
    sparsity: float,
    settings: Mapping[str, Any],
    key: Mapping[str, Any],
    init_path: PathLike,
) -> Mask:
    """SNIP, GraSP or SynFlow scores of w0 (seeded training batches; SynFlow needs none).

    On the CPU: one job of a few forward and backward passes (SynFlow: of a single input).
    """
    dataset, spec = _dataset_and_spec(key, settings)
    model = build_model(spec)
    load_weights(model, init_path)
    exclude = settings["exclude"]
    if method == "synflow":
        shape = (spec.in_channels, spec.image_size, spec.image_size)
        return synflow_mask(model, sparsity, shape, exclude, rounds=settings["synflow_rounds"])
    batches = _score_batches(dataset.train, settings, key["seed"], torch.device("cpu"))
    scores = (
        snip_scores(model, batches, exclude)
        if method == "snip"
        else grasp_scores(model, batches, exclude)
    )
    return select_global(scores, sparsity)


def _score_batches(
    pool: Any, settings: Mapping[str, Any], seed: int, device: torch.device
) -> list[Batch]:
    """``score_batches`` seeded batches of the training pool (without augmentation)."""
    size = settings["batch_size"] * settings["score_batches"]
    order = np.random.default_rng(seed).permutation(len(pool))[:size]
    return list(pool.batches(order, settings["batch_size"], device, augment=False))
