"""The GPU stages (train, prune, ticket, export), with plain arguments instead of ``snakemake``.

Each step reads its inputs, calls the scientific core and writes its outputs atomically, so the entry
scripts in ``workflow_scripts/`` stay thin and every step runs and is tested without Snakemake.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lottery_mia import outputs
from lottery_mia.atomic import PathLike, atomic_path, read_json, write_json
from lottery_mia.data import Dataset, DatasetInfo, load_dataset
from lottery_mia.data.reference_pool import reference_dataset
from lottery_mia.models import (
    ModelSpec,
    build_model,
    load_state_dict,
    load_weights,
    save_state_dict,
)
from lottery_mia.provenance import file_digest, provenance, stable_hash
from lottery_mia.pruning import Mask, global_magnitude_mask, sparsity_report, validate_mask
from lottery_mia.reference_keep import reference_population
from lottery_mia.selection import select_samples
from lottery_mia.training import (
    TrainResult,
    TrainSettings,
    describe_device,
    prepare_model,
    resolve_device,
    train,
)

log = logging.getLogger(__name__)


def _model_spec(arch: str, info: DatasetInfo, model_settings: Mapping[str, Any]) -> ModelSpec:
    return ModelSpec(
        arch=arch,
        num_classes=info.num_classes,
        in_channels=info.in_channels,
        image_size=info.image_size,
        width=model_settings["width"],
        zero_init_residual=model_settings["zero_init_residual"],
    )


def _dataset_and_spec(
    key: Mapping[str, Any], settings: Mapping[str, Any]
) -> tuple[Dataset, ModelSpec]:
    """The job's data and the model spec it implies (classes, channels, image size, width).

    A reference model (``settings["reference"]``) trains on its keep-half of the exported rows
    plus the unexported train-pool rows (``data.reference_pool``); its "test" pool is its OUT half.
    """
    dataset = load_dataset(key["dataset"], settings["data"])
    spec = _model_spec(key["arch"], dataset.info, settings["model"])
    reference = settings.get("reference")
    if reference is None:
        return dataset, spec
    train_ids, test_ids, keep = reference_population(
        reference, len(dataset.train), len(dataset.test)
    )
    log.info(
        "reference %d trains on %d of %d exported rows plus %d unexported train-pool rows",
        reference["index"], int(keep.sum()), keep.size, len(dataset.train) - len(train_ids),
    )  # fmt: skip
    return reference_dataset(dataset, train_ids, test_ids, keep), spec


def _spec_from_record(record_path: PathLike) -> ModelSpec:
    record = read_json(record_path)
    try:
        return ModelSpec(**record["model_spec"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{record_path}: no valid 'model_spec' entry ({err})") from err


def sparsity_fields(model: nn.Module, mask: Mask | None) -> dict[str, Any]:
    """What ``train.json`` says about sparsity. ``achieved_sparsity`` is the pruned fraction of the
    *prunable* weights (the grid's sparsity axis; excluded layers such as ``fc`` are not in it);
    ``achieved_sparsity_all_parameters`` is the zero fraction of every parameter (biases,
    BatchNorm and excluded layers included): what the model really stores."""
    report = sparsity_report(model, mask)
    return {
        "sparsity_report": report.as_dict(),
        "achieved_sparsity": report.prunable_sparsity,
        "achieved_sparsity_all_parameters": report.overall_sparsity,
    }


def _train_record(
    result: TrainResult,
    spec: ModelSpec,
    model: nn.Module,
    mask: Mask | None,
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        **key,
        **asdict(result),
        "model_spec": asdict(spec),
        **sparsity_fields(model, mask),
        "device": describe_device(resolve_device(settings["training"]["device"])),
        "provenance": provenance(settings, seed=key["seed"]),
    }


def _train_and_save(
    model: nn.Module,
    dataset: Dataset,
    spec: ModelSpec,
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    mask: Mask | None,
    model_path: PathLike,
    record_path: PathLike,
    checkpoint_path: PathLike,
    inputs: Mapping[str, str] | None = None,
) -> None:
    """Train with epoch checkpoints, then write weights and record; the checkpoint goes last.

    The checkpoint's fingerprint covers the job's key and parameters and, through ``inputs``,
    digests of the files it starts from.
    """
    result = train(
        model,
        dataset,
        TrainSettings.from_config(settings["training"]),
        seed=key["seed"],
        mask=mask,
        checkpoint=Path(checkpoint_path),
        fingerprint=stable_hash({**key, **settings, **(inputs or {})}),
    )
    save_state_dict(model.state_dict(), model_path)
    write_json(record_path, _train_record(result, spec, model, mask, key, settings))
    Path(checkpoint_path).unlink(missing_ok=True)


def train_dense(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    init_path: PathLike,
    model_path: PathLike,
    record_path: PathLike,
    checkpoint_path: PathLike,
) -> None:
    """Stage 1: initialise w0 (saved before any step), train the dense network, record its metrics."""
    dataset, spec = _dataset_and_spec(key, settings)
    model = build_model(spec, seed=key["seed"])
    save_state_dict(model.state_dict(), init_path)
    _train_and_save(
        model, dataset, spec, key, settings, None, model_path, record_path, checkpoint_path
    )


def prune(
    sparsity: float,
    exclude: Sequence[str],
    dense_model_path: PathLike,
    dense_record_path: PathLike,
    mask_path: PathLike,
) -> None:
    """Stage 2: one-shot global magnitude mask of the trained dense weights."""
    model = build_model(_spec_from_record(dense_record_path))
    load_weights(model, dense_model_path)
    mask = global_magnitude_mask(model, sparsity, exclude)
    kept = sum(int(layer.sum()) for layer in mask.values())
    total = sum(layer.numel() for layer in mask.values())
    log.info("mask keeps %d of %d prunable weights (sparsity %.4f)", kept, total, 1 - kept / total)
    with atomic_path(mask_path) as tmp:
        torch.save(mask, tmp)


def load_mask(path: PathLike, model: nn.Module) -> Mask:
    return validate_mask(model, load_state_dict(path), str(path))


def train_ticket(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    init_path: PathLike,
    mask_path: PathLike,
    dense_record_path: PathLike,
    model_path: PathLike,
    record_path: PathLike,
    checkpoint_path: PathLike,
) -> None:
    """Stage 3: rewind to w0 under the mask (m ⊙ w0) and retrain with the dense schedule."""
    dataset, spec = _dataset_and_spec(key, settings)
    if spec != _spec_from_record(dense_record_path):
        raise ValueError(f"{dense_record_path}: the dense model was built with another model spec")
    model = build_model(spec)
    load_weights(model, init_path)
    mask = load_mask(mask_path, model)
    # A checkpoint of a ticket grown from another w0 or mask must never be resumed.
    inputs = {"w0": file_digest(init_path), "mask": file_digest(mask_path)}
    _train_and_save(
        model, dataset, spec, key, settings, mask, model_path, record_path, checkpoint_path, inputs
    )


def export_outputs(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    model_path: PathLike,
    record_path: PathLike,
    outputs_path: PathLike,
) -> None:
    """Stage 4: the model's logits, loss and correctness on the fixed attack samples, in eval mode."""
    dataset = load_dataset(key["dataset"], settings["data"])
    model = build_model(_spec_from_record(record_path))
    load_weights(model, model_path)
    train_settings = TrainSettings.from_config(settings["training"])
    device = resolve_device(train_settings.device)
    prepare_model(model, device, train_settings.uses_channels_last(device))
    selection = select_samples(
        len(dataset.train),
        len(dataset.test),
        eval_size=settings["eval_size"],
        max_per_pool=settings["outputs"]["max_per_pool"],
        seed=settings["outputs"]["selection_seed"],
    )
    member = None
    if "reference" in settings:  # a reference's members are its keep-half, not the train pool
        *_, member = reference_population(
            settings["reference"], len(dataset.train), len(dataset.test)
        )
    log.info(
        "exporting %d train-pool and %d test-pool rows", selection.per_pool, selection.per_pool
    )
    outputs.export_outputs(
        model, dataset, selection, train_settings, device, outputs_path, member=member
    )
