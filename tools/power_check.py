"""How good `make plan`'s predictions were: a plan made from a pilot against the run it planned.

    .venv/bin/python workflow_scripts/plan.py --config config.yaml --pilot <pilot>/results \
        --output plan.json
    .venv/bin/python tools/power_check.py --plan plan.json --results results --out docs/power_check

Reads the plan's power forecasts (each Table 1 row's predicted 90% half-width of the ticket -
dense AUC difference, and whether it has 80% power for ``equivalent``) and its disk figures, and
the finished run's Table 1 and result files. Writes to ``--out``:

- ``prediction.csv``: one row per Table 1 row: the pilot's rows and half-width, the predicted and
  the measured ones, measured / predicted, the predicted power and the measured verdicts (alone,
  and Holm-adjusted over the table as Table 1 reports it);
- ``plan.json``: the plan the predictions come from;
- ``summary.csv``: ``quantity, value``: the spread of measured / predicted over the rows whose
  evaluation rows changed and over those whose rows did not, what taking the pilot's half-width
  as it is would have been off by, and the disk predicted and measured per kind.

docs/planning.md quotes these files (tests/unit/test_docs_numbers.py checks the quotes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import pandas as pd

#: Files of each disk kind of the plan (``plan_disk.DISK_KINDS``), by name pattern under results/.
DISK_FILES = {
    "checkpoints": ("*.pt",),
    "outputs parquet": ("outputs.parquet",),
    "reference statistics": ("reference_keep.parquet", "*.npz"),
    "attack scores": ("attack/**/*.parquet", "attack/**/*.json", "transfer/*.parquet"),
}


def prediction_rows(plan: dict, table: pd.DataFrame) -> pd.DataFrame:
    """The forecast of every Table 1 row beside what the run measured."""
    measured = table.set_index(["attack", "arch", "n_samples"])
    records = []
    for row in plan["power"]["rows"]:
        got = measured.loc[(row["attack"], row["arch"], row["n_samples"])]
        half_width = (got["auc_difference_ci90_high"] - got["auc_difference_ci90_low"]) / 2
        predicted = row["half_width"] or float("nan")  # None: it needs the seeds' spread
        records.append(
            {
                "attack": row["attack"],
                "arch": row["arch"],
                "n_samples": row["n_samples"],
                "pilot_rows": row["pilot_rows"],
                "pilot_half_width": round(row["pilot_half_width"], 4),
                "predicted_rows": row["rows"],
                "predicted_half_width": round(predicted, 4),
                "measured_rows": int(got["n_paired_rows"]),
                "measured_half_width": round(half_width, 4),
                "measured_over_predicted": round(half_width / predicted, 2),
                "powered_predicted": "yes" if row["powered"] else "no",
                "measured_verdict": got["verdict"],
                "measured_verdict_holm": got["verdict_holm"],
            }
        )
    return pd.DataFrame.from_records(records)


def measured_disk(results: Path) -> dict[str, int]:
    """Bytes of the run's files per disk kind (``DISK_FILES``)."""
    totals = {}
    for kind, patterns in DISK_FILES.items():
        files = {path for pattern in patterns for path in results.rglob(pattern)}
        totals[kind] = sum(path.stat().st_size for path in files if "benchmarks" not in path.parts)
    return totals


def summary_rows(rows: pd.DataFrame, plan: dict, results: Path) -> list[tuple[str, float]]:
    changed = rows[rows["measured_rows"] != rows["pilot_rows"]]
    same = rows[rows["measured_rows"] == rows["pilot_rows"]]
    ratio = changed["measured_over_predicted"]
    as_is = changed["measured_half_width"] / changed["pilot_half_width"]
    summary = [
        ("rows whose evaluation rows changed", len(changed)),
        ("changed: measured / predicted, lowest", ratio.min()),
        ("changed: measured / predicted, highest", ratio.max()),
        ("changed: measured / predicted, median", round(statistics.median(ratio), 2)),
        ("changed: measured / pilot as it is, median", round(statistics.median(as_is), 2)),
        ("rows whose evaluation rows stayed", len(same)),
        ("stayed: measured / predicted, lowest", same["measured_over_predicted"].min()),
        ("stayed: measured / predicted, highest", same["measured_over_predicted"].max()),
    ]
    measured = measured_disk(results)
    for kind, predicted in plan["disk_bytes"].items():
        summary += [
            (f"disk MB predicted: {kind}", round(predicted / 1e6, 2)),
            (f"disk MB measured: {kind}", round(measured.get(kind, 0) / 1e6, 2)),
        ]
    summary += [
        ("disk MB predicted: total", round(sum(plan["disk_bytes"].values()) / 1e6, 1)),
        ("disk MB measured: total", round(sum(measured.values()) / 1e6, 1)),
    ]
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, required=True, help="plan.json made with --pilot")
    parser.add_argument("--results", type=Path, required=True, help="results/ of the planned run")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text())
    if not plan.get("power"):
        print(f"{args.plan}: no power forecasts; make it with plan.py --pilot", file=sys.stderr)
        return 1
    rows = prediction_rows(plan, pd.read_csv(args.results / "tables" / "table1.csv"))
    args.out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(args.out / "prediction.csv", index=False)
    (args.out / "plan.json").write_text(json.dumps(plan, indent=1) + "\n")
    summary = pd.DataFrame(summary_rows(rows, plan, args.results), columns=["quantity", "value"])
    summary.to_csv(args.out / "summary.csv", index=False)
    print(rows.to_string(index=False))
    print(summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
