"""Memory-flat reading of reference models' outputs: one float32 statistic per row per model.

LiRA and RMIA need, for every reference model, one number per row: φ (the logit-scaled true-class
confidence) or log p_y. At paper scale (K = 16 references x 10 sparsities x 60k rows x up to
1000 classes) holding every reference's logits at once would not fit, so each reference's
``outputs.parquet`` is streamed in row blocks of only the columns needed (``sample_id``, ``pool``,
``label`` and the logits column(s)), reduced to its statistic at once, and only the (K, rows)
float32 matrix of statistics is kept.

Statistics (``membership_signals``): ``logit_scaled`` (φ, for LiRA) or ``loss`` (= log p_y, the
negated cross-entropy, for RMIA; kept in log space so that tiny probabilities survive float32).
Query columns: ``("logits",)`` by default; with flip-query augmentation an outputs file would
carry a second logits column (e.g. ``logits_flipped``), and the statistic gains a trailing query
axis Q, the shape ``lira`` expects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lottery_mia.atomic import PathLike
from lottery_mia.membership_signals import Signal, membership_signal

#: Rows per block read from parquet: bounds memory at block_rows x classes floats per column.
BLOCK_ROWS = 8192


def _logits_block(column: pa.ChunkedArray | pa.Array, source: str, name: str) -> np.ndarray:
    """A list<float32> column as a (rows, classes) float32 array (every row the same length)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
    if lengths.size == 0:
        return np.empty((0, 0), dtype=np.float32)
    if lengths.min() != lengths.max() or lengths.min() < 2:
        raise ValueError(
            f"{source}: column {name!r} rows have {lengths.min()}..{lengths.max()} values; "
            "expected the same number of classes (>= 2) in every row"
        )
    values = array.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return values.reshape(lengths.size, int(lengths[0]))


def _check_block_identity(
    batch: pa.RecordBatch, expected: pd.DataFrame, start: int, source: str
) -> None:
    stop = start + batch.num_rows
    if stop > len(expected):
        raise ValueError(f"{source}: more rows than the {len(expected)} population rows")
    ids = batch.column("sample_id").to_numpy(zero_copy_only=False)
    pools = np.asarray(batch.column("pool").to_pylist(), dtype=object)
    same_ids = np.array_equal(ids, expected["sample_id"].to_numpy()[start:stop])
    same_pools = np.array_equal(pools, expected["pool"].to_numpy(dtype=object)[start:stop])
    if not (same_ids and same_pools):
        raise ValueError(
            f"{source}: rows {start}..{stop - 1} are not the population's (pool, sample_id) in "
            "order; every model of a dataset must be queried on the same rows in the same order"
        )
    if "label" in expected.columns:
        labels = batch.column("label").to_numpy(zero_copy_only=False)
        if not np.array_equal(labels, expected["label"].to_numpy()[start:stop]):
            raise ValueError(
                f"{source}: labels differ from the population's in rows {start}..{stop - 1}"
            )


def read_row_statistic(
    path: PathLike,
    statistic: Signal,
    population: pd.DataFrame,
    query_columns: Sequence[str] = ("logits",),
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """One model's statistic per population row: float32 (rows,) or (rows, Q) for Q > 1 queries.

    ``population`` has ``sample_id`` and ``pool`` (and optionally ``label``) in the outputs' row
    order; the file must list exactly those rows in that order (checked block by block).
    """
    source = str(path)
    columns = ["sample_id", "pool", "label", *query_columns]
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"{source}: not a readable parquet file ({err})") from err
    missing = [name for name in columns if name not in parquet.schema_arrow.names]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; needed {columns}")
    result = np.empty((len(population), len(query_columns)), dtype=np.float32)
    start = 0
    for batch in parquet.iter_batches(batch_size=block_rows, columns=columns):
        _check_block_identity(batch, population, start, source)
        labels = batch.column("label").to_numpy(zero_copy_only=False)
        for query, name in enumerate(query_columns):
            logits = _logits_block(batch.column(name), source, name)
            result[start : start + batch.num_rows, query] = membership_signal(
                logits, labels, statistic
            )
        start += batch.num_rows
    if start != len(population):
        raise ValueError(f"{source}: {start} rows; expected the {len(population)} population rows")
    return result[:, 0] if len(query_columns) == 1 else result


def reference_statistic_matrix(
    paths: Sequence[PathLike],
    statistic: Signal,
    population: pd.DataFrame,
    query_columns: Sequence[str] = ("logits",),
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """The (K, rows[, Q]) float32 matrix of ``statistic``, reading one reference at a time."""
    if not paths:
        raise ValueError("no reference outputs given; expected one outputs.parquet per reference")
    shape = (len(paths), len(population)) + (
        (len(query_columns),) if len(query_columns) > 1 else ()
    )
    matrix = np.empty(shape, dtype=np.float32)
    for k, path in enumerate(paths):
        matrix[k] = read_row_statistic(path, statistic, population, query_columns, block_rows)
    return matrix
