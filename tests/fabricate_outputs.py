"""Fabricated ``outputs.parquet`` files in the real contract, for transfer tests and benchmarks.

Rows are written in row groups of ``rows_per_group``, as ``export_outputs`` writes one per batch.
Every file of one ``sample_seed`` holds the same samples in the same order; ``member_margin``
sets how much more confident the fabricated model is on members (its vulnerability).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_mia.outputs_table import OUTPUT_SCHEMA


def _pool_table(
    rng: np.random.Generator,
    labels: np.ndarray,
    pool: str,
    eval_per_pool: int,
    n_classes: int,
    member_margin: float,
) -> pa.Table:
    n_rows = labels.size
    member = pool == "train"
    logits = rng.normal(0.0, 1.0, size=(n_rows, n_classes)).astype(np.float32)
    margin = (member_margin if member else 2.0) + rng.normal(0.0, 1.5, size=n_rows)
    logits[np.arange(n_rows), labels] += margin.astype(np.float32)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    offsets = np.arange(0, (n_rows + 1) * n_classes, n_classes, dtype=np.int32)
    columns = {
        "sample_id": pa.array(np.arange(n_rows, dtype=np.int64)),
        "pool": pa.array([pool] * n_rows, type=pa.string()),
        "member": pa.array(np.full(n_rows, member)),
        "label": pa.array(labels.astype(np.int64)),
        "logits": pa.ListArray.from_arrays(offsets, pa.array(logits.reshape(-1))),
        "loss": pa.array(-log_probs[np.arange(n_rows), labels].astype(np.float32)),
        "correct": pa.array(logits.argmax(axis=1) == labels),
        "attack_eval": pa.array(np.arange(n_rows) < eval_per_pool),
    }
    return pa.Table.from_pydict(columns, schema=OUTPUT_SCHEMA)


def write_outputs(
    path: Path,
    per_pool: int,
    n_classes: int,
    eval_size: int,
    member_margin: float = 4.0,
    seed: int = 0,
    sample_seed: int = 0,
    rows_per_group: int = 512,
) -> Path:
    """Write one model's outputs: ``per_pool`` members, then ``per_pool`` non-members."""
    label_rng = np.random.default_rng(sample_seed)
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, OUTPUT_SCHEMA) as writer:
        for pool in ("train", "test"):
            labels = label_rng.integers(0, n_classes, size=per_pool)
            table = _pool_table(rng, labels, pool, eval_size // 2, n_classes, member_margin)
            writer.write_table(table, row_group_size=rows_per_group)
    return path
