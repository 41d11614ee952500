"""The CPU stages (attack, transfer, summary), with plain arguments instead of ``snakemake``.

Nothing here imports torch: attack jobs are many and short, and must start fast.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from lottery_mia import attacks
from lottery_mia.atomic import PathLike, read_json, write_parquet
from lottery_mia.attack_scores import write_attack_result
from lottery_mia.outputs_table import read_outputs
from lottery_mia.provenance import provenance
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
    result_paths: Sequence[PathLike],
    score_paths: Sequence[PathLike],
) -> None:
    """Stage 5: for one model and sample count n, train each attack on n balanced rows and score
    it on the fixed evaluation rows (one job per model and n: the outputs are read once). Attack
    ``attack_names[i]`` writes its scores to ``score_paths[i]`` and, computed from them, its
    metrics with bootstrap intervals to ``result_paths[i]``."""
    attack_settings = attacks.AttackSettings.from_config(settings["attack"])
    outputs = read_outputs(outputs_path)
    target = read_json(record_path)
    paths = zip(attack_names, score_paths, result_paths, strict=True)
    for attack, score_path, result_path in paths:
        scores = attacks.run_attack(outputs, attack, key["n_samples"], attack_settings)
        metadata = {
            **key,
            "attack": attack,
            **{name: target[name] for name in TARGET_FIELDS},
            "provenance": provenance(settings, seed=attack_settings.seed),
        }
        record = write_attack_result(
            scores,
            metadata,
            attack_settings.bootstrap_resamples,
            attack_settings.bootstrap_seed,
            score_path,
            result_path,
        )
        log.info("%s: %s", attack, {name: record[name] for name in LOGGED_METRICS})


def transfer(
    model_keys: Sequence[Mapping[str, Any]],
    outputs_paths: Sequence[PathLike],
    attack: str,
    n_samples: int,
    settings: Mapping[str, Any],
    matrix_path: PathLike,
) -> None:
    """Stage 6: attacks trained on each source model's outputs, evaluated on every target model."""
    models = list(zip(model_keys, outputs_paths, strict=True))
    attack_settings = attacks.AttackSettings.from_config(settings["attack"])
    matrix = transfer_matrix_from_files(models, attack, n_samples, attack_settings)
    write_parquet(matrix, matrix_path)


def summarize(attack_paths: Sequence[PathLike], summary_path: PathLike) -> None:
    """Stage 7a: every attack metric in one tidy table."""
    write_parquet(build_summary(read_json(path) for path in attack_paths), summary_path)
