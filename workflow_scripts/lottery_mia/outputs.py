"""Export a model's outputs on the selected attack samples to ``outputs.parquet``."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch import nn
from torch.nn import functional

from lottery_mia.atomic import atomic_path
from lottery_mia.data import Dataset, SamplePool
from lottery_mia.outputs_table import FLIPPED_COLUMN, output_schema
from lottery_mia.selection import SampleSelection
from lottery_mia.training import TrainSettings


def _list_column(logits: torch.Tensor) -> pa.ListArray:
    """(rows, classes) logits as a list<float32> column, without a Python object per value."""
    n_rows, n_classes = logits.shape
    flat = pa.array(logits.float().cpu().numpy().reshape(-1), type=pa.float32())
    offsets = pa.array(np.arange(0, (n_rows + 1) * n_classes, n_classes, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, flat)


def _batch_table(
    ids: np.ndarray, first_position: int, pool_name: str, eval_per_pool: int,
    labels: torch.Tensor, logits: torch.Tensor, member: np.ndarray,
    flipped_logits: torch.Tensor | None = None,
) -> pa.Table:  # fmt: skip
    logits = logits.float()
    losses = functional.cross_entropy(logits, labels, reduction="none")
    correct = logits.argmax(dim=1) == labels
    n_rows = logits.shape[0]
    positions = np.arange(first_position, first_position + n_rows)
    columns = {
        "sample_id": pa.array(ids.astype(np.int64)),
        "pool": pa.array([pool_name] * n_rows, type=pa.string()),
        "member": pa.array(member),
        "label": pa.array(labels.cpu().numpy().astype(np.int64)),
        "logits": _list_column(logits),
        "loss": pa.array(losses.cpu().numpy().astype(np.float32)),
        "correct": pa.array(correct.cpu().numpy()),
        "attack_eval": pa.array(positions < eval_per_pool),
    }
    if flipped_logits is not None:
        columns[FLIPPED_COLUMN] = _list_column(flipped_logits)
    return pa.Table.from_pydict(columns, schema=output_schema(flipped_logits is not None))


def float32_logits(model: nn.Module, images: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """Logits of a plain float32 forward pass, never under the training autocast.

    The attacks compare small differences in loss and confidence between members and
    non-members; bfloat16 keeps 8 bits of mantissa and would round much of that signal away.
    """
    if settings.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return model(images.float()).float()


@torch.inference_mode()
def _write_pool(
    writer: pq.ParquetWriter, model: nn.Module, pool: SamplePool, pool_name: str,
    ids: np.ndarray, eval_per_pool: int, settings: TrainSettings, device: torch.device,
    member: np.ndarray, flip: bool,
) -> None:  # fmt: skip
    position = 0
    batch_size = settings.eval_batch_size
    for images, labels in pool.batches(ids, batch_size, device, augment=False):
        logits = float32_logits(model, images, settings)
        # The mirror image: width is the last axis of (N, C, H, W) whatever the memory format.
        flipped = float32_logits(model, images.flip(-1), settings) if flip else None
        rows = slice(position, position + len(labels))
        identity = (ids[rows], position, pool_name, eval_per_pool, labels)
        writer.write_table(_batch_table(*identity, logits, member[rows], flipped))
        position += len(labels)


def export_outputs(
    model: nn.Module,
    dataset: Dataset,
    selection: SampleSelection,
    settings: TrainSettings,
    device: torch.device,
    path: str | os.PathLike[str],
    member: np.ndarray | None = None,
    flip: bool = False,
) -> None:
    """Write the model's outputs on the selected samples, batch by batch, in eval mode, atomically.

    Memory stays bounded by one batch: rows go to the parquet writer as they are computed.
    ``member`` (bool, one per exported row: train ids, then test ids) says which rows the model
    trained on; by default the train pool's (a target), for a reference its keep column.
    ``flip``: also the logits of each image mirrored left to right (``logits_flipped``).
    """
    n_train = len(selection.train_ids)
    if member is None:
        member = np.arange(n_train + len(selection.test_ids)) < n_train
    if member.dtype != np.bool_ or member.shape != (n_train + len(selection.test_ids),):
        raise ValueError(f"member has shape {member.shape}; expected one bool per exported row")
    model.eval()
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, output_schema(flip)) as writer:
        for pool_name, pool, ids, pool_member in (
            ("train", dataset.train, selection.train_ids, member[:n_train]),
            ("test", dataset.test, selection.test_ids, member[n_train:]),
        ):
            _write_pool(
                writer, model, pool, pool_name, ids, selection.eval_per_pool, settings, device,
                pool_member, flip,
            )  # fmt: skip
