"""Steps of the per-example exposure rules: class counts, the exposure tables and their summary."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.atomic import PathLike, atomic_path, write_parquet
from lottery_mia.exposure import (
    NEEDS_TWO_SEEDS,
    mean_with_interval,
    member_resamples,
    memorisation_resolution,
    spearman_with_interval,
)
from lottery_mia.exposure_table import (
    DENSE_MODEL,
    agreement_rows,
    column,
    evaluated_rows,
    exposure_table,
    lowest_seed,
    read_inputs,
    reference_memorisations,
)

log = logging.getLogger(__name__)
TICKET_FOLDER_SEPARATOR = "/sparsity"


def class_counts(dataset: str, data: Mapping[str, Any], counts_path: PathLike) -> None:
    """Training rows per class of the train pool as the models see it (after its class profile)."""
    from lottery_mia.data import load_dataset
    from lottery_mia.data.class_profile import class_frequencies

    loaded = load_dataset(dataset, data)
    counts = class_frequencies(loaded.train.labels, loaded.info.num_classes)
    log.info("%s: %d members, per class %s", dataset, counts.sum(), counts.tolist())
    frame = pd.DataFrame({"label": np.arange(counts.size), "class_frequency": counts})
    write_parquet(frame, counts_path)


def _method_and_sparsity(model: str) -> tuple[str, float]:
    method, _, sparsity = model.partition(TICKET_FOLDER_SEPARATOR)
    return method, float(sparsity)


def exposure(
    outputs: Sequence[str],
    output_keys: Sequence[Mapping[str, Any]],
    scores: Sequence[str],
    score_keys: Sequence[Mapping[str, Any]],
    reference_outputs: Sequence[str],
    reference_keys: Sequence[Mapping[str, Any]],
    counts_path: PathLike,
    dataset: str,
    n_references: int,
    bootstrap: Mapping[str, int],
    top_fraction: float,
    reference_attack: str | None,
    table_path: PathLike,
    agreement_path: PathLike,
    memorisation_path: PathLike,
    summary_path: PathLike,
    keep_path: PathLike | None = None,
) -> None:
    """``exposure_{dataset}.parquet`` (one row per evaluated example), the agreement and
    memorisation CSVs and the markdown summary."""
    model_frames, score_frames = read_inputs(outputs, output_keys, scores, score_keys)
    rows = evaluated_rows(list(score_frames.values()))
    keep_frame = None if keep_path is None else pd.read_parquet(keep_path)
    memorised = reference_memorisations(reference_outputs, reference_keys, keep_frame, rows)
    counts = pd.read_parquet(counts_path).set_index("label")["class_frequency"].to_dict()
    table = exposure_table(model_frames, score_frames, memorised, rows, counts)
    agreement = pd.DataFrame(
        agreement_rows(score_frames, bootstrap["resamples"], bootstrap["seed"], top_fraction)
    )
    if not agreement.empty:
        method_sparsity = [_method_and_sparsity(m) for m in agreement["model"]]
        agreement.insert(0, "dataset", dataset)
        agreement.insert(3, "method", [m for m, _ in method_sparsity])
        agreement.insert(4, "sparsity", [p for _, p in method_sparsity])
    memorised = memorisation_rows(table, reference_attack, bootstrap)
    log.info("%d evaluated rows, %d agreement rows", len(table), len(agreement))
    write_parquet(table, table_path)
    for frame, path in ((agreement, agreement_path), (memorised, memorisation_path)):
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
    with atomic_path(summary_path) as tmp:
        Path(tmp).write_text(
            summary_markdown(dataset, table, agreement, memorised, n_references, reference_attack)
        )


# --- the markdown summary ------------------------------------------------------------------------


def _interval(row: Mapping[str, Any], name: str) -> str:
    value = row[name]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _agreement_lines(agreement: pd.DataFrame) -> list[str]:
    if agreement.empty:
        return ["No ticket has scores beside its dense model.", ""]
    lines = [
        "| arch | ticket | attack | members (top k) | Spearman | dense vs dense | verdict "
        "| top-k Jaccard | dense vs dense | verdict |",
        "|:---|:---|:---|---:|---:|---:|:---|---:|---:|:---|",
    ]
    for row in agreement.to_dict("records"):
        lines.append(
            f"| {row['arch']} | {row['model']} | {row['attack']} | {row['n_members']} "
            f"({row['top_k']}) | {_interval(row, 'spearman')} "
            f"| {_interval(row, 'spearman_dense_dense')} | {row['spearman_verdict']} "
            f"| {_interval(row, 'jaccard')} | {_interval(row, 'jaccard_dense_dense')} "
            f"| {row['jaccard_verdict']} |"
        )
    if (agreement["n_dense_pairs"] == 0).any():
        lines += ["", f"Dense vs dense n/a: {NEEDS_TWO_SEEDS} (the grid has one seed)."]
    return [*lines, ""]


#: Columns of ``exposure_memorisation_{dataset}.csv``: one row per model with references.
MEMORISATION_COLUMNS = (
    "arch", "model", "attack", "n_members",
    "mean", "mean_ci_low", "mean_ci_high",
    "share_at_least_half", "share_at_least_half_ci_low", "share_at_least_half_ci_high",
    "spearman", "spearman_ci_low", "spearman_ci_high",
)  # fmt: skip


def memorisation_columns(table: pd.DataFrame) -> list[str]:
    """The table's ``{arch}/{model}/memorisation`` columns, each architecture's dense model first."""
    names = [c for c in table.columns if c.endswith("/memorisation")]
    return sorted(
        names, key=lambda c: (c.split("/")[0], not c.endswith(f"/{DENSE_MODEL}/memorisation"), c)
    )


def memorisation_rows(
    table: pd.DataFrame, reference_attack: str | None, bootstrap: Mapping[str, int]
) -> pd.DataFrame:
    """Per model with references: its members' mean memorisation, the share at >= 0.5, and the
    Spearman correlation with its ``reference_attack`` score (the exposure Figure 9 sets
    memorisation against), each with its 95% bootstrap interval over members."""
    members = table[table["member"]]
    records = []
    for name in memorisation_columns(table):
        arch, model = name.removesuffix("/memorisation").split("/", 1)
        exposure = _reference_score(members, arch, model, reference_attack)
        frame = pd.DataFrame(
            {"estimate": members[name], "exposure": np.nan if exposure is None else exposure}
        ).dropna(subset=["estimate"] if exposure is None else None)
        records.append(
            (arch, model, reference_attack, len(members), *_memorisation_stats(frame, bootstrap))
        )
    return pd.DataFrame.from_records(records, columns=list(MEMORISATION_COLUMNS))


def _memorisation_stats(frame: pd.DataFrame, bootstrap: Mapping[str, int]) -> tuple[float, ...]:
    """Mean, share >= 0.5 and Spearman with the exposure (NaN without one), each with its
    interval, all from one set of member draws; NaN throughout below two members."""
    if len(frame) < 2:
        return (math.nan,) * 9
    resampled = member_resamples(len(frame), bootstrap["resamples"], bootstrap["seed"])
    estimate, exposure = frame["estimate"].to_numpy(), frame["exposure"].to_numpy()
    rho = (math.nan,) * 3
    if not np.isnan(exposure).all():
        rho = spearman_with_interval(estimate, exposure, resampled)
    return (
        *mean_with_interval(estimate, resampled),
        *mean_with_interval(estimate >= 0.5, resampled),
        *rho,
    )


def _memorisation_lines(
    memorised: pd.DataFrame, n_references: int, reference_attack: str | None
) -> list[str]:
    if memorised.empty:
        return ["No reference models: no memorisation estimate.", ""]
    step = memorisation_resolution(n_references)
    lines = [
        f"Memorisation P(correct | IN) - P(correct | OUT) over K = {n_references} references: "
        f"each row is IN for {n_references // 2}, so the estimate moves in steps of {step:g} "
        "(a coarse ranking at small K; zero means 'not resolved', not 'not memorised').",
        "",
        f"| model | members | mean [95% CI] | share >= 0.5 [95% CI] | Spearman with its "
        f"{reference_attack} score [95% CI] |",
        "|:---|---:|---:|---:|---:|",
    ]
    for row in memorised.to_dict("records"):
        lines.append(
            f"| {row['arch']}/{row['model']} | {row['n_members']} | {_interval(row, 'mean')} "
            f"| {_interval(row, 'share_at_least_half')} | {_interval(row, 'spearman')} |"
        )
    return [*lines, ""]


def _reference_score(
    frame: pd.DataFrame, arch: str, model: str, attack: str | None
) -> pd.Series | None:
    """The lowest seed's score of ``attack`` for the model (None: no such score)."""
    if attack is None:
        return None
    seed = lowest_seed(frame.columns, arch, model, f"score_{attack}")
    return None if seed is None else frame[column(arch, seed, model, f"score_{attack}")]


