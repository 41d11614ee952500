"""Transfer attacks: an attack trained on one model's outputs, evaluated on another model's.

This is the paper's Figure 4 (source model x target model, architectures x sparsities). Each
attack is trained once per source model and scored on every target's evaluation rows; the
diagonal is therefore exactly the ordinary attack on that model (``attacks.run_attack``).

``transfer_matrix_from_files`` is what the rule runs: it streams, so its memory does not grow with
the number of models (benchmarks/transfer_memory.py). It holds one source's training rows, the
sample columns of the first model and targets' evaluation rows up to a fixed budget (each target
is then read once rather than once per source), never all outputs at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_mia.attack_scores import evaluation_rows
from lottery_mia.attacks import AttackSettings, fit_attack, score_attack, split_attack_rows
from lottery_mia.outputs_table import FLIPPED_COLUMN, OUTPUT_SCHEMA, validate_outputs
from lottery_mia.resources import TRANSFER_EVAL_CACHE_MB
from lottery_mia.uncertainty import METRIC_NAMES, point_metrics

KEY_FIELDS: tuple[str, ...] = ("arch", "method", "sparsity", "seed")
SAMPLE_COLUMNS: tuple[str, ...] = ("sample_id", "pool", "attack_eval", "label")
LOGIT_COLUMNS: tuple[str, ...] = ("logits", FLIPPED_COLUMN)
TRANSFER_COLUMNS: tuple[str, ...] = (
    *(f"source_{field}" for field in KEY_FIELDS),
    *(f"target_{field}" for field in KEY_FIELDS),
    "attack",
    "n_samples",
    *METRIC_NAMES,
    "n_eval",
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


def _matrix(
    keys: Sequence[tuple[str, str, float, int]],
    train_rows: Callable[[int], pd.DataFrame],
    eval_rows: Callable[[int], pd.DataFrame],
    name: str,
    n_samples: int,
    settings: AttackSettings,
) -> pd.DataFrame:
    """Fit on each source's training rows, score every target's evaluation rows (source-major)."""
    records: list[dict[str, object]] = []
    for source, source_key in enumerate(keys):
        fitted = fit_attack(name, train_rows(source), settings)
        for target, target_key in enumerate(keys):
            record: dict[str, object] = {
                **{f"source_{f}": v for f, v in zip(KEY_FIELDS, source_key, strict=True)},
                **{f"target_{f}": v for f, v in zip(KEY_FIELDS, target_key, strict=True)},
                "attack": name,
                "n_samples": int(n_samples),
            }
            scores = evaluation_rows(score_attack(fitted, eval_rows(target)))
            record.update(point_metrics(scores), n_eval=scores.member.size)
            records.append(record)
    return pd.DataFrame.from_records(records, columns=list(TRANSFER_COLUMNS))


def transfer_matrix(
    models: Sequence[tuple[ModelKey, pd.DataFrame]],
    name: str,
    n_samples: int,
    settings: AttackSettings,
) -> pd.DataFrame:
    """One row per (source, target) pair: attack ``name`` fitted on source, scored on target.

    ``models`` are ``(key, outputs)`` pairs with keys holding ``arch``, ``method``, ``sparsity``
    and ``seed``.
    Rows come in source-major order of ``models``; columns are ``TRANSFER_COLUMNS``.
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
) -> pd.DataFrame:
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
