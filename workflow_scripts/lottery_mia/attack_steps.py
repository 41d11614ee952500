"""The attack stages (attacks, reference statistics, transfer, summary), with plain arguments
instead of ``snakemake``.

Nothing here imports torch: attack jobs are many and short, and must start fast.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.atomic import PathLike, read_json, write_parquet
from lottery_mia.attack import ATTACKS
from lottery_mia.attack.base import AttackSettings
from lottery_mia.attack.per_model import run_attack
from lottery_mia.attack.reference_scores import (
    ReferenceAttackSettings,
    keep_for_outputs,
    load_reference_statistics,
    read_reference_statistics,
    reference_attack_rows,
    score_reference_attacks,
    write_reference_statistics,
)
from lottery_mia.attack.shadow import SHADOW_ATTACK, ShadowOutputs, fit_shadow_attack
from lottery_mia.attack_paths import result_files
from lottery_mia.attack_scores import score_frame, write_attack_result
from lottery_mia.outputs_table import read_outputs
from lottery_mia.provenance import provenance
from lottery_mia.reference_keep import reference_keep_frame
from lottery_mia.selection import exported_ids
from lottery_mia.stats.metrics import wilson_interval
from lottery_mia.summary import build_summary
from lottery_mia.transfer_matrix import transfer_matrix_from_files

log = logging.getLogger(__name__)
#: What an attack record repeats from the target model's train.json.
TARGET_FIELDS = (
    "train_accuracy",
    "test_accuracy",
    "achieved_sparsity",
    "achieved_sparsity_all_parameters",
)
LOGGED_METRICS = ("accuracy", "auc", "auc_ci_low", "auc_ci_high", "advantage")


def run_attacks(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    outputs_path: PathLike,
    record_path: PathLike,
    attack_names: Sequence[str],
    attack_dir: PathLike,
) -> None:
    """Stage 5: for one model and sample count n, train each attack on n balanced rows and score
    it on the fixed evaluation rows (one job per model and n: the outputs are read once). Each
    attack writes its scores and, computed from them, its metrics with bootstrap intervals to
    ``attack_dir`` (``attack_paths.result_files``)."""
    attack_settings = AttackSettings.from_config(settings["attack"])
    outputs = read_outputs(outputs_path)
    scored = (
        (name, run_attack(outputs, name, key["n_samples"], attack_settings))
        for name in attack_names
    )
    _write_results(scored, key, settings, read_json(record_path), attack_dir)


def target_accuracy_interval(target_record: Mapping[str, Any]) -> dict[str, float]:
    """The 95% Wilson interval of the target's test accuracy over the test rows it counts; NaN
    for a model trained before train.json recorded ``test_rows``."""
    rows = target_record.get("test_rows", math.nan)
    low, high = wilson_interval(target_record["test_accuracy"], rows)
    return {"test_accuracy_ci_low": low, "test_accuracy_ci_high": high}


def _write_results(
    scored: Iterable[tuple[str, pd.DataFrame]],
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    target_record: Mapping[str, Any],
    attack_dir: PathLike,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Each attack's scores and metrics record (its key, ``extra``, the target's accuracies and
    provenance), written as soon as the attack is scored, and its headline metrics logged."""
    attack_settings = AttackSettings.from_config(settings["attack"])
    shared = {
        **(extra or {}),
        **{name: target_record[name] for name in TARGET_FIELDS},
        **target_accuracy_interval(target_record),
        "provenance": provenance(settings, seed=attack_settings.seed),  # once per job
    }
    for attack, scores in scored:
        metadata = {**key, "attack": attack, **shared}
        record = write_attack_result(
            scores,
            metadata,
            attack_settings.bootstrap_resamples,
            attack_settings.bootstrap_seed,
            *result_files(attack_dir, attack),
        )
        log.info("%s: %s", attack, {name: record[name] for name in LOGGED_METRICS})


def transfer(
    model_keys: Sequence[Mapping[str, Any]],
    outputs_paths: Sequence[PathLike],
    attack: str,
    n_samples: int,
    settings: Mapping[str, Any],
    matrix_path: PathLike,
    cells_path: PathLike,
) -> None:
    """Stage 6: attacks trained on each source model's outputs, evaluated on every target model
    (the matrix, with bootstrap intervals), and Figure 4's cells averaged over seed pairs."""
    models = list(zip(model_keys, outputs_paths, strict=True))
    attack_settings = AttackSettings.from_config(settings["attack"])
    tables = transfer_matrix_from_files(models, attack, n_samples, attack_settings)
    write_parquet(tables.matrix, matrix_path)
    write_parquet(tables.cells, cells_path)


def summarize(attack_paths: Sequence[PathLike], summary_path: PathLike) -> None:
    """Stage 7a: every attack metric in one tidy table."""
    write_parquet(build_summary(read_json(path) for path in attack_paths), summary_path)


