"""One attack result on disk: per-row scores (``{attack}.scores.parquet``) beside its metrics
(``{attack}.json``), the metrics computed from exactly those scores, in the folder of the job that
ran the attack (``attack/n{n}/`` or ``reference_attack/n{n}/`` of a model: ``attack_paths``).

Every attack ends here, so every number in a JSON, the summary, a figure or a table can be
recomputed from the scores file alone (``metric_record(read_scores(path), ...)``), and a figure can be redrawn without
refitting anything. Columns of the scores file: ``sample_id`` (int64), ``pool`` ("train"/"test"),
``member`` (bool, true = in the target's training set), ``label`` (int64), ``score`` (float64,
higher = more likely member) and ``predicted`` (bool, the attack's own hard decision).

Figures and tables find a model's scores file by its ``ScoreKey`` (``read_score_files``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_mia.atomic import PathLike, write_json, write_parquet
from lottery_mia.stats.metrics import EvaluationRows
from lottery_mia.stats.resampling import metrics_with_intervals

SCORES_SCHEMA = pa.schema(
    [
        ("sample_id", pa.int64()),
        ("pool", pa.string()),
        ("member", pa.bool_()),
        ("label", pa.int64()),
        ("score", pa.float64()),
        ("predicted", pa.bool_()),
    ]
)
ROW_COLUMNS: tuple[str, ...] = ("sample_id", "pool", "member", "label")


def score_frame(rows: pd.DataFrame, score: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """The scores table of one attack: the evaluation ``rows``' identity columns plus its output."""
    missing = [column for column in ROW_COLUMNS if column not in rows.columns]
    if missing:
        raise ValueError(f"evaluation rows lack column(s) {missing}; expected {list(ROW_COLUMNS)}")
    frame = rows.loc[:, list(ROW_COLUMNS)].reset_index(drop=True)
    frame["score"] = np.asarray(score, dtype=np.float64)
    frame["predicted"] = np.asarray(predicted, dtype=bool)
    evaluation_rows(frame)  # refuses scores that no metric could use
    return frame.astype({"sample_id": "int64", "member": "bool", "label": "int64"})


def evaluation_rows(scores: pd.DataFrame) -> EvaluationRows:
    """The metrics' view of a scores table (validated: both classes, finite scores)."""
    return EvaluationRows(
        member=scores["member"].to_numpy(dtype=bool),
        score=scores["score"].to_numpy(dtype=np.float64),
        predicted=scores["predicted"].to_numpy(dtype=bool),
    )


def metric_record(scores: pd.DataFrame, n_resamples: int, seed: int) -> dict[str, float | int]:
    """Every metric with its 95% bootstrap interval, the evaluation set's resolution, and what
    it takes to redraw the same intervals (``n_bootstrap``, ``bootstrap_seed``)."""
    report = metrics_with_intervals(evaluation_rows(scores), n_resamples, seed)
    return {**report.as_record(), "bootstrap_seed": seed}


def write_attack_result(
    scores: pd.DataFrame,
    metadata: Mapping[str, Any],
    n_resamples: int,
    seed: int,
    scores_path: PathLike,
    record_path: PathLike,
) -> dict[str, Any]:
    """Write the scores file, then the JSON record: ``metadata`` (the result's key, the target's
    accuracies, provenance, attack-specific fields) and ``metric_record(scores, ...)``. Every
    attack ends here; the record is returned for logging."""
    record = {**metadata, **metric_record(scores, n_resamples, seed)}
    write_parquet(scores, scores_path, SCORES_SCHEMA)
    write_json(record_path, record)
    return record


def read_scores(path: PathLike) -> pd.DataFrame:
    """Read a scores file, naming it when its columns are not those of ``SCORES_SCHEMA``."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as err:
        raise ValueError(f"{path}: cannot read the attack scores ({err})") from err
    if not table.schema.equals(SCORES_SCHEMA):
        raise ValueError(
            f"{path}: attack scores have columns {table.schema.names} with types "
            f"{[str(t) for t in table.schema.types]}; expected {SCORES_SCHEMA.names} "
            f"({[str(t) for t in SCORES_SCHEMA.types]})"
        )
    scores = table.to_pandas()
    require_unique_samples(scores, str(path))
    return scores


def require_unique_samples(scores: pd.DataFrame, source: str) -> None:
    """Refuse rows that repeat a (pool, sample_id) key: pairing two models by that key would
    silently multiply the repeated rows."""
    repeated = scores.duplicated(["pool", "sample_id"], keep=False)
    if repeated.any():
        first = scores.loc[repeated, ["pool", "sample_id"]].iloc[0]
        raise ValueError(
            f"{source}: {int(repeated.sum())} rows share a (pool, sample_id) key, e.g. "
            f"({first['pool']!r}, {first['sample_id']}); expected each evaluated sample once"
        )


#: (attack, dataset, arch, seed, sparsity, n_samples) of one attack's scores file.
ScoreKey = tuple[str, str, str, int, float, int]


def score_key(
    attack: str, dataset: str, arch: str, seed: int, sparsity: float, n_samples: int
) -> ScoreKey:
    """The key of one scores file, with types fixed so that equal models compare equal."""
    sparsity = round(float(sparsity), 9)
    return str(attack), str(dataset), str(arch), int(seed), sparsity, int(n_samples)


def read_score_files(
    keys: Sequence[Mapping[str, Any]], paths: Sequence[PathLike]
) -> dict[ScoreKey, pd.DataFrame]:
    """Each scores file under its model's key (``keys[i]`` describes ``paths[i]``)."""
    return {
        score_key(
            k["attack"], k["dataset"], k["arch"], k["seed"], k["sparsity"], k["n_samples"]
        ): read_scores(path)
        for k, path in zip(keys, paths, strict=True)
    }


def scores_of(scores: Mapping[ScoreKey, pd.DataFrame], key: ScoreKey) -> pd.DataFrame:
    """The scores file of ``key``, or an error naming the model a figure or table is missing."""
    try:
        return scores[key]
    except KeyError:
        attack, dataset, arch, seed, sparsity, n_samples = key
        raise ValueError(
            f"no {attack} attack scores for dataset {dataset!r}, arch {arch!r}, seed {seed}, "
            f"sparsity {sparsity:g}, n_samples {n_samples}; the figure or table needs them"
        ) from None
