"""The pilot run a power plan scales from: its Table 1 rows, and whether it matches the config.

A pilot is the ``results/`` folder of a finished run. Each of its Table 1 rows gives the 90%
interval of ticket - dense and, from the same run's summary, each seed's difference (``PilotRow``):
what ``power`` needs to separate row noise from seed noise. A pilot of another config (other
datasets, architectures, attacks, sample counts or ticket) would predict the wrong table, so it is
refused naming each difference (``check_pilot_matches``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.attack.registry import compared_sample_counts
from lottery_mia.config import canonical_sparsity

#: Table 1 row identity: (attack, dataset, arch, n_samples).
RowKey = tuple[str, str, str, int]


class PilotError(ValueError):
    """A pilot that cannot predict this config: missing files, or another config's results."""


@dataclass(frozen=True)
class PilotRow:
    """One Table 1 row of the pilot and what its noise is made of."""

    key: RowKey
    n_seeds: int
    n_rows: int  # paired rows of the table
    scored_rows: int  # rows the attack scored on each model (the summary's n_eval)
    half_width: float  # of the 90% interval of the AUC difference
    seed_differences: tuple[float, ...]  # each seed's ticket - dense AUC (summary)


@dataclass(frozen=True)
class Pilot:
    """A finished run's Table 1 rows and the ticket sparsities its table compares."""

    folder: Path
    rows: tuple[PilotRow, ...]
    tickets: frozenset[str]


def read_pilot(folder: Path, method: str) -> Pilot:
    """Table 1's rows of a finished run (``folder`` = its results/), each with its seeds'
    differences from the summary of the same run (``method``: the figures' pruning method)."""
    table_path, summary_path = folder / "tables" / "table1.csv", folder / "summary.parquet"
    missing = [str(path) for path in (table_path, summary_path) if not path.is_file()]
    if missing:
        raise PilotError(
            f"pilot {folder}: no {' and no '.join(missing)}; expected the results/ folder of a "
            "finished run (`make demo` or `snakemake` to the end)"
        )
    table = pd.read_csv(table_path)
    summary = pd.read_parquet(summary_path)
    rows = tuple(_pilot_row(r, summary, method) for r in table.to_dict("records"))
    tickets = frozenset(canonical_sparsity(p) for p in table["ticket_sparsity"].unique())
    return Pilot(folder, rows, tickets)


def _pilot_row(record: Mapping[str, Any], summary: pd.DataFrame, method: str) -> PilotRow:
    key: RowKey = (
        str(record["attack"]),
        str(record["dataset"]),
        str(record["arch"]),
        int(record["n_samples"]),
    )
    low, high = record["auc_difference_ci90_low"], record["auc_difference_ci90_high"]
    return PilotRow(
        key=key,
        n_seeds=int(record["n_seeds"]),
        n_rows=int(record["n_paired_rows"]),
        scored_rows=int(_rows_of(summary, key)["n_eval"].max()),
        half_width=float(high - low) / 2,
        seed_differences=_seed_differences(summary, key, float(record["ticket_sparsity"]), method),
    )


def _rows_of(summary: pd.DataFrame, key: RowKey) -> pd.DataFrame:
    """The summary's rows of one Table 1 row's attack, dataset, arch and sample count."""
    attack, dataset, arch, n_samples = key
    return summary[
        (summary["attack"] == attack)
        & (summary["dataset"] == dataset)
        & (summary["arch"] == arch)
        & (summary["n_samples"] == n_samples)
    ]


def _seed_differences(
    summary: pd.DataFrame, key: RowKey, ticket_sparsity: float, method: str
) -> tuple[float, ...]:
    rows = _rows_of(summary, key)
    dense = rows[rows["method"] == "dense"].set_index("seed")["auc"]
    ticket_rows = rows[(rows["method"] == method) & np.isclose(rows["sparsity"], ticket_sparsity)]
    ticket = ticket_rows.set_index("seed")["auc"]
    both = dense.index.intersection(ticket.index).sort_values()
    return tuple(float(ticket[seed] - dense[seed]) for seed in both)


def planned_rows(table1_keys: Sequence[Mapping[str, Any]]) -> set[RowKey]:
    """Table 1's rows of the config, from the table job's scores keys in the DAG (one n only for
    an attack whose scores do not depend on n, as ``tables.table1`` compares)."""
    counts: dict[tuple[str, str, str], set[int]] = {}
    for k in table1_keys:
        setting = (str(k["attack"]), str(k["dataset"]), str(k["arch"]))
        counts.setdefault(setting, set()).add(int(k["n_samples"]))
    return {
        (*setting, n)
        for setting, ns in counts.items()
        for n in compared_sample_counts(setting[0], sorted(ns))
    }


def check_pilot_matches(pilot: Pilot, planned: set[RowKey], ticket: str) -> None:
    """Refuse a pilot whose Table 1 comes from another config, naming each difference: its
    datasets, architectures, attacks, sample counts per dataset and ticket sparsity."""
    found = {row.key for row in pilot.rows}
    differences = [
        _difference(name, {pick(k) for k in found}, {pick(k) for k in planned})
        for name, pick in (
            ("datasets", lambda k: k[1]),
            ("architectures", lambda k: k[2]),
            ("Table 1 attacks", lambda k: k[0]),
            ("sample counts", lambda k: f"{k[1]} n={k[3]}"),
        )
    ]
    differences.append(_difference("ticket sparsity", set(pilot.tickets), {ticket}))
    differences = [text for text in differences if text]
    if not differences and not planned <= found:
        differences = [f"Table 1 rows: the pilot lacks {sorted(planned - found)}"]
    if differences:
        raise PilotError(
            f"pilot {pilot.folder} comes from another config and cannot predict this one: "
            + "; ".join(differences)
        )


def _difference(name: str, pilot: set[str], config: set[str]) -> str:
    if pilot == config:
        return ""
    return f"{name}: pilot has {sorted(pilot)}, config has {sorted(config)}"


def ticket_of(config: Mapping[str, Any]) -> str:
    """Table 1's ticket: the grid's non-zero sparsity nearest ``figures.sparsity``."""
    wanted = config["figures"]["sparsity"]
    tickets = [p for p in config["grid"]["sparsities"] if p > 0]
    return canonical_sparsity(min(tickets, key=lambda p: abs(p - wanted)))
