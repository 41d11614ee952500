"""Attack results on disk: the JSON's numbers are exactly those the scores file gives."""

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_mia.attack_scores import (
    metric_record,
    read_scores,
    score_frame,
    write_attack_result,
)
from lottery_mia.stats.metrics import METRIC_NAMES
from lottery_mia.stats.paired import align_paired

RESAMPLES, SEED = 200, 3


def evaluation_rows(n_per_pool=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sample_id": np.r_[
                rng.permutation(1000)[:n_per_pool], rng.permutation(800)[:n_per_pool]
            ],
            "pool": ["train"] * n_per_pool + ["test"] * n_per_pool,
            "member": np.r_[np.ones(n_per_pool, bool), np.zeros(n_per_pool, bool)],
            "label": rng.integers(0, 10, 2 * n_per_pool),
            "logits": [[0.0]] * (2 * n_per_pool),  # other outputs columns are not copied
        }
    )


def written_result(tmp_path, predicted=None):
    rows = evaluation_rows()
    rng = np.random.default_rng(1)
    score = rng.normal(size=len(rows)) + 0.8 * rows["member"].to_numpy()
    predicted = score > 0.4 if predicted is None else predicted
    scores = score_frame(rows, score, predicted)
    metadata = {"dataset": "digits", "attack": "mlp", "n_samples": 200, "train_accuracy": 1.0}
    paths = tmp_path / "mlp_n200.scores.parquet", tmp_path / "mlp_n200.json"
    record = write_attack_result(scores, metadata, RESAMPLES, SEED, *paths)
    return paths, record


def test_metrics_recomputed_from_the_scores_file_reproduce_the_json(tmp_path):
    (scores_path, record_path), returned = written_result(tmp_path)
    on_disk = json.loads(record_path.read_text())
    assert on_disk == pytest.approx(returned, nan_ok=True)
    recomputed = metric_record(read_scores(scores_path), RESAMPLES, SEED)
    for name in METRIC_NAMES:
        for column in (name, f"{name}_ci_low", f"{name}_ci_high"):
            assert on_disk[column] == pytest.approx(recomputed[column], nan_ok=True), column
    assert on_disk["min_resolvable_fpr"] == pytest.approx(1 / 150)
    assert math.isnan(on_disk["tpr_at_0.1pct_fpr"])  # 150 non-members cannot resolve 0.1%
    assert on_disk["dataset"] == "digits" and on_disk["n_eval"] == 300


def test_scores_file_has_the_contract_columns_and_types(tmp_path):
    (scores_path, _), _ = written_result(tmp_path)
    schema = pq.read_schema(scores_path)
    assert schema.names == ["sample_id", "pool", "member", "label", "score", "predicted"]
    assert [str(t) for t in schema.types] == ["int64", "string", "bool", "int64", "double", "bool"]
    frame = read_scores(scores_path)
    assert (frame.loc[frame["member"], "pool"] == "train").all()


def test_undefined_precision_is_written_as_nan_not_zero(tmp_path):
    (_, record_path), _ = written_result(tmp_path, predicted=np.zeros(300, bool))
    on_disk = json.loads(record_path.read_text())
    assert math.isnan(on_disk["precision"]) and math.isnan(on_disk["precision_ci_low"])


def test_a_scores_file_with_other_columns_is_refused_by_name(tmp_path):
    path = tmp_path / "old.scores.parquet"
    pq.write_table(pa.table({"sample_id": [1], "score": [0.5]}), path)
    with pytest.raises(ValueError, match=r"old\.scores\.parquet: attack scores have columns"):
        read_scores(path)


def test_scores_that_no_metric_could_use_are_refused():
    rows = evaluation_rows(n_per_pool=3)
    with pytest.raises(ValueError, match="non-finite"):
        score_frame(rows, [0.1, np.inf, 0, 0, 0, 0], np.zeros(6, bool))
    with pytest.raises(ValueError, match=r"lack column\(s\) \['label'\]"):
        score_frame(rows.drop(columns="label"), np.zeros(6), np.zeros(6, bool))


def test_a_scores_file_repeating_a_sample_is_refused_by_name(tmp_path):
    """Pairing by (pool, sample_id) would silently multiply a repeated row."""
    (scores_path, _), _ = written_result(tmp_path)
    scores = read_scores(scores_path)
    repeated = pd.concat([scores, scores.iloc[[0]]], ignore_index=True)
    path = tmp_path / "twice.scores.parquet"
    pq.write_table(pa.Table.from_pandas(repeated, schema=pq.read_schema(scores_path)), path)
    with pytest.raises(ValueError, match=r"twice\.scores\.parquet: 2 rows share a \(pool, sample"):
        read_scores(path)
    with pytest.raises(ValueError, match="ticket scores repeat 1"):
        align_paired(repeated, scores)
