"""One tidy table of every attack result: the numbers behind every figure and table.

``build_summary`` turns the per-attack JSON records (``.../attack/n{n}/{attack}.json``)
into ``results/summary.parquet``: one row per (dataset, arch, seed, method, sparsity, n_samples,
attack) (method "dense" for the dense model, which every pruning method shares),
the columns of ``SUMMARY_COLUMNS`` in that order, with the same dtypes whatever the records hold,
so that figures, tables and a reviewer's own notebook read one stable schema. The record's
``provenance`` is reduced to its ``config_hash`` (a trailing ``config_hash`` string column, missing
when a record has none): enough to trace a row back to the configuration that produced it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import pandas as pd

from lottery_mia.stats.metrics import METRIC_NAMES

#: The columns that identify one attack result; no two summary rows share them.
KEY_COLUMNS: tuple[str, ...] = (
    "dataset", "arch", "seed", "method", "sparsity", "n_samples", "attack",
)  # fmt: skip

#: Attack-quality metrics, all computed on the fixed evaluation set (member = positive class).
METRIC_COLUMNS: tuple[str, ...] = METRIC_NAMES

#: Each metric followed by the bounds of its 95% stratified-bootstrap interval.
METRIC_AND_INTERVAL_COLUMNS: tuple[str, ...] = tuple(
    column for name in METRIC_NAMES for column in (name, f"{name}_ci_low", f"{name}_ci_high")
)

#: The keys every attack record must carry (design.md), in summary column order.
#: ``achieved_sparsity`` counts the prunable weights (the grid's axis), the other all parameters.
RECORD_KEYS: tuple[str, ...] = (
    *KEY_COLUMNS,
    *METRIC_AND_INTERVAL_COLUMNS,
    "min_resolvable_fpr",
    "n_eval",
    "train_accuracy",
    "test_accuracy",
    "achieved_sparsity",
    "achieved_sparsity_all_parameters",
)

#: The 95% Wilson interval of the target's test accuracy over its test rows; NaN in records of
#: models trained before train.json counted them (the record may lack the keys).
TEST_ACCURACY_INTERVAL: tuple[str, ...] = ("test_accuracy_ci_low", "test_accuracy_ci_high")

#: Summary columns in design.md order, plus the derived generalization gap, the number of
#: reference models the attack read (0 for attacks that read none; records without it read none)
#: and the test accuracy's interval.
SUMMARY_COLUMNS: tuple[str, ...] = (
    *RECORD_KEYS, "generalization_gap", "n_reference_models", *TEST_ACCURACY_INTERVAL,
)  # fmt: skip

#: Trailing provenance column: the hash of the configuration that produced the record.
CONFIG_HASH_COLUMN = "config_hash"

_STRING_COLUMNS = ("dataset", "arch", "method", "attack")
_INTEGER_COLUMNS = ("seed", "n_samples", "n_eval", "n_reference_models")
_FLOAT_COLUMNS = tuple(
    name for name in SUMMARY_COLUMNS if name not in (*_STRING_COLUMNS, *_INTEGER_COLUMNS)
)

#: dtype of every summary column; the same for one record or ten thousand.
SUMMARY_DTYPES: dict[str, str] = {
    **{name: "string" for name in (*_STRING_COLUMNS, CONFIG_HASH_COLUMN)},
    **{name: "int64" for name in _INTEGER_COLUMNS},
    **{name: "float64" for name in _FLOAT_COLUMNS},
}

# Metrics (and their intervals) that are undefined for some results may be null or NaN: precision
# when nothing is called a member, a TPR at an FPR the evaluation set cannot resolve. The identity
# of a result and the target's accuracies may not.
_NULLABLE_COLUMNS = frozenset((*METRIC_AND_INTERVAL_COLUMNS, *TEST_ACCURACY_INTERVAL))
# Advantages are TPR - FPR, so in [-1, 1]; every other metric and rate is in [0, 1].
_SIGNED_COLUMNS = frozenset(
    column for column in METRIC_AND_INTERVAL_COLUMNS if column.startswith("advantage")
)


def natural_sort_key(name: str) -> tuple[Any, ...]:
    """Key that orders ``resnet18 < resnet50 < resnet101`` (digits compared as numbers)."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def _describe(record: Mapping[str, Any]) -> str:
    """Name a record by whatever identity keys it has, for error messages."""
    parts = [
        f"{key}={record[key]!r}"
        for key in ("dataset", "arch", "seed", "method", "sparsity", "attack", "n_samples")
        if key in record
    ]
    return "attack record (" + (", ".join(parts) or "no identity keys") + ")"


