"""Table 1 (dense baseline vs lottery ticket, with the tested difference) and its files.

A table, not a figure: its numbers come from ``stats``, its rows from ``figures.summary_rows``,
and it is written as CSV and markdown (``write_table``), never drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.attack.registry import compared_sample_counts
from lottery_mia.attack_scores import ScoreKey, score_key, scores_of
from lottery_mia.figures.style import ordered_archs, ordered_datasets
from lottery_mia.figures.summary_rows import nearest_sparsity, require_columns, rows_for_attack
from lottery_mia.stats.metrics import FPR_BOUNDS, resolves_fpr
from lottery_mia.stats.over_seeds import seed_means_by_group
from lottery_mia.stats.paired import ticket_minus_dense
from lottery_mia.stats.resampling import DEFAULT_RESAMPLES
from lottery_mia.stats.verdicts import DEFAULT_MARGIN, difference_columns, with_holm_verdicts

#: Added over the whole table once its rows are known (``stats.verdicts.with_holm_verdicts``).
HOLM_COLUMNS: tuple[str, ...] = ("p_difference_holm", "p_equivalence_holm", "verdict_holm")
#: Each side's metric with its 95% interval (over rows, or over seeds and rows).
SIDE_METRICS: tuple[str, ...] = ("accuracy", "precision", "auc")


def _with_intervals(name: str) -> tuple[str, ...]:
    return (name, f"{name}_ci_low", f"{name}_ci_high")


def _difference(name: str) -> tuple[str, ...]:
    return (*_with_intervals(f"{name}_difference"), *_ninety(f"{name}_difference"))


def _ninety(name: str) -> tuple[str, ...]:
    return (f"{name}_ci90_low", f"{name}_ci90_high")


TABLE1_COLUMNS: tuple[str, ...] = (
    "attack",
    "dataset",
    "arch",
    "n_samples",
    "ticket_sparsity",
    "n_seeds",
    "n_paired_rows",
    *(column for m in SIDE_METRICS for column in _with_intervals(f"baseline_{m}")),
    *(column for m in SIDE_METRICS for column in _with_intervals(f"ticket_{m}")),
    *_difference("auc"),
    *_difference("accuracy"),
    "tpr_fpr_bound",
    *_difference("tpr"),
    "verdict",
    "equivalence_margin",
    "interval",
    "p_difference",
    "p_equivalence",
    *HOLM_COLUMNS,
)


def table1(
    summary: pd.DataFrame,
    attacks: Sequence[str],
    ticket_sparsity: float,
    scores: Mapping[ScoreKey, pd.DataFrame],
    margin: float = DEFAULT_MARGIN,
    n_resamples: int = DEFAULT_RESAMPLES,
    bootstrap_seed: int = 0,
) -> pd.DataFrame:
    """Table 1, one block of rows per attack: attack accuracy, precision and AUC of the dense
    baseline and the lottery ticket, each with its 95% interval; the paired difference ticket -
    dense in AUC, accuracy and TPR at the lowest FPR bound the rows resolve, each with its 95%
    and 90% intervals (``stats.paired``; ``scores`` are the scores files by model); the AUC
    verdict at ``margin`` and its p-values, Holm-adjusted over the whole table.

    One row per attack, dataset, architecture and sample count (only the largest for an attack
    whose scores do not depend on n: ``AttackSpec.scores_depend_on_n``); values are means over seeds. The
    ticket is the non-zero sparsity nearest ``ticket_sparsity`` that the attack was run on for
    that dataset and architecture (``ticket_sparsity``). Baseline and ticket must come from the
    same seeds, because a ticket of seed s is pruned from the dense model of seed s. The first
    attack must have both everywhere; a later one (a reference attack, run only on the models
    with reference models) gets rows where it has both.
    """
    if not 0.0 < ticket_sparsity < 1.0:
        raise ValueError(f"ticket_sparsity is {ticket_sparsity}; expected a value in (0, 1)")
    if not attacks:
        raise ValueError("table1 needs at least one attack; found none")
    table_rows: list[dict[str, Any]] = []
    for position, attack in enumerate(attacks):
        rows = rows_for_attack(summary, attack)
        require_columns(rows, ("n_samples", *SIDE_METRICS), "summary")
        for dataset in ordered_datasets(rows["dataset"]):
            in_dataset = rows[rows["dataset"] == dataset]
            for arch in ordered_archs(in_dataset["arch"]):
                in_arch = in_dataset[in_dataset["arch"] == arch]
                if position > 0 and not _has_both(in_arch):
                    continue
                setting = _Setting(attack, dataset, arch, ticket_sparsity, margin)
                table_rows += _rows_of(setting, in_arch, scores, n_resamples, bootstrap_seed)
    per_row = [column for column in TABLE1_COLUMNS if column not in HOLM_COLUMNS]
    compared = pd.DataFrame(table_rows, columns=per_row)
    return with_holm_verdicts(compared)[list(TABLE1_COLUMNS)]


@dataclass(frozen=True)
class _Setting:
    attack: str
    dataset: str
    arch: str
    ticket_sparsity: float
    margin: float

    @property
    def where(self) -> str:
        return f"dataset {self.dataset!r}, arch {self.arch!r}, attack {self.attack!r}"


def _has_both(rows: pd.DataFrame) -> bool:
    return bool((rows["sparsity"] == 0.0).any() and (rows["sparsity"] > 0.0).any())


def _rows_of(
    setting: _Setting,
    in_arch: pd.DataFrame,
    scores: Mapping[ScoreKey, pd.DataFrame],
    n_resamples: int,
    bootstrap_seed: int,
) -> list[dict[str, Any]]:
    """Table 1's rows of one attack, dataset and architecture: one per sample count."""
    try:
        ticket_p = nearest_sparsity(
            in_arch["sparsity"], setting.ticket_sparsity, exclude_dense=True
        )
    except ValueError as err:
        raise ValueError(f"{setting.where}: {err}") from err
    table_rows = []
    for n_samples in compared_sample_counts(
        setting.attack, [int(n) for n in in_arch["n_samples"].unique()]
    ):
        at_n = in_arch[in_arch["n_samples"] == n_samples]
        baseline = at_n[at_n["sparsity"] == 0.0]
        ticket = at_n[np.isclose(at_n["sparsity"], ticket_p, rtol=0, atol=1e-9)]
        here = f"{setting.where}, n_samples {n_samples}"
        if baseline.empty:
            raise ValueError(f"{here}: no dense baseline (sparsity 0) in the summary")
        if ticket.empty:
            raise ValueError(f"{here}: no ticket at sparsity {ticket_p:g} in the summary")
        seeds = sorted(baseline["seed"].astype(int))
        if seeds != sorted(ticket["seed"].astype(int)):
            raise ValueError(
                f"{here}: baseline seeds {seeds} differ from ticket (sparsity {ticket_p:g}) "
                f"seeds {sorted(ticket['seed'].astype(int))}; expected the same seeds"
            )
        model = (setting.attack, setting.dataset, setting.arch, n_samples)
        table_rows.append(
            {
                "attack": setting.attack,
                "dataset": setting.dataset,
                "arch": setting.arch,
                "n_samples": n_samples,
                "ticket_sparsity": ticket_p,
                "n_seeds": len(seeds),
                **_side("baseline", baseline),
                **_side("ticket", ticket),
                **_compared(
                    scores, model, ticket_p, seeds, setting.margin, n_resamples, bootstrap_seed
                ),
            }
        )
    return table_rows


