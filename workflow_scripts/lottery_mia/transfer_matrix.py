"""Transfer attacks: an attack trained on one model's outputs, evaluated on another model's.

This is the paper's Figure 4 (source model x target model, architectures x sparsities). Each
attack is trained once per source model and scored on every target's evaluation rows; the
diagonal is therefore exactly the ordinary attack on that model (``attack.per_model.run_attack``), with the
same bootstrap intervals. Beside the matrix (one row per model pair) the job writes Figure 4's
cells (one row per kind pair, averaged over seed pairs with intervals that count training and
row noise: ``transfer_cells``).

``transfer_matrix_from_files`` is what the rule runs: it streams, so its memory does not grow with
the number of models (benchmarks/transfer_memory.py). It holds one source's training rows, the
sample columns of the first model and targets' evaluation rows up to a fixed budget (each target
is then read once rather than once per source), never all outputs at once. Sources are taken kind
by kind, so only the cells of one source kind are open at a time, each holding running sums of
its pairs' bootstrap draws (2 x resamples numbers per metric), not the draws of every pair.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_mia.attack.base import AttackSettings, score_attack, split_attack_rows
from lottery_mia.attack.per_model import fit_attack
from lottery_mia.attack_scores import evaluation_rows
from lottery_mia.outputs_table import FLIPPED_COLUMN, OUTPUT_SCHEMA, validate_outputs
from lottery_mia.resources import TRANSFER_EVAL_CACHE_MB
from lottery_mia.stats.resampling import MetricReport
from lottery_mia.summary import METRIC_AND_INTERVAL_COLUMNS
from lottery_mia.transfer_cells import (
    CELL_COLUMNS,
    CellPairs,
    Kind,
    cell_record,
    in_cell,
    pair_metrics,
)

KEY_FIELDS: tuple[str, ...] = ("arch", "method", "sparsity", "seed")
SAMPLE_COLUMNS: tuple[str, ...] = ("sample_id", "pool", "attack_eval", "label")
LOGIT_COLUMNS: tuple[str, ...] = ("logits", FLIPPED_COLUMN)
TRANSFER_COLUMNS: tuple[str, ...] = (
    *(f"source_{field}" for field in KEY_FIELDS),
    *(f"target_{field}" for field in KEY_FIELDS),
    "attack",
    "n_samples",
    *METRIC_AND_INTERVAL_COLUMNS,
    "n_eval",
    "n_bootstrap",
    "bootstrap_seed",
)

ModelKey = Mapping[str, object]


def _describe(key: ModelKey) -> str:
    return ", ".join(f"{field}={key[field]}" for field in KEY_FIELDS if field in key)


def _normalised_key(key: ModelKey) -> tuple[str, str, float, int]:
    """(arch, method, sparsity, seed) with fixed types, so equal models compare equal.

    A key without ``method`` is the dense model (sparsity 0) or a magnitude ticket.
    """
    missing = [field for field in KEY_FIELDS if field not in key and field != "method"]
    if missing:
        raise ValueError(f"model key {dict(key)} lacks {missing}; expected keys {list(KEY_FIELDS)}")
    sparsity = float(key["sparsity"])  # type: ignore[arg-type]
    method = str(key.get("method") or ("dense" if sparsity == 0 else "magnitude"))
    return str(key["arch"]), method, sparsity, int(key["seed"])  # type: ignore[call-overload]


def check_same_samples(models: Sequence[tuple[ModelKey, pd.DataFrame]]) -> None:
    """Raise unless every model's outputs hold the same sample rows in the same order.

    A transfer only means something when source and target are attacked on identical samples;
    a mismatch is a pipeline error (outputs from different configs), never something to repair.
    """
    reference_key, reference = models[0]
    for key, outputs in models[1:]:
        if len(outputs) != len(reference):
            raise ValueError(
                f"outputs of model ({_describe(key)}) have {len(outputs)} rows but those of "
                f"({_describe(reference_key)}) have {len(reference)}; transfers need the same samples"
            )
        for column in SAMPLE_COLUMNS:
            expected = reference[column].to_numpy()
            found = outputs[column].to_numpy()
            differs = expected != found
            if differs.any():
                row = int(np.flatnonzero(differs)[0])
                raise ValueError(
                    f"outputs of model ({_describe(key)}) differ from ({_describe(reference_key)}) "
                    f"in column {column!r} at row {row} ({found[row]!r} vs {expected[row]!r}) and "
                    f"{int(differs.sum()) - 1} other row(s); transfers need the same samples in "
                    "the same order"
                )


def _checked_keys(keys: Sequence[ModelKey]) -> list[tuple[str, str, float, int]]:
    if not keys:
        raise ValueError("transfer_matrix needs at least one model; found none")
    normalised = [_normalised_key(key) for key in keys]
    duplicates = sorted({key for key in normalised if normalised.count(key) > 1})
    if duplicates:
        raise ValueError(
            f"models listed more than once (arch, method, sparsity, seed): {duplicates}"
        )
    return normalised


class TransferTables(NamedTuple):
    """What a transfer job writes: the matrix (``TRANSFER_COLUMNS``, one row per model pair,
    source-major) and Figure 4's cells (``transfer_cells.CELL_COLUMNS``, one row per kind pair)."""

    matrix: pd.DataFrame
    cells: pd.DataFrame


