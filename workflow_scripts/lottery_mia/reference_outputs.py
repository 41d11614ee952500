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
    for name in ("label", "member"):
        if name in expected.columns and not np.array_equal(
            batch.column(name).to_numpy(zero_copy_only=False),
            expected[name].to_numpy()[start:stop],
        ):
            raise ValueError(
                f"{source}: column {name!r} differs from the expected one in rows "
                f"{start}..{stop - 1} (member: the reference's keep column)"
            )


def read_row_statistics(
    path: PathLike,
    statistics: Sequence[Signal],
    population: pd.DataFrame,
    query_columns: Sequence[str] = ("logits",),
    block_rows: int = BLOCK_ROWS,
) -> dict[Signal, np.ndarray]:
    """One model's statistics per population row, in one pass over the file: float32 (rows,) or
    (rows, Q) for Q > 1 queries, keyed by statistic.

    ``population`` has ``sample_id`` and ``pool`` (and optionally ``label`` and ``member``, the
    reference's keep column) in the outputs' row order; the file must list exactly those rows in
    that order, with those values (checked block by block).
    """
    source = str(path)
    columns = ["sample_id", "pool", "label", *query_columns]
    if "member" in population.columns:
        columns.append("member")
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"{source}: not a readable parquet file ({err})") from err
    missing = [name for name in columns if name not in parquet.schema_arrow.names]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; needed {columns}")
    results = {
        statistic: np.empty((len(population), len(query_columns)), dtype=np.float32)
        for statistic in statistics
    }
    start = 0
    for batch in parquet.iter_batches(batch_size=block_rows, columns=columns):
        _check_block_identity(batch, population, start, source)
        labels = batch.column("label").to_numpy(zero_copy_only=False)
        rows = slice(start, start + batch.num_rows)
        for query, name in enumerate(query_columns):
            logits = _logits_block(batch.column(name), source, name)
            for statistic, result in results.items():
                result[rows, query] = membership_signal(logits, labels, statistic)
        start += batch.num_rows
    if start != len(population):
        raise ValueError(f"{source}: {start} rows; expected the {len(population)} population rows")
    single = len(query_columns) == 1
    return {name: result[:, 0] if single else result for name, result in results.items()}


def read_row_statistic(
    path: PathLike,
    statistic: Signal,
    population: pd.DataFrame,
    query_columns: Sequence[str] = ("logits",),
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """One statistic of ``read_row_statistics``."""
    return read_row_statistics(path, (statistic,), population, query_columns, block_rows)[statistic]


def reference_statistic_matrices(
    paths: Sequence[PathLike],
    statistics: Sequence[Signal],
    population: pd.DataFrame,
    keep: np.ndarray | None = None,
    query_columns: Sequence[str] = ("logits",),
    block_rows: int = BLOCK_ROWS,
) -> dict[Signal, np.ndarray]:
    """The (K, rows[, Q]) float32 matrix of each statistic, reading one reference at a time.

    With ``keep`` (K, rows), reference k's ``member`` column must equal ``keep[k]``.
    """
    if not paths:
        raise ValueError("no reference outputs given; expected one outputs.parquet per reference")
    if keep is not None and np.shape(keep) != (len(paths), len(population)):
        raise ValueError(
            f"keep has shape {np.shape(keep)}; expected ({len(paths)}, {len(population)}): "
            "one column per reference output given"
        )
    shape = (len(paths), len(population)) + (
        (len(query_columns),) if len(query_columns) > 1 else ()
    )
    matrices = {statistic: np.empty(shape, dtype=np.float32) for statistic in statistics}
    for k, path in enumerate(paths):
        expected = population if keep is None else population.assign(member=keep[k])
        values = read_row_statistics(path, statistics, expected, query_columns, block_rows)
        for statistic, matrix in matrices.items():
            matrix[k] = values[statistic]
    return matrices


def reference_statistic_matrix(
    paths: Sequence[PathLike],
    statistic: Signal,
    population: pd.DataFrame,
    query_columns: Sequence[str] = ("logits",),
    block_rows: int = BLOCK_ROWS,
) -> np.ndarray:
    """The (K, rows[, Q]) float32 matrix of one statistic (``reference_statistic_matrices``)."""
    return reference_statistic_matrices(
        paths, (statistic,), population, None, query_columns, block_rows
    )[statistic]
