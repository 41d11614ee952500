"""tools/power_check.py: a plan's forecasts set beside the run it planned (docs/power_check/)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO

pytestmark = pytest.mark.unit


def power_check():
    spec = importlib.util.spec_from_file_location("power_check", REPO / "tools" / "power_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def forecast(attack: str, pilot_rows: int, rows: int, pilot: float, predicted: float) -> dict:
    return {
        "attack": attack,
        "arch": "resnet18",
        "n_samples": 1200,
        "pilot_rows": pilot_rows,
        "pilot_half_width": pilot,
        "rows": rows,
        "half_width": predicted,
        "powered": attack == "mlp",
    }


def table_row(attack: str, rows: int, low: float, high: float, verdict: str) -> dict:
    return {
        "attack": attack,
        "arch": "resnet18",
        "n_samples": 1200,
        "n_paired_rows": rows,
        "auc_difference_ci90_low": low,
        "auc_difference_ci90_high": high,
        "verdict": verdict,
        "verdict_holm": "inconclusive",
    }


def test_measured_half_widths_are_set_beside_the_forecasts_and_the_disk(tmp_path: Path) -> None:
    plan = {
        "power": {
            "rows": [forecast("mlp", 200, 400, 0.02, 0.014), forecast("rmia", 596, 596, 0.04, 0.04)]
        },
        "disk_bytes": {"checkpoints": 3_000_000, "outputs parquet": 1_000_000},
    }
    table = pd.DataFrame(
        [
            table_row("mlp", 400, -0.01, 0.018, "equivalent"),  # half-width 0.014
            table_row("rmia", 596, -0.05, 0.03, "inconclusive"),  # half-width 0.04
        ]
    )
    results = tmp_path / "results"
    (results / "digits" / "attack").mkdir(parents=True)
    (results / "digits" / "model.pt").write_bytes(b"x" * 2_500_000)
    (results / "digits" / "outputs.parquet").write_bytes(b"x" * 1_000_000)
    (results / "benchmarks").mkdir()
    (results / "benchmarks" / "other.pt").write_bytes(b"x" * 9_000_000)  # not a result
    tool = power_check()
    rows = tool.prediction_rows(plan, table)
    assert rows["measured_half_width"].tolist() == [0.014, 0.04]
    assert rows["measured_over_predicted"].tolist() == [1.0, 1.0]
    assert rows["measured_verdict"].tolist() == ["equivalent", "inconclusive"]
    summary = dict(tool.summary_rows(rows, plan, results))
    assert summary["rows whose evaluation rows changed"] == 1
    assert summary["changed: measured / pilot as it is, median"] == 0.7
    assert summary["disk MB measured: checkpoints"] == 2.5
    assert summary["disk MB predicted: total"] == 4.0
    assert summary["disk MB measured: total"] == 3.5

    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps({"power": None}))
    assert tool.main(["--plan", str(plan_path), "--results", str(results), "--out", "x"]) == 1
