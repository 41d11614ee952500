"""The streamed transfer (what the rule runs) equals the in-memory one and reads only what it needs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fabricate_outputs import write_outputs
from sklearn.exceptions import ConvergenceWarning

from lottery_mia.attack.base import AttackSettings, MlpSettings
from lottery_mia.outputs_table import read_outputs
from lottery_mia.transfer_matrix import (
    read_rows,
    transfer_matrix,
    transfer_matrix_from_files,
)

PER_POOL, CLASSES, EVAL_SIZE, N_SAMPLES, GROUP = 300, 4, 100, 200, 64
SETTINGS = AttackSettings(
    eval_size=EVAL_SIZE, mlp=MlpSettings(hidden_layer_sizes=(8,), max_iter=50)
)


def key(index: int) -> dict[str, object]:
    return {"arch": "resnet18", "sparsity": [0.0, 0.5, 0.8][index], "seed": 0}


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("outputs")
    return [
        write_outputs(
            folder / f"m{i}.parquet",
            PER_POOL,
            CLASSES,
            EVAL_SIZE,
            member_margin=3.0 + i,
            seed=i,
            rows_per_group=GROUP,
        )
        for i in range(3)
    ]


@pytest.mark.parametrize("attack", ["loss_threshold", "mlp"])
def test_streamed_matrix_equals_in_memory_matrix(paths, attack):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        streamed = transfer_matrix_from_files(
            [(key(i), path) for i, path in enumerate(paths)], attack, N_SAMPLES, SETTINGS
        )
        in_memory = transfer_matrix(
            [(key(i), read_outputs(path)) for i, path in enumerate(paths)],
            attack,
            N_SAMPLES,
            SETTINGS,
        )
    assert len(streamed.matrix) == 9 and len(streamed.cells) == 9
    pd.testing.assert_frame_equal(streamed.matrix, in_memory.matrix)
    pd.testing.assert_frame_equal(streamed.cells, in_memory.cells)
    # The models differ in vulnerability, so the matrix is not one number repeated.
    assert streamed.matrix["auc"].nunique() > 1


@pytest.mark.parametrize(("budget", "eval_reads"), [(2**30, 3), (0, 9)])
def test_each_target_is_read_once_while_its_rows_fit_the_budget(
    paths, monkeypatch, budget, eval_reads
):
    """3 models: 3 training reads, and 3 evaluation reads with the cache, 3 x 3 without; the
    matrix is the same either way."""
    import lottery_mia.transfer_matrix as streaming

    sizes: list[int] = []
    original = streaming.read_rows

    def counting(path, positions, columns=None):
        sizes.append(len(positions))
        return original(path, positions, columns)

    monkeypatch.setattr(streaming, "read_rows", counting)
    models = [(key(i), path) for i, path in enumerate(paths)]
    tables = transfer_matrix_from_files(models, "loss_threshold", N_SAMPLES, SETTINGS, budget)
    assert sizes.count(N_SAMPLES) == 3
    assert sizes.count(EVAL_SIZE) == eval_reads
    unbounded = transfer_matrix_from_files(models, "loss_threshold", N_SAMPLES, SETTINGS, 2**40)
    pd.testing.assert_frame_equal(tables.matrix, unbounded.matrix)
    pd.testing.assert_frame_equal(tables.cells, unbounded.cells)


def test_read_rows_reads_only_the_row_groups_holding_them(paths, monkeypatch):
    groups_read: list[int] = []
    original = pq.ParquetFile.read_row_group

    def counting(self, group, *args, **kwargs):
        groups_read.append(group)
        return original(self, group, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", counting)
    positions = np.array([1, 2, 70, PER_POOL + 3])
    rows = read_rows(paths[0], positions, ["member", "loss"])
    # Each pool starts a new row group: 300 members fill groups 0-4, non-members start at 5.
    assert groups_read == [0, 1, 5]
    whole = read_outputs(paths[0])
    assert rows.index.tolist() == positions.tolist()
    np.testing.assert_array_equal(rows["loss"], whole["loss"].to_numpy()[positions])
    np.testing.assert_array_equal(rows["member"], [True, True, True, False])


def test_other_samples_are_refused_naming_the_model(paths, tmp_path):
    other = write_outputs(tmp_path / "other.parquet", PER_POOL, CLASSES, EVAL_SIZE, sample_seed=7)
    models = [(key(0), paths[0]), (key(1), other)]
    with pytest.raises(ValueError, match=r"sparsity=0\.5.*column 'label'"):
        transfer_matrix_from_files(models, "loss_threshold", N_SAMPLES, SETTINGS)


def test_truncated_file_is_refused_naming_it(paths, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(paths[1].read_bytes()[:2000])
    with pytest.raises(ValueError, match=r"broken\.parquet: not a readable parquet file"):
        transfer_matrix_from_files(
            [(key(0), paths[0]), (key(1), broken)], "loss_threshold", N_SAMPLES, SETTINGS
        )