def _kinds(keys: Sequence[tuple[str, str, float, int]]) -> dict[Kind, list[int]]:
    """Model indices of each kind (arch, method, sparsity), kinds in order of first appearance."""
    groups: dict[Kind, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key[:3], []).append(index)
    return groups


def _pair_record(
    source: tuple[str, str, float, int],
    target: tuple[str, str, float, int],
    name: str,
    n_samples: int,
    report: MetricReport,
    bootstrap_seed: int,
) -> dict[str, object]:
    """One matrix row: the two models' keys, then the report's metrics, intervals and sizes as
    the attack record names them (``MetricReport.as_record``)."""
    metrics = {column: v for column, v in report.as_record().items() if column in TRANSFER_COLUMNS}
    return {
        **{f"source_{f}": v for f, v in zip(KEY_FIELDS, source, strict=True)},
        **{f"target_{f}": v for f, v in zip(KEY_FIELDS, target, strict=True)},
        "attack": name,
        "n_samples": int(n_samples),
        **metrics,
        "bootstrap_seed": bootstrap_seed,
    }


def _matrix(
    keys: Sequence[tuple[str, str, float, int]],
    train_rows: Callable[[int], pd.DataFrame],
    eval_rows: Callable[[int], pd.DataFrame],
    name: str,
    n_samples: int,
    settings: AttackSettings,
) -> TransferTables:
    """Fit on each source's training rows, score every target's evaluation rows. Sources go kind
    by kind, so a source kind's cells are complete, and reduced to one row each, before the next
    kind's open."""
    resamples, bootstrap_seed = settings.bootstrap_resamples, settings.bootstrap_seed
    records: dict[tuple[int, int], dict[str, object]] = {}
    cells: list[dict[str, object]] = []
    kinds = _kinds(keys)
    for source_kind, sources in kinds.items():
        open_cells = {kind: CellPairs(resamples) for kind in kinds}
        for source in sources:
            fitted = fit_attack(name, train_rows(source), settings)
            for target, target_key in enumerate(keys):
                scores = evaluation_rows(score_attack(fitted, eval_rows(target)))
                pair = pair_metrics(scores, resamples, bootstrap_seed)
                records[source, target] = _pair_record(
                    keys[source], target_key, name, n_samples, pair.report, bootstrap_seed
                )
                if in_cell(source_kind, keys[source][3], target_key[:3], target_key[3]):
                    open_cells[target_key[:3]].add(keys[source][3], target_key[3], pair)
        cells += [
            cell_record(source_kind, kind, name, n_samples, cell, bootstrap_seed)
            for kind, cell in open_cells.items()
        ]
    order = [records[source, target] for source in range(len(keys)) for target in range(len(keys))]
    return TransferTables(
        pd.DataFrame.from_records(order, columns=list(TRANSFER_COLUMNS)),
        pd.DataFrame.from_records(cells, columns=list(CELL_COLUMNS)),
    )


def transfer_matrix(
    models: Sequence[tuple[ModelKey, pd.DataFrame]],
    name: str,
    n_samples: int,
    settings: AttackSettings,
) -> TransferTables:
    """One row per (source, target) pair: attack ``name`` fitted on source, scored on target,
    every metric with its bootstrap interval (``settings.bootstrap_resamples`` and ``_seed``);
    and Figure 4's cells.

    ``models`` are ``(key, outputs)`` pairs with keys holding ``arch``, ``method``, ``sparsity``
    and ``seed``.
    Matrix rows come in source-major order of ``models``; columns are ``TRANSFER_COLUMNS``.
    """
    keys = _checked_keys([key for key, _ in models])
    check_same_samples(models)
    splits = [split_attack_rows(outputs, n_samples, settings.eval_size) for _, outputs in models]
    return _matrix(keys, lambda i: splits[i][0], lambda i: splits[i][1], name, n_samples, settings)


