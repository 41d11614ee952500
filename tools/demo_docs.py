"""``make docs``: copy what ``make demo`` wrote into docs/demo/, the files README.md and docs/ quote.

Copies ``results/summary.parquet`` (and writes it as ``summary.csv``, for readable diffs), every
table of ``results/tables/`` (Table 1 and the per-class table, CSV and markdown) and every PNG
figure of ``results/figures/``. It also writes two excerpts in the layout the documents quote
them, so that refreshing a quoted block is a paste:

- ``table1_readme.md``: Table 1's AUC columns, as README.md shows them;
- ``reference_attacks.md``: AUC and TPR at 1% FPR of the attacks on the models with reference
  models, at the largest sample count, as docs/reference_models.md shows them.

With ``--plans``, it also sums up the ``make plan`` documents of that folder (``*.json``, written
there by ``make docs`` for the paper configs) in ``plans.csv``: jobs, GPU-hours (also as a percent
of the paper config's) and disk per config, as README.md quotes them; and ``plans_by_dataset.csv``:
each config's GPU-hours per dataset, as docs/datasets_downsampled_imagenet.md quotes them.

Files of an earlier ``make docs`` that the demo no longer writes are removed. The test
tests/unit/test_docs_numbers.py checks every quoted number against these files.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

#: What docs/demo/ holds: only files of these kinds are ever replaced or removed there.
COPIED_SUFFIXES = (".png", ".csv", ".md", ".parquet")
KEPT = ("README.md",)
REFERENCE_TABLE_ATTACKS = (
    "mlp",
    "shadow_mlp",
    "loss_threshold",
    "lira_online",
    "lira_offline",
    "rmia",
    "rmia_offline",
)


def arch_label(arch: str) -> str:
    """``resnet18`` -> ``ResNet-18``; other names unchanged."""
    match = re.fullmatch(r"resnet(\d+)", arch)
    return f"ResNet-{match[1]}" if match else arch


def with_interval(value: float, low: float, high: float, signed: bool = False) -> str:
    """``0.472 [0.416, 0.526]``, with explicit signs for a difference; ``n/a`` for NaN."""
    if pd.isna(value):
        return "n/a"
    number = "{:+.3f}" if signed else "{:.3f}"
    if pd.isna(low) or pd.isna(high):
        return number.format(value)
    return f"{number.format(value)} [{number.format(low)}, {number.format(high)}]"


def p_value(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3f}"


def table1_excerpt(table: pd.DataFrame) -> str:
    """Table 1's AUC comparison in README.md's layout (numbers rounded as table1.md rounds)."""
    several = table["dataset"].nunique() > 1
    # Table 1 may hold one block of rows per attack (a column added on another branch).
    attacks = "attack" in table.columns and table["attack"].nunique() > 1
    sparsities = sorted({f"{p:.0%}" for p in table["ticket_sparsity"]})
    header = [
        *(["attack"] if attacks else []),
        *(["dataset"] if several else []),
        "arch",
        "n",
        "AUC dense [95% CI]",
        f"AUC ticket {', '.join(sparsities)} [95% CI]",
        "AUC ticket \u2212 dense [95% CI]",
        "verdict (p difference, p equivalence)",
        f"verdict, Holm over {len(table)} rows (adjusted p)",
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if name == "n" else "---" for name in header) + "|",
    ]
    for row in table.itertuples(index=False):
        cells = [
            *([f"`{row.attack}`"] if attacks else []),
            *([row.dataset] if several else []),
            arch_label(row.arch),
            f"{row.n_samples:,}",
            with_interval(row.baseline_auc, row.baseline_auc_ci_low, row.baseline_auc_ci_high),
            with_interval(row.ticket_auc, row.ticket_auc_ci_low, row.ticket_auc_ci_high),
            with_interval(
                row.auc_difference,
                row.auc_difference_ci_low,
                row.auc_difference_ci_high,
                signed=True,
            ),
            f"{row.verdict} ({p_value(row.p_difference)}, {p_value(row.p_equivalence)})",
            f"{row.verdict_holm} ({p_value(row.p_difference_holm)}, "
            f"{p_value(row.p_equivalence_holm)})",
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def reference_excerpt(summary: pd.DataFrame) -> str:
    """AUC and TPR at 1% FPR of every attack on the models with reference models, largest n."""
    model = ["dataset", "arch", "seed", "method", "sparsity"]
    referenced = summary.loc[summary["n_reference_models"].fillna(0) > 0, model].drop_duplicates()
    if referenced.empty:
        return "No model of this run has reference models.\n"
    rows = summary.merge(referenced, on=model)
    rows = rows[rows["attack"].isin(REFERENCE_TABLE_ATTACKS)]
    rows = rows[rows["n_samples"] == rows["n_samples"].max()]
    order = {attack: i for i, attack in enumerate(REFERENCE_TABLE_ATTACKS)}
    rows = rows.assign(order=rows["attack"].map(order)).sort_values(
        ["dataset", "arch", "sparsity", "order"]
    )
    lines = [
        "| arch | model | attack | AUC [95% CI] | TPR at FPR < 1% [95% CI] | rows scored |",
        "|---|---|---|---|---|---:|",
    ]
    for row in rows.to_dict("records"):
        model = "dense" if row["sparsity"] == 0 else f"{row['method']} {row['sparsity']:.0%}"
        lines.append(
            f"| {arch_label(row['arch'])} | {model} | `{row['attack']}` | "
            f"{with_interval(row['auc'], row['auc_ci_low'], row['auc_ci_high'])} | "
            + with_interval(
                row["tpr_at_1pct_fpr"],
                row["tpr_at_1pct_fpr_ci_low"],
                row["tpr_at_1pct_fpr_ci_high"],
            )
            + f" | {int(row['n_eval'])} |"
        )
    n_samples = int(rows["n_samples"].max())
    return f"n = {n_samples:,}\n\n" + "\n".join(lines) + "\n"


def copy_demo(results: Path, out: Path) -> list[Path]:
    """Copy the demo's summary, tables and figures from ``results`` into ``out``; the paths written."""
    summary_path = results / "summary.parquet"
    table1_path = results / "tables" / "table1.csv"
    missing = [str(p) for p in (summary_path, table1_path) if not p.is_file()]
    if missing:
        raise SystemExit(f"make docs: {', '.join(missing)} missing; run `make demo` first")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file() and old.suffix in COPIED_SUFFIXES and old.name not in KEPT:
            old.unlink()
    written = []
    sources = [
        summary_path,
        *sorted((results / "tables").glob("*.csv")),
        *sorted((results / "tables").glob("*.md")),
        *sorted((results / "figures").glob("*.png")),
    ]
    for source in sources:
        written.append(Path(shutil.copy2(source, out / source.name)))
    summary = pd.read_parquet(summary_path)
    summary.to_csv(out / "summary.csv", index=False)
    written.append(out / "summary.csv")
    excerpts = {
        "table1_readme.md": table1_excerpt(pd.read_csv(table1_path)),
        "reference_attacks.md": reference_excerpt(summary),
    }
    for name, text in excerpts.items():
        (out / name).write_text(text)
        written.append(out / name)
    return written


