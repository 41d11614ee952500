"""The GPU check's CPU path runs end to end, so a typo cannot spoil its first GPU run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import gpu_check  # noqa: E402


def passing_report() -> dict:
    return {
        "training": {"resnet18": [{"variant": "fp32", "finite_losses": True}]},
        "export": {"resnet18": {"finite_outputs": True}},
        "learnable": {"finite_losses": True, "test_accuracy": 0.9, "chance": 0.1},
        "dag": {"ok": True},
    }


def test_self_checks_pass_a_good_report_and_name_each_failure():
    assert gpu_check.self_checks(passing_report()) == []
    bad = passing_report()
    bad["training"]["resnet18"][0]["finite_losses"] = False
    bad["learnable"]["test_accuracy"] = 0.15  # barely above chance: not learning
    bad["dag"] = {"ok": False, "checks": {"summary_rows": False}}
    failed = gpu_check.self_checks(bad)
    assert len(failed) == 3
    assert any("resnet18 fp32" in line for line in failed)
    assert any("learnable" in line for line in failed)
    assert any("summary_rows" in line for line in failed)


@pytest.mark.slow
def test_cpu_path_runs_every_step_and_passes_its_checks(tmp_path):
    report_path = tmp_path / "gpu_check.json"
    command = [str(BENCHMARKS / "gpu_check.sh"), "--device", "cpu", "--skip-compile",
               "--threads", "1", "--json", str(report_path)]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["failed_checks"] == []
    for arch in ("resnet18", "resnet50"):
        variants = {v["variant"] for v in report["training"][arch]}
        assert variants == {name for name, *_ in gpu_check.VARIANTS if "compile" not in name}
        assert all(v["images_per_s"] > 0 for v in report["training"][arch])
        assert report["export"][arch]["images_per_s"] > 0
    assert report["dag"]["ok"] and all(report["dag"]["checks"].values())
    assert report["learnable"]["test_accuracy"] > 0.4
    assert report["data_path"]["ratio_ours_over"]
    hours = report["paper_gpu_hours"]
    assert math.isclose(hours["total"], hours["cifar10"] + hours["cifar100"] + hours["imagenet"])