def _open_parquet(path: str | os.PathLike[str]) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"{path}: not a readable parquet file ({err})") from err


def read_sample_columns(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Validate ``path`` batch by batch against the outputs contract; return its small columns.

    Memory is one row group plus the returned columns (no logits), whatever the file's size.
    """
    parquet = _open_parquet(path)
    small = [name for name in parquet.schema_arrow.names if name not in LOGIT_COLUMNS]
    parts: list[pa.Table] = []
    n_classes: set[int] = set()
    try:
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            validate_outputs(table, str(path))
            n_classes.add(len(table.column("logits")[0]))
            parts.append(table.select(small))
    except pa.ArrowException as err:
        raise ValueError(f"{path}: not a readable parquet file ({err})") from err
    if len(n_classes) > 1:
        raise ValueError(
            f"{path}: logits lengths range from {min(n_classes)} to {max(n_classes)}; "
            "expected the same number of classes in every row"
        )
    if not parts:
        raise ValueError(f"{path}: no rows; expected one row per attack sample")
    return pa.concat_tables(parts).to_pandas()


def read_rows(
    path: str | os.PathLike[str], positions: np.ndarray, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows at ``positions`` (sorted file row numbers) of ``path``, reading only the row groups
    that hold them; the index is the file row number, as in a frame of the whole file."""
    parquet = _open_parquet(path)
    parts: list[pa.Table] = []
    first_row = 0
    for group in range(parquet.num_row_groups):
        group_rows = parquet.metadata.row_group(group).num_rows
        wanted = positions[(positions >= first_row) & (positions < first_row + group_rows)]
        if wanted.size:
            table = parquet.read_row_group(group, columns=columns)
            parts.append(table.take(pa.array(wanted - first_row)))
        first_row += group_rows
    frame = pa.concat_tables(parts).to_pandas()
    frame.index = pd.Index(positions)
    return frame


def frame_bytes(frame: pd.DataFrame) -> int:
    """Memory of a frame of outputs rows, counting the logits arrays' buffers (which pandas'
    deep count misses when they are views into Arrow's)."""
    logits = frame.get("logits", ())
    return int(frame.memory_usage(deep=True).sum()) + sum(row.nbytes for row in logits)


Index = TypeVar("Index")


class BoundedCache(Generic[Index]):
    """``read(index)``, remembered while the remembered frames total at most ``budget_bytes``;
    beyond that, read again each time. Memory stays bounded whatever the number of models."""

    def __init__(self, read: Callable[[Index], pd.DataFrame], budget_bytes: int) -> None:
        self._read = read
        self._budget = budget_bytes
        self._kept: dict[Index, pd.DataFrame] = {}
        self._used = 0

    def __call__(self, index: Index) -> pd.DataFrame:
        if index in self._kept:
            return self._kept[index]
        frame = self._read(index)
        size = frame_bytes(frame)
        if self._used + size <= self._budget:
            self._kept[index] = frame
            self._used += size
        return frame


def transfer_matrix_from_files(
    models: Sequence[tuple[ModelKey, str | os.PathLike[str]]],
    name: str,
    n_samples: int,
    settings: AttackSettings,
    eval_cache_bytes: int = TRANSFER_EVAL_CACHE_MB * 2**20,
) -> TransferTables:
    """``transfer_matrix`` on ``(key, outputs.parquet path)`` pairs, streamed model by model.

    First every file is validated and its sample columns compared with the first model's; then
    each source's training rows are read and fitted, and each target's evaluation rows read
    (only the row groups holding them) and scored. Evaluation rows are kept for the next source
    up to ``eval_cache_bytes``: with 2,000 evaluation rows that is every target up to 64 models of
    ImageNet's 1,000 classes. Equal to ``transfer_matrix`` on the frames.
    """
    keys = _checked_keys([key for key, _ in models])
    reference_key, reference_path = models[0]
    reference = read_sample_columns(reference_path)
    for key, path in models[1:]:
        check_same_samples([(reference_key, reference), (key, read_sample_columns(path))])
    train, evaluation = split_attack_rows(reference, n_samples, settings.eval_size)
    train_positions, eval_positions = train.index.to_numpy(), evaluation.index.to_numpy()
    del reference, train, evaluation
    columns = list(OUTPUT_SCHEMA.names)  # never the mirror-image logits, which only LiRA reads
    paths = [path for _, path in models]
    return _matrix(
        keys,
        lambda i: read_rows(paths[i], train_positions, columns),
        BoundedCache(lambda i: read_rows(paths[i], eval_positions, columns), eval_cache_bytes),
        name,
        n_samples,
        settings,
    )