def _side(side: str, rows: pd.DataFrame) -> dict[str, float]:
    """Each metric's mean over seeds with the figures' 95% interval
    (``stats.over_seeds.seed_means_by_group``: one seed's bootstrap interval, or over seeds and
    evaluation rows)."""
    columns: dict[str, float] = {}
    for metric in SIDE_METRICS:
        stats = seed_means_by_group(rows, ["attack"], metric).iloc[0]
        columns[f"{side}_{metric}"] = float(stats["mean"])
        columns[f"{side}_{metric}_ci_low"] = float(stats["low"])
        columns[f"{side}_{metric}_ci_high"] = float(stats["high"])
    return columns


def _compared(
    scores: Mapping[ScoreKey, pd.DataFrame],
    model: tuple[str, str, str, int],
    ticket_p: float,
    seeds: list[int],
    margin: float,
    n_resamples: int,
    bootstrap_seed: int,
) -> dict[str, Any]:
    """The paired differences, AUC first; TPR at the lowest FPR bound the paired rows resolve."""
    attack, dataset, arch, n_samples = model
    dense = scores_of(scores, score_key(attack, dataset, arch, seeds[0], 0.0, n_samples))
    bound_name = lowest_resolved_bound(int((~dense["member"].astype(bool)).sum()))
    metrics = ("auc", "accuracy", *([bound_name] if bound_name else []))
    comparison = ticket_minus_dense(
        scores, model, ticket_p, seeds, n_resamples, bootstrap_seed, metrics
    )
    columns = difference_columns(comparison.differences, margin)
    if bound_name is None:
        columns.update({column: np.nan for column in _difference("tpr")})
    return {
        **columns,
        "n_paired_rows": comparison.n_rows,
        "tpr_fpr_bound": FPR_BOUNDS[bound_name] if bound_name else np.nan,
        "interval": comparison.interval,
    }


