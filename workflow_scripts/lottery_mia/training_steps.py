"""The training stages (w0, dense model, ticket), with plain arguments instead of ``snakemake``.

Each step reads its inputs, calls the scientific core and writes its outputs atomically, so the entry
scripts in ``workflow_scripts/`` stay thin and every step runs and is tested without Snakemake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from torch import nn

from lottery_mia.atomic import PathLike, write_json
from lottery_mia.data import Dataset
from lottery_mia.job_inputs import dataset_and_spec, load_mask
from lottery_mia.models import (
    ModelSpec,
    build_model,
    load_state_dict,
    load_weights,
    save_state_dict,
)
from lottery_mia.provenance import file_digest, provenance, stable_hash
from lottery_mia.prune.reinit import reinit_weights
from lottery_mia.pruning import Mask, masked_state, sparsity_report
from lottery_mia.training import (
    TrainResult,
    TrainSettings,
    describe_device,
    resolve_device,
    train,
)


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
    on_epoch_end: Callable[[int, nn.Module], None] | None = None,
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
        on_epoch_end=on_epoch_end,
    )
    save_state_dict(model.state_dict(), model_path)
    write_json(record_path, _train_record(result, spec, model, mask, key, settings))
    Path(checkpoint_path).unlink(missing_ok=True)


def initialise(key: Mapping[str, Any], settings: Mapping[str, Any], init_path: PathLike) -> None:
    """Stage 0: the run's initial weights w0, seeded; every ticket of the run starts from them."""
    _, spec = dataset_and_spec(key, settings)
    save_state_dict(build_model(spec, seed=key["seed"]).state_dict(), init_path)


def train_dense(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    init_path: PathLike,
    model_path: PathLike,
    record_path: PathLike,
    checkpoint_path: PathLike,
    rewind_epoch: int = 0,
    rewind_path: PathLike | None = None,
) -> None:
    """Stage 1: train the dense network from w0, record its metrics; with ``rewind_epoch`` k > 0
    also keep its weights after epoch k (``rewind_path``), where late-rewound tickets start."""
    dataset, spec = dataset_and_spec(key, settings)
    model = build_model(spec)
    load_weights(model, init_path)
    keep = None
    if rewind_epoch:
        if rewind_path is None:
            raise ValueError(f"rewind_epoch {rewind_epoch} needs a rewind_path to write w_k to")
        keep = _RewindWeights(rewind_epoch, Path(rewind_path), Path(checkpoint_path))
    _train_and_save(
        model, dataset, spec, key, settings, None, model_path, record_path, checkpoint_path,
        inputs={"w0": file_digest(init_path)}, on_epoch_end=keep,
    )  # fmt: skip
    if keep is not None:
        keep.publish()


class _RewindWeights:
    """Keeps w_k through a resume: written beside the epoch checkpoint (which Snakemake keeps when
    a job dies, unlike its outputs) and moved to the output once training has finished."""

    def __init__(self, epoch: int, path: Path, checkpoint_path: Path) -> None:
        self.epoch, self.path = epoch, path
        self.pending = checkpoint_path.with_name(f"{checkpoint_path.stem}_rewind{epoch}.pt")

    def __call__(self, epoch: int, model: nn.Module) -> None:
        if epoch == self.epoch:
            save_state_dict(model.state_dict(), self.pending)

    def publish(self) -> None:
        if not self.pending.exists():
            raise ValueError(
                f"{self.pending}: the weights after epoch {self.epoch} are missing (training "
                "resumed past it from a checkpoint of another run?); delete the dense model's "
                "train_checkpoint.pt and rerun"
            )
        self.pending.replace(self.path)


def train_ticket(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    mask_path: PathLike,
    model_path: PathLike,
    record_path: PathLike,
    checkpoint_path: PathLike,
    start_path: PathLike | None = None,
    reinit: bool = False,
) -> None:
    """Stage 3: the ticket starts from m ⊙ start (w0, or the dense run's w_k when rewinding), or
    from m ⊙ a fresh initialisation (``reinit``), and retrains with the dense schedule."""
    dataset, spec = dataset_and_spec(key, settings)
    if (start_path is None) != reinit:
        raise ValueError("a ticket starts from start_path, or from a fresh init with reinit=True")
    model = build_model(spec)
    mask = load_mask(mask_path, model)
    start = reinit_weights(spec, key["seed"]) if reinit else load_state_dict(start_path)
    try:
        model.load_state_dict(masked_state(start, mask))
    except RuntimeError as err:
        raise ValueError(f"{start_path}: does not fit the model ({err})") from err
    # A checkpoint of a ticket grown from other start weights or another mask is never resumed.
    inputs = {
        "start": "reinit" if reinit else file_digest(start_path),
        "mask": file_digest(mask_path),
    }
    _train_and_save(
        model, dataset, spec, key, settings, mask, model_path, record_path, checkpoint_path, inputs
    )
