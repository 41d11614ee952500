"""Ticket vs dense on the same evaluation rows: paired differences and the equivalence verdict.

Scores files are looked up by model and sample count (``ScoreKey``). With one seed the interval of
a difference is the paired bootstrap over evaluation rows (``uncertainty.paired_differences``);
with several seeds it is the interval of the seeds' mean difference over seeds *and* rows
(``over_seeds``): every seed is scored on the same rows, which the seeds' spread alone forgets. Either way the verdict follows ``uncertainty.equivalence_verdict``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.atomic import PathLike
from lottery_mia.attack_scores import read_scores
from lottery_mia.uncertainty import (
    FPR_BOUNDS,
    PairedDifference,
    align_paired,
    holm_adjusted,
    paired_differences,
    verdict_from_p_values,
)

#: (attack, dataset, arch, seed, sparsity, n_samples) of one attack's scores file.
ScoreKey = tuple[str, str, str, int, float, int]
COMPARED_METRICS: tuple[str, ...] = ("auc", "accuracy")


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
    try:
        return scores[key]
    except KeyError:
        attack, dataset, arch, seed, sparsity, n_samples = key
        raise ValueError(
            f"no {attack} attack scores for dataset {dataset!r}, arch {arch!r}, seed {seed}, "
            f"sparsity {sparsity:g}, n_samples {n_samples}; the figure or table needs them"
        ) from None


@dataclass(frozen=True)
class Comparison:
    """Ticket - dense of each compared metric, which interval that is, and the paired rows."""

    differences: dict[str, PairedDifference]
    interval: str
    n_rows: int
    n_non_members: int


def ticket_minus_dense(
    scores: Mapping[ScoreKey, pd.DataFrame],
    model: tuple[str, str, str, int],
    ticket_sparsity: float,
    seeds: Sequence[int],
    n_resamples: int,
    bootstrap_seed: int,
    metrics: Sequence[str] = COMPARED_METRICS,
) -> Comparison:
    """Ticket - dense in each of ``metrics`` for (attack, dataset, arch, n_samples) ``model``, on
    the rows both models were scored on (``align_paired(common_only=True)``)."""
    attack, dataset, arch, n_samples = model
    per_seed, row_keys = [], []
    for seed in seeds:
        ticket, dense, keys = align_paired(
            scores_of(scores, score_key(attack, dataset, arch, seed, ticket_sparsity, n_samples)),
            scores_of(scores, score_key(attack, dataset, arch, seed, 0.0, n_samples)),
            common_only=True,
        )
        row_keys.append(keys)
        per_seed.append(paired_differences(ticket, dense, metrics, n_resamples, bootstrap_seed))
    if any(not keys.equals(row_keys[0]) for keys in row_keys[1:]):
        raise ValueError(
            f"{attack} scores of {dataset} {arch} n={n_samples} cover other rows for other seeds; "
            "expected every seed scored on the same evaluation rows (outputs.selection_seed)"
        )
    n_rows, n_non_members = len(row_keys[0]), int((~ticket.member).sum())
    if len(per_seed) == 1:
        interval = "paired bootstrap over evaluation rows"
        return Comparison(per_seed[0], interval, n_rows, n_non_members)
    over_seeds = {
        name: PairedDifference.over_seeds([difference[name] for difference in per_seed])
        for name in metrics
    }
    interval = f"interval over {len(per_seed)} seeds and evaluation rows"
    return Comparison(over_seeds, interval, n_rows, n_non_members)


def difference_columns(
    differences: Mapping[str, PairedDifference], margin: float
) -> dict[str, Any]:
    """Table columns: each difference with its 95% and 90% intervals (the verdict reads the 90%
    one against the margin), and the AUC verdict with its p-values at ``margin``."""
    columns: dict[str, Any] = {}
    for name, difference in differences.items():
        prefix = "tpr" if name in FPR_BOUNDS else name
        columns[f"{prefix}_difference"] = difference.estimate
        columns[f"{prefix}_difference_ci_low"], columns[f"{prefix}_difference_ci_high"] = (
            difference.ci95
        )
        columns[f"{prefix}_difference_ci90_low"], columns[f"{prefix}_difference_ci90_high"] = (
            difference.ci90
        )
    columns["verdict"] = differences["auc"].verdict(margin)
    columns["equivalence_margin"] = float(margin)
    columns["p_difference"], columns["p_equivalence"] = differences["auc"].p_values(margin)
    return columns


def with_holm_verdicts(table: pd.DataFrame, level: float = 0.05) -> pd.DataFrame:
    """``table`` with each AUC p-value adjusted by Holm over all its rows (each test a family of
    its own: differences, equivalences) and the verdict those adjusted p-values give. Table 1
    makes one comparison per dataset, architecture and sample count; at 5% each, one of twenty
    true nulls would read as an effect by chance."""
    adjusted = table.assign(
        p_difference_holm=holm_adjusted(table["p_difference"].to_numpy(dtype=float)),
        p_equivalence_holm=holm_adjusted(table["p_equivalence"].to_numpy(dtype=float)),
    )
    adjusted["verdict_holm"] = [
        verdict_from_p_values(
            row.p_difference_holm, row.p_equivalence_holm, row.auc_difference, level
        )
        for row in adjusted.itertuples(index=False)
    ]
    return adjusted


def verdict_sentence(row: Mapping[str, Any]) -> str:
    """One line a README or log can print: the AUC difference, its interval and the verdict."""
    low, high = row["auc_difference_ci_low"], row["auc_difference_ci_high"]
    interval = "n/a" if np.isnan(low) else f"[{low:+.3f}, {high:+.3f}]"
    holm = f"; Holm-adjusted over the table: {row['verdict_holm']}" if "verdict_holm" in row else ""
    return (
        f"{row['attack']} on {row['dataset']} {row['arch']} n={row['n_samples']}: AUC ticket - dense "
        f"{row['auc_difference']:+.3f}, 95% CI {interval} -> {row['verdict']} "
        f"(margin ±{row['equivalence_margin']:g}{holm})"
    )