def _exemplar_lines(table: pd.DataFrame) -> list[str]:
    columns = [c for c in table.columns if c.endswith("/pie")]
    if not columns:
        return []
    lines = [
        "Pruning-identified exemplars (dense modal prediction right, ticket's wrong):",
        "",
        "| ticket | exemplars (members, non-members) | mean class frequency: exemplars, others |",
        "|:---|---:|---:|",
    ]
    for name in columns:
        pie = table[name].astype(bool)
        frequency = table["class_frequency"]
        lines.append(
            f"| {name.removesuffix('/pie')} | {int(pie.sum())} ({int((pie & table['member']).sum())}, "
            f"{int((pie & ~table['member']).sum())}) | {frequency[pie].mean():.1f}, "
            f"{frequency[~pie].mean():.1f} |"
        )
    return [*lines, ""]


def summary_markdown(
    dataset: str,
    table: pd.DataFrame,
    agreement: pd.DataFrame,
    memorised: pd.DataFrame,
    n_references: int,
    reference_attack: str | None,
) -> str:
    """What the exposure table says, for reading: agreement, memorisation, exemplars."""
    n_members = int(table["member"].sum())
    lines = [
        f"# Per-example exposure: {dataset}",
        "",
        f"{len(table)} evaluated examples ({n_members} members). 95% intervals: bootstrap over "
        "members, the same resamples for every pair of models.",
        "",
        "## Does the ticket expose the same members as its dense model?",
        "",
        *_agreement_lines(agreement),
        "## Memorisation",
        "",
        *_memorisation_lines(memorised, n_references, reference_attack),
        "## Pruning-identified exemplars",
        "",
        *_exemplar_lines(table),
    ]
    return "\n".join(lines)
