"""Reading references' outputs one file and one row block at a time, down to one float32 per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_mia.membership_signals import membership_signal
from lottery_mia.reference_outputs import read_row_statistic, reference_statistic_matrix

N_ROWS, N_CLASSES = 23, 4


def _population() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": np.r_[np.arange(12), np.arange(11)].astype(np.int64),
            "pool": ["train"] * 12 + ["test"] * 11,
            "label": np.arange(N_ROWS, dtype=np.int64) % N_CLASSES,
        }
    )


def _logits_column(logits: np.ndarray) -> pa.Array:
    return pa.array(list(logits.astype(np.float32)), type=pa.list_(pa.float32()))


def _write_outputs(path: Path, population: pd.DataFrame, **logit_columns: np.ndarray) -> Path:
    """An outputs-like file with only the columns the reader needs, in small row groups."""
    table = pa.table(
        {
            "sample_id": pa.array(population["sample_id"], pa.int64()),
            "pool": pa.array(population["pool"], pa.string()),
            "label": pa.array(population["label"], pa.int64()),
            **{name: _logits_column(values) for name, values in logit_columns.items()},
        }
    )
    pq.write_table(table, path, row_group_size=5)
    return path


@pytest.mark.parametrize("statistic", ["logit_scaled", "loss"])
def test_matrix_holds_each_references_statistic_per_row(tmp_path: Path, statistic: str) -> None:
    population = _population()
    rng = np.random.default_rng(0)
    logits = [rng.normal(0.0, 3.0, (N_ROWS, N_CLASSES)) for _ in range(3)]
    paths = [
        _write_outputs(tmp_path / f"ref{k}.parquet", population, logits=logits[k]) for k in range(3)
    ]
    matrix = reference_statistic_matrix(
        paths,
        statistic,
        population,
        block_rows=4,  # type: ignore[arg-type]
    )
    assert matrix.shape == (3, N_ROWS) and matrix.dtype == np.float32
    for k in range(3):
        expected = membership_signal(
            logits[k].astype(np.float32),
            population["label"].to_numpy(),
            statistic,  # type: ignore[arg-type]
        )
        np.testing.assert_allclose(matrix[k], expected, rtol=1e-6)


def test_flip_queries_add_a_trailing_query_axis(tmp_path: Path) -> None:
    population = _population()
    rng = np.random.default_rng(1)
    plain, flipped = rng.normal(size=(N_ROWS, N_CLASSES)), rng.normal(size=(N_ROWS, N_CLASSES))
    path = _write_outputs(
        tmp_path / "ref0.parquet", population, logits=plain, logits_flipped=flipped
    )
    values = read_row_statistic(
        path, "logit_scaled", population, query_columns=("logits", "logits_flipped"), block_rows=6
    )
    assert values.shape == (N_ROWS, 2)
    labels = population["label"].to_numpy()
    np.testing.assert_allclose(
        values[:, 0], membership_signal(plain.astype(np.float32), labels, "logit_scaled"), rtol=1e-6
    )
    np.testing.assert_allclose(
        values[:, 1],
        membership_signal(flipped.astype(np.float32), labels, "logit_scaled"),
        rtol=1e-6,
    )
    matrix = reference_statistic_matrix(
        [path, path], "logit_scaled", population, query_columns=("logits", "logits_flipped")
    )
    assert matrix.shape == (2, N_ROWS, 2)


def test_rows_in_another_order_are_refused_naming_the_file(tmp_path: Path) -> None:
    population = _population()
    shuffled = population.iloc[::-1].reset_index(drop=True)
    path = _write_outputs(tmp_path / "ref3.parquet", shuffled, logits=np.zeros((N_ROWS, N_CLASSES)))
    with pytest.raises(ValueError, match=r"ref3\.parquet.*same rows in the same order"):
        read_row_statistic(path, "loss", population.drop(columns="label"))


def test_a_file_with_fewer_rows_or_other_labels_is_refused(tmp_path: Path) -> None:
    population = _population()
    short = _write_outputs(
        tmp_path / "short.parquet", population.iloc[:20], logits=np.zeros((20, N_CLASSES))
    )
    with pytest.raises(ValueError, match="20 rows; expected the 23"):
        read_row_statistic(short, "loss", population)
    relabelled = population.assign(label=(population["label"] + 1) % N_CLASSES)
    other = _write_outputs(
        tmp_path / "other.parquet", relabelled, logits=np.zeros((N_ROWS, N_CLASSES))
    )
    with pytest.raises(ValueError, match="column 'label' differs"):
        read_row_statistic(other, "loss", population)


def test_a_missing_column_or_file_is_named(tmp_path: Path) -> None:
    population = _population()
    path = _write_outputs(
        tmp_path / "ref0.parquet", population, logits=np.zeros((N_ROWS, N_CLASSES))
    )
    with pytest.raises(ValueError, match=r"missing column\(s\) \['logits_flipped'\]"):
        read_row_statistic(path, "loss", population, query_columns=("logits", "logits_flipped"))
    with pytest.raises(ValueError, match=r"absent\.parquet: not a readable parquet file"):
        read_row_statistic(tmp_path / "absent.parquet", "loss", population)


def test_a_reference_whose_members_are_not_its_keep_column_is_refused(tmp_path: Path) -> None:
    population = _population()
    keep = np.arange(N_ROWS) % 2 == 0
    table = pa.table(
        {
            "sample_id": pa.array(population["sample_id"], pa.int64()),
            "pool": pa.array(population["pool"], pa.string()),
            "label": pa.array(population["label"], pa.int64()),
            "logits": _logits_column(np.zeros((N_ROWS, N_CLASSES))),
            "member": pa.array(keep),
        }
    )
    path = tmp_path / "ref1.parquet"
    pq.write_table(table, path, row_group_size=5)
    read_row_statistic(path, "loss", population.assign(member=keep))
    with pytest.raises(ValueError, match=r"ref1\.parquet: column 'member' differs"):
        read_row_statistic(path, "loss", population.assign(member=~keep))