def _coerce(key: str, value: Any, record: Mapping[str, Any]) -> Any:
    """Return ``value`` as the Python type of column ``key``, or raise naming key and record."""
    where = f"{_describe(record)}: key {key!r}"
    if key in _STRING_COLUMNS:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{where} is {value!r}; expected a non-empty string")
        return value
    if key in _INTEGER_COLUMNS:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"{where} is {value!r}; expected an integer")
        if not isinstance(value, Integral) and not float(value).is_integer():
            raise ValueError(f"{where} is {value!r}; expected an integer")
        return int(value)
    if value is None and key in _NULLABLE_COLUMNS:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{where} is {value!r}; expected a real number")
    number = float(value)
    if math.isnan(number) and key not in _NULLABLE_COLUMNS:
        raise ValueError(f"{where} is NaN; expected a number")
    return number


def _check_ranges(row: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """Reject values no correct pipeline produces (they would silently bend a figure)."""
    where = _describe(record)
    if not 0.0 <= row["sparsity"] < 1.0:
        raise ValueError(f"{where}: sparsity {row['sparsity']} is outside [0, 1)")
    for key in ("n_samples", "n_eval"):
        if row[key] <= 0:
            raise ValueError(f"{where}: {key} is {row[key]}; expected a positive count")
    rates = (
        *METRIC_AND_INTERVAL_COLUMNS,
        "min_resolvable_fpr",
        "train_accuracy",
        "test_accuracy",
        *TEST_ACCURACY_INTERVAL,
        "achieved_sparsity",
        "achieved_sparsity_all_parameters",
    )
    for key in rates:
        low = -1.0 if key in _SIGNED_COLUMNS else 0.0
        value = row[key]
        if not math.isnan(value) and not low <= value <= 1.0:
            raise ValueError(f"{where}: {key} is {value}; expected a value in [{low:g}, 1]")


def _config_hash(record: Mapping[str, Any]) -> str | None:
    """The record's ``provenance.config_hash`` as a string, or None when it has none."""
    provenance = record.get("provenance")
    if provenance is None:
        return None
    if not isinstance(provenance, Mapping):
        raise ValueError(
            f"{_describe(record)}: provenance is {type(provenance).__name__}; expected a mapping"
        )
    value = provenance.get("config_hash")
    return None if value is None else str(value)


def _summary_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one record and return its summary row (without provenance beyond the hash)."""
    if not isinstance(record, Mapping):
        raise ValueError(f"attack record is {type(record).__name__}; expected a mapping")
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise ValueError(
            f"{_describe(record)} is missing key(s) {missing}; expected keys {list(RECORD_KEYS)}"
        )
    row = {key: _coerce(key, record[key], record) for key in RECORD_KEYS}
    row["generalization_gap"] = row["train_accuracy"] - row["test_accuracy"]
    references = record.get("n_reference_models", 0)
    row["n_reference_models"] = _coerce("n_reference_models", references, record)
    for key in TEST_ACCURACY_INTERVAL:
        row[key] = _coerce(key, record.get(key), record)
    _check_ranges(row, record)
    row[CONFIG_HASH_COLUMN] = _config_hash(record)
    return row


def build_summary(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build the tidy summary table: validated rows, stable dtypes, one row per result key.

    Sorted by dataset, arch (natural order), seed, method, sparsity, n_samples and attack, so the file is
    byte-for-byte the same whatever order the attack jobs finished in. Keys other than those of
    ``RECORD_KEYS`` and ``provenance.config_hash`` are ignored.
    """
    rows = [_summary_row(record) for record in records]
    if not rows:
        raise ValueError("no attack records; expected at least one to summarise")
    frame = pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, CONFIG_HASH_COLUMN])
    duplicated = frame.duplicated(subset=list(KEY_COLUMNS), keep=False)
    if duplicated.any():
        keys = frame.loc[duplicated, list(KEY_COLUMNS)].drop_duplicates()
        listed = "; ".join(
            ", ".join(f"{name}={value!r}" for name, value in zip(KEY_COLUMNS, key, strict=True))
            for key in keys.itertuples(index=False)
        )
        raise ValueError(
            f"duplicate attack records for key(s) {listed}; expected one record per "
            f"({', '.join(KEY_COLUMNS)})"
        )
    frame = frame.astype(SUMMARY_DTYPES)
    arch_rank = {
        arch: rank for rank, arch in enumerate(sorted(frame["arch"].unique(), key=natural_sort_key))
    }
    frame = frame.sort_values(
        list(KEY_COLUMNS),
        key=lambda column: column.map(arch_rank) if column.name == "arch" else column,
        kind="stable",
    )
    return frame.reset_index(drop=True)
