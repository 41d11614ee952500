"""The CPU stages (attack, transfer, summary), with plain arguments instead of ``snakemake``.

Nothing here imports torch: attack jobs are many and short, and must start fast.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from lottery_mia import attacks
from lottery_mia.atomic import PathLike, read_json, write_json
from lottery_mia.outputs_table import read_outputs
from lottery_mia.provenance import provenance
from lottery_mia.summary import build_summary, write_parquet_atomic
from lottery_mia.transfer import transfer_matrix_from_files

log = logging.getLogger(__name__)


def run_attacks(
    key: Mapping[str, Any],
    params: Mapping[str, Any],
    outputs_path: PathLike,
    record_path: PathLike,
    result_paths: Mapping[str, PathLike],
) -> None:
    """Stage 5: for one model and sample count n, train each attack on n balanced rows and score
    it on the fixed evaluation rows (one job per model and n: the outputs are read once)."""
    settings = attacks.AttackSettings.from_config(params["attack"])
    outputs = read_outputs(outputs_path)
    target = read_json(record_path)
    for attack, result_path in result_paths.items():
        metrics = attacks.run_attack(outputs, attack, key["n_samples"], settings)
        record = {
            **key,
            "attack": attack,
            **metrics,
            "train_accuracy": target["train_accuracy"],
            "test_accuracy": target["test_accuracy"],
            "provenance": provenance(params, seed=settings.seed),
        }
        log.info(
            "%s: %s", attack, {name: record[name] for name in ("accuracy", "auc", "advantage")}
        )
        write_json(result_path, record)


def transfer(
    model_keys: Sequence[Mapping[str, Any]],
    outputs_paths: Sequence[PathLike],
    attack: str,
    n_samples: int,
    params: Mapping[str, Any],
    matrix_path: PathLike,
) -> None:
    """Stage 6: attacks trained on each source model's outputs, evaluated on every target model."""
    models = list(zip(model_keys, outputs_paths, strict=True))
    settings = attacks.AttackSettings.from_config(params["attack"])
    matrix = transfer_matrix_from_files(models, attack, n_samples, settings)
    write_parquet_atomic(matrix, matrix_path)


def summarize(attack_paths: Sequence[PathLike], summary_path: PathLike) -> None:
    """Stage 7a: every attack metric in one tidy table."""
    write_parquet_atomic(build_summary(read_json(path) for path in attack_paths), summary_path)
