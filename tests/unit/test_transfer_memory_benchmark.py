"""benchmarks/transfer_memory.py runs the transfer job's function as the rule calls it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_the_job_on_small_fabricated_outputs():
    small = ["--classes", "4", "--per-pool", "300", "--eval-size", "100", "--n-samples", "100"]
    command = [sys.executable, str(REPO / "benchmarks/transfer_memory.py"), "--models", "1", "2"]
    done = subprocess.run(
        [*command, *small, "--attack", "mlp", "--mlp-max-iter", "5"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert [row[0] for row in rows] == ["1", "2"]
    assert all(float(row[1]) > 0 for row in rows)  # a peak RSS in MB
