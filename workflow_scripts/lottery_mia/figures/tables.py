"""Table 1 (dense baseline vs lottery ticket, with the tested difference) and its files."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.figures.comparison import (
    ScoreKey,
    difference_columns,
    ticket_minus_dense,
    with_holm_verdicts,
)
from lottery_mia.figures.selection import (
    mean_over_seeds,
    nearest_sparsity,
    require_columns,
    rows_for_attack,
)
from lottery_mia.figures.style import ordered_archs, ordered_datasets
from lottery_mia.uncertainty import DEFAULT_MARGIN, DEFAULT_RESAMPLES

#: Added over the whole table once its rows are known (``comparison.with_holm_verdicts``).
HOLM_COLUMNS: tuple[str, ...] = ("p_difference_holm", "p_equivalence_holm", "verdict_holm")
TABLE1_COLUMNS: tuple[str, ...] = (
    "dataset",
    "arch",
    "n_samples",
    "ticket_sparsity",
    "n_seeds",
    "baseline_accuracy",
    "baseline_precision",
    "ticket_accuracy",
    "ticket_precision",
    "baseline_auc",
    "baseline_auc_ci_low",
    "baseline_auc_ci_high",
    "ticket_auc",
    "ticket_auc_ci_low",
    "ticket_auc_ci_high",
    "auc_difference",
    "auc_difference_ci_low",
    "auc_difference_ci_high",
    "accuracy_difference",
    "accuracy_difference_ci_low",
    "accuracy_difference_ci_high",
    "verdict",
    "equivalence_margin",
    "interval",
    "p_difference",
    "p_equivalence",
    *HOLM_COLUMNS,
)


def table1(
    summary: pd.DataFrame,
    attack: str,
    ticket_sparsity: float,
    scores: Mapping[ScoreKey, pd.DataFrame],
    margin: float = DEFAULT_MARGIN,
    n_resamples: int = DEFAULT_RESAMPLES,
    bootstrap_seed: int = 0,
) -> pd.DataFrame:
    """Table 1: attack accuracy, precision and AUC, dense baseline vs lottery ticket, with the
    difference ticket - dense in AUC and accuracy, its 95% interval and the verdict at ``margin``
    (``figures.comparison``; ``scores`` are the attack's scores files by model), and the AUC
    test's p-values, Holm-adjusted over the table's rows, with the verdict they give.

    One row per dataset, architecture and sample count; values are means over seeds. The ticket
    is the non-zero sparsity nearest ``ticket_sparsity`` run for that dataset and architecture
    (reported in ``ticket_sparsity``). Baseline and ticket must come from the same seeds, because a
    ticket of seed s is pruned from the dense model of seed s.
    """
    if not 0.0 < ticket_sparsity < 1.0:
        raise ValueError(f"ticket_sparsity is {ticket_sparsity}; expected a value in (0, 1)")
    rows = rows_for_attack(summary, attack)
    require_columns(rows, ("n_samples", "accuracy", "precision", "auc"), "summary")
    table_rows: list[dict[str, Any]] = []
    for dataset in ordered_datasets(rows["dataset"]):
        in_dataset = rows[rows["dataset"] == dataset]
        for arch in ordered_archs(in_dataset["arch"]):
            in_arch = in_dataset[in_dataset["arch"] == arch]
            where = f"dataset {dataset!r}, arch {arch!r}, attack {attack!r}"
            try:
                ticket_p = nearest_sparsity(
                    in_arch["sparsity"], ticket_sparsity, exclude_dense=True
                )
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from err
            for n_samples in sorted(int(n) for n in in_arch["n_samples"].unique()):
                at_n = in_arch[in_arch["n_samples"] == n_samples]
                baseline = at_n[at_n["sparsity"] == 0.0]
                ticket = at_n[np.isclose(at_n["sparsity"], ticket_p, rtol=0, atol=1e-9)]
                here = f"{where}, n_samples {n_samples}"
                if baseline.empty:
                    raise ValueError(f"{here}: no dense baseline (sparsity 0) in the summary")
                if ticket.empty:
                    raise ValueError(f"{here}: no ticket at sparsity {ticket_p:g} in the summary")
                baseline_seeds = sorted(baseline["seed"].astype(int))
                ticket_seeds = sorted(ticket["seed"].astype(int))
                if baseline_seeds != ticket_seeds:
                    raise ValueError(
                        f"{here}: baseline seeds {baseline_seeds} differ from ticket "
                        f"(sparsity {ticket_p:g}) seeds {ticket_seeds}; expected the same seeds"
                    )
                table_rows.append(
                    {
                        "dataset": dataset,
                        "arch": arch,
                        "n_samples": n_samples,
                        "ticket_sparsity": ticket_p,
                        "n_seeds": len(baseline_seeds),
                        "baseline_accuracy": float(baseline["accuracy"].mean()),
                        "baseline_precision": float(baseline["precision"].mean()),
                        "ticket_accuracy": float(ticket["accuracy"].mean()),
                        "ticket_precision": float(ticket["precision"].mean()),
                        **_auc_with_interval("baseline", baseline),
                        **_auc_with_interval("ticket", ticket),
                        **_difference(
                            scores,
                            (attack, dataset, arch, n_samples),
                            ticket_p,
                            baseline_seeds,
                            margin,
                            n_resamples,
                            bootstrap_seed,
                        ),
                    }
                )
    per_row = [column for column in TABLE1_COLUMNS if column not in HOLM_COLUMNS]
    compared = pd.DataFrame(table_rows, columns=per_row)
    return with_holm_verdicts(compared)[list(TABLE1_COLUMNS)]


def _auc_with_interval(side: str, rows: pd.DataFrame) -> dict[str, float]:
    """Mean AUC over seeds with the figures' 95% interval (bootstrap for one seed, t over
    several: ``selection.mean_over_seeds``)."""
    stats = mean_over_seeds(rows, ["attack"], "auc").iloc[0]
    return {
        f"{side}_auc": float(stats["mean"]),
        f"{side}_auc_ci_low": float(stats["low"]),
        f"{side}_auc_ci_high": float(stats["high"]),
    }


def _difference(
    scores: Mapping[ScoreKey, pd.DataFrame],
    model: tuple[str, str, str, int],
    ticket_p: float,
    seeds: list[int],
    margin: float,
    n_resamples: int,
    bootstrap_seed: int,
) -> dict[str, Any]:
    differences, interval = ticket_minus_dense(
        scores, model, ticket_p, seeds, n_resamples, bootstrap_seed
    )
    return {**difference_columns(differences, margin), "interval": interval}


def _markdown_cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value).replace("|", r"\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """GitHub-flavoured markdown of ``frame``: numbers right-aligned, floats to 3 decimals."""
    numeric = [pd.api.types.is_numeric_dtype(frame[column]) for column in frame.columns]
    header = "| " + " | ".join(_markdown_cell(column) for column in frame.columns) + " |"
    rule = "|" + "|".join("---:" if is_number else ":---" for is_number in numeric) + "|"
    body = [
        "| " + " | ".join(_markdown_cell(value) for value in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body]) + "\n"


def write_table(frame: pd.DataFrame, csv_path: PathLike, md_path: PathLike) -> None:
    """Write a table as CSV (full precision, for reuse) and markdown (3 decimals, for reading)."""
    with atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        Path(tmp).write_text(markdown_table(frame))
