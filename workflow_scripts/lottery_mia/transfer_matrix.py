"""Transfer attacks: an attack trained on one model's outputs, evaluated on another model's.

This is the paper's Figure 4 (source model x target model, architectures x sparsities). Each
attack is trained once per source model and scored on every target's evaluation rows; the
diagonal is therefore exactly the ordinary attack on that model (``attacks.run_attack``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lottery_mia.attacks import AttackSettings, evaluate_attack, fit_attack, split_attack_rows
from lottery_mia.metrics import METRIC_NAMES

KEY_FIELDS: tuple[str, ...] = ("arch", "sparsity", "seed")
SAMPLE_COLUMNS: tuple[str, ...] = ("sample_id", "pool", "attack_eval", "label")
TRANSFER_COLUMNS: tuple[str, ...] = (
    *(f"source_{field}" for field in KEY_FIELDS),
    *(f"target_{field}" for field in KEY_FIELDS),
    "attack",
    "n_samples",
    *METRIC_NAMES,
)

ModelKey = Mapping[str, object]


def _describe(key: ModelKey) -> str:
    return ", ".join(f"{field}={key[field]}" for field in KEY_FIELDS)


def _normalised_key(key: ModelKey) -> tuple[str, float, int]:
    """(arch, sparsity, seed) with fixed types, so equal models compare equal."""
    missing = [field for field in KEY_FIELDS if field not in key]
    if missing:
        raise ValueError(f"model key {dict(key)} lacks {missing}; expected keys {list(KEY_FIELDS)}")
    return str(key["arch"]), float(key["sparsity"]), int(key["seed"])  # type: ignore[arg-type]


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


def transfer_matrix(
    models: Sequence[tuple[ModelKey, pd.DataFrame]],
    name: str,
    n_samples: int,
    settings: AttackSettings,
) -> pd.DataFrame:
    """One row per (source, target) pair: attack ``name`` fitted on source, scored on target.

    ``models`` are ``(key, outputs)`` pairs with keys holding ``arch``, ``sparsity`` and ``seed``.
    Rows come in source-major order of ``models``; columns are ``TRANSFER_COLUMNS``.
    """
    if not models:
        raise ValueError("transfer_matrix needs at least one model; found none")
    keys = [_normalised_key(key) for key, _ in models]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"models listed more than once (arch, sparsity, seed): {duplicates}")
    check_same_samples(models)

    splits = [split_attack_rows(outputs, n_samples, settings.eval_size) for _, outputs in models]
    records: list[dict[str, object]] = []
    for source_key, (source_train, _) in zip(keys, splits, strict=True):
        fitted = fit_attack(name, source_train, settings)
        for target_key, (_, target_eval) in zip(keys, splits, strict=True):
            record: dict[str, object] = {
                **{f"source_{f}": v for f, v in zip(KEY_FIELDS, source_key, strict=True)},
                **{f"target_{f}": v for f, v in zip(KEY_FIELDS, target_key, strict=True)},
                "attack": name,
                "n_samples": int(n_samples),
            }
            record.update(evaluate_attack(fitted, target_eval))
            records.append(record)
    return pd.DataFrame.from_records(records, columns=list(TRANSFER_COLUMNS))