#: The config the other plans are measured against (``percent_of_paper`` columns).
PAPER_CONFIG = "configs/paper.yaml"


def plans_table(folder: Path) -> list[Path]:
    """``plans.csv``: one row per ``make plan`` document of ``folder``, the totals README.md
    quotes (disk in GB, rounded as the plan prints it), with each config's GPU-hours as a percent
    of ``PAPER_CONFIG``'s; ``plans_by_dataset.csv``: the GPU-hours of each config per dataset."""
    plans = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    if not plans:
        raise SystemExit(f"make docs: no plan (*.json) in {folder}")
    totals = pd.DataFrame([_plan_totals(plan) for plan in plans])
    paper = totals[totals["config"] == PAPER_CONFIG]
    for column in ("gpu_hours_requested", "gpu_hours_at_table_rates"):
        share = 100 * totals[column] / paper[column].item() if len(paper) else float("nan")
        totals[f"{column}_percent_of_paper"] = round(share, 1)
    by_dataset = pd.concat([_gpu_hours_by_dataset(plan) for plan in plans], ignore_index=True)
    targets = [folder / "plans.csv", folder / "plans_by_dataset.csv"]
    totals.to_csv(targets[0], index=False)
    by_dataset.to_csv(targets[1], index=False)
    return targets


def _plan_totals(plan: dict) -> dict:
    return {
        "config": plan["config"],
        "jobs": plan["total_jobs"],
        "gpu_hours_requested": round(plan["total_gpu_hours_requested"], 1),
        "gpu_hours_at_table_rates": round(plan["total_gpu_hours_at_table_rates"], 1),
        "cpu_hours_requested": round(plan["total_cpu_hours_requested"], 1),
        "disk_gb": round(plan["total_disk_bytes"] / 1e9, 1),
    }


def _gpu_hours_by_dataset(plan: dict) -> pd.DataFrame:
    """One row per dataset of a plan: its GPU-hours over every stage, rounded as printed."""
    hours = pd.DataFrame(plan["hours"])
    hours = hours[hours["dataset"] != "all"]
    columns = ["gpu_hours_requested", "gpu_hours_at_table_rates"]
    summed = hours.groupby("dataset", sort=False)[columns].sum().round(1).reset_index()
    return summed.assign(config=plan["config"])[["config", "dataset", *columns]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--out", type=Path, default=Path("docs/demo"))
    parser.add_argument("--plans", type=Path, help="folder of make plan documents to sum up")
    args = parser.parse_args(argv)
    for path in copy_demo(args.results, args.out):
        print(path)
    if args.plans is not None:
        for path in plans_table(args.plans):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