def write_reference_keep(
    dataset: str,
    data: Mapping[str, Any],
    outputs: Mapping[str, Any],
    n_references: int,
    keep_seed: int,
    keep_path: PathLike,
) -> None:
    """Which exported rows each of the K reference models trains on (``reference_keep.parquet``).

    The same function (``reference_keep.keep_column``) decides a reference's rows inside its
    training job, which does not read this file, so growing K retrains no existing reference.
    """
    from lottery_mia.data import pool_sizes  # loads no images

    train_size, test_size = pool_sizes(dataset, data)
    train_ids, test_ids = exported_ids(
        train_size, test_size, outputs["max_per_pool"], outputs["selection_seed"]
    )
    frame = reference_keep_frame(
        np.r_[train_ids, test_ids],
        np.array(["train"] * len(train_ids) + ["test"] * len(test_ids)),
        n_references,
        keep_seed,
    )
    log.info("%d references over %d exported rows", n_references, len(frame))
    write_parquet(frame, keep_path)


def reference_statistics(
    outputs_path: PathLike,
    reference_paths: Sequence[PathLike],
    keep_path: PathLike,
    statistics_path: PathLike,
) -> None:
    """Stage 5b, once per target model: φ (per query) and log p_y of the target and of its K
    references on every exported row, for LiRA and RMIA at every sample count."""
    target = read_outputs(outputs_path, flipped=True)
    keep = keep_for_outputs(pd.read_parquet(keep_path), target, str(keep_path))
    statistics = load_reference_statistics(target, reference_paths, keep)
    log.info(
        "%d references x %d rows, phi of shape %s",
        *keep.shape,
        statistics.reference_phi.shape,
    )
    write_reference_statistics(statistics, statistics_path)


def run_reference_attacks(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    outputs_path: PathLike,
    record_path: PathLike,
    reference_paths: Sequence[PathLike],
    keep_path: PathLike,
    attack_names: Sequence[str],
    largest_n: int,
    attack_dir: PathLike,
    statistics_path: PathLike | None = None,
) -> None:
    """Stage 5c: the attacks that read the K reference models, on one target model and n.

    LiRA and RMIA score every row no attack trains on (their scores do not depend on n), from the
    target's ``reference_statistics``; shadow_mlp trains on n rows pooled from the K references
    and is scored on the fixed evaluation rows. Each writes its scores and metrics to ``attack_dir`` with the
    writer of ``run_attacks``.
    """
    target = read_outputs(outputs_path)
    keep = keep_for_outputs(pd.read_parquet(keep_path), target, str(keep_path))
    attack_settings = AttackSettings.from_config(settings["attack"])
    scored: dict[str, pd.DataFrame] = {}
    extra: dict[str, Any] = {"n_reference_models": len(reference_paths)}
    if any(ATTACKS[name].reads_reference_statistics for name in attack_names):
        if statistics_path is None:
            raise ValueError(f"{attack_names} need the target's reference statistics file")
        statistics = read_reference_statistics(statistics_path, keep)
        rows, population = reference_attack_rows(target, largest_n)
        results = score_reference_attacks(
            statistics, rows, population, ReferenceAttackSettings.from_config(settings["attack"])
        )
        extra |= {
            "lira_variance": results.lira_variance,
            "lira_queries": 1
            if statistics.target_phi.ndim == 1
            else statistics.target_phi.shape[1],
            "rmia_a": results.rmia_a,
        }
        for name, (score, predicted) in results.scores.items():
            scored[name] = score_frame(target.iloc[rows], score, predicted)
    if SHADOW_ATTACK in attack_names:
        shadows = ReferenceShadows(reference_paths, keep, target)
        scored[SHADOW_ATTACK] = _shadow_scores(target, shadows, key["n_samples"], attack_settings)
    scored_in_order = ((name, scored[name]) for name in attack_names)
    _write_results(scored_in_order, key, settings, read_json(record_path), attack_dir, extra)


class ReferenceShadows(Sequence[ShadowOutputs]):
    """The K references as Shokri's shadow models, each read only when asked for, so the shadow
    attack holds one reference's outputs at a time. Each is checked to list the target's rows in
    the target's order, with ``member`` equal to its keep column."""

    def __init__(
        self, reference_paths: Sequence[PathLike], keep: np.ndarray, target: pd.DataFrame
    ) -> None:
        if len(reference_paths) != keep.shape[0]:
            raise ValueError(
                f"{len(reference_paths)} reference outputs for a keep matrix of "
                f"{keep.shape[0]} references"
            )
        self._paths, self._keep, self._target = list(reference_paths), keep, target

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, index: int) -> ShadowOutputs:  # type: ignore[override]
        path, column = self._paths[index], self._keep[index]
        rows = read_outputs(path, expected_member=column)
        for name in ("sample_id", "pool", "label"):
            if not np.array_equal(rows[name].to_numpy(), self._target[name].to_numpy()):
                raise ValueError(
                    f"{path}: column {name!r} differs from the target's; every model must be "
                    "queried on the same rows in the same order"
                )
        return ShadowOutputs(rows, column)


def _shadow_scores(
    target: pd.DataFrame,
    shadows: Sequence[ShadowOutputs],
    n_samples: int,
    attack_settings: AttackSettings,
) -> pd.DataFrame:
    """Shokri's attacker: the MLP trained on n rows pooled from the K references, each labelled by
    its own keep column, applied unchanged to the target's fixed evaluation rows (those of every
    per-model attack)."""
    is_eval = target["attack_eval"].to_numpy(dtype=bool)
    fitted = fit_shadow_attack(shadows, n_samples, attack_settings, exclude=is_eval)
    eval_rows = target[is_eval]
    return score_frame(eval_rows, fitted.membership_score(eval_rows), fitted.predict(eval_rows))