def lowest_resolved_bound(n_non_members: int) -> str | None:
    """The low-FPR metric with the smallest bound that ``n_non_members`` rows resolve, if any."""
    resolved = [
        (bound, name) for name, bound in FPR_BOUNDS.items() if resolves_fpr(bound, n_non_members)
    ]
    return min(resolved)[1] if resolved else None


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


def write_table(
    frame: pd.DataFrame, csv_path: PathLike, md_path: PathLike, markdown: str | None = None
) -> None:
    """Write a table as CSV (full precision, for reuse) and markdown (``markdown``, or every
    column at 3 decimals, for reading)."""
    with atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(md_path) as tmp:
        Path(tmp).write_text(markdown_table(frame) if markdown is None else markdown)


def _with_interval(row: Mapping[str, Any], name: str, sign: str = "") -> str:
    """``0.612 [0.580, 0.641]``; an undefined interval is ``n/a``, never a bare number."""
    value, low, high = row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    if math.isnan(value):
        return "n/a"
    interval = "n/a" if math.isnan(low) else f"{low:{sign}.3f}, {high:{sign}.3f}"
    return f"{value:{sign}.3f} [{interval}]"


def _ninety_interval(row: Mapping[str, Any], name: str) -> str:
    low, high = row[f"{name}_ci90_low"], row[f"{name}_ci90_high"]
    return "n/a" if math.isnan(low) else f"[{low:+.3f}, {high:+.3f}]"


def table1_markdown(table: pd.DataFrame) -> str:
    """Table 1 for reading: first the strongest attack's verdict per dataset and architecture (the
    attack with the highest dense AUC there), then every row with its intervals."""
    readable = pd.DataFrame(
        {
            "attack": table["attack"],
            "dataset": table["dataset"],
            "arch": table["arch"],
            "n": table["n_samples"],
            "ticket": table["ticket_sparsity"],
            "seeds": table["n_seeds"],
            "rows": table["n_paired_rows"],
            **{
                label: [_with_interval(row, column) for row in table.to_dict("records")]
                for label, column in READABLE_SIDES.items()
            },
            "AUC ticket - dense [95%]": _column(table, "auc_difference", "+"),
            "[90%]": [_ninety_interval(row, "auc_difference") for row in table.to_dict("records")],
            "TPR ticket - dense [95%]": _column(table, "tpr_difference", "+"),
            "at FPR <": table["tpr_fpr_bound"],
            "verdict": table["verdict"],
            "p": table["p_difference"],
            "p (equiv.)": table["p_equivalence"],
            "verdict (Holm)": table["verdict_holm"],
        }
    )
    strongest = _strongest(table)
    margin = float(table["equivalence_margin"].iloc[0]) if len(table) else float("nan")
    return (
        "## Strongest attack per dataset and architecture\n\n"
        f"{markdown_table(strongest)}\n"
        f"## Every attack (equivalence margin ±{margin:g}; intervals 95% unless marked; the "
        "verdict reads the 90% interval of the AUC difference against the margin)\n\n"
        f"{markdown_table(readable)}"
    )


#: Readable Table 1 column -> the CSV column whose value and 95% interval it shows.
READABLE_SIDES: dict[str, str] = {
    "dense AUC": "baseline_auc",
    "ticket AUC": "ticket_auc",
    "dense accuracy": "baseline_accuracy",
    "ticket accuracy": "ticket_accuracy",
    "dense precision": "baseline_precision",
    "ticket precision": "ticket_precision",
}


def _column(table: pd.DataFrame, name: str, sign: str = "") -> list[str]:
    return [_with_interval(row, name, sign) for row in table.to_dict("records")]


def _strongest(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, arch and n: the row of the attack with the highest dense AUC."""
    if table.empty:
        return pd.DataFrame(columns=["dataset", "arch", "n", "strongest attack"])
    best = table.loc[
        table.groupby(["dataset", "arch", "n_samples"], sort=False)["baseline_auc"].idxmax()
    ]
    return pd.DataFrame(
        {
            "dataset": best["dataset"],
            "arch": best["arch"],
            "n": best["n_samples"],
            "strongest attack": best["attack"],
            "dense AUC": _column(best, "baseline_auc"),
            "AUC ticket - dense": _column(best, "auc_difference", "+"),
            "verdict (Holm)": best["verdict_holm"],
        }
    )


def write_table1(table: pd.DataFrame, csv_path: PathLike, md_path: PathLike) -> None:
    write_table(table, csv_path, md_path, table1_markdown(table))


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
