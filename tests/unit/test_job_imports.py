"""A job imports what it uses and nothing else: every job is a fresh process, so each heavy
package a rule does not need costs each of its jobs that package's import time (torchvision with
torch._dynamo 1.7 s of CPU, scikit-learn with scipy 1.3 s, pandas 0.5 s; benchmarks/README.md).

The job's start is reproduced as benchmarks/job_fixed_cost.py times it: Snakemake's preamble, the
entry script's imports, and what the step loads before its work (the digits pools).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO

_spec = importlib.util.spec_from_file_location(
    "job_fixed_cost", REPO / "benchmarks" / "job_fixed_cost.py"
)
job_fixed_cost = sys.modules["job_fixed_cost"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(job_fixed_cost)

SCRIPTS = REPO / "workflow_scripts"
WATCHED = ("torch", "torchvision", "torch._dynamo", "pandas", "pyarrow", "sklearn", "scipy")
#: Model jobs need torch only; the export also writes Parquet (pyarrow); attack jobs never
#: touch torch.
NOT_NEEDED = {
    "initialise": {"torchvision", "torch._dynamo", "pandas", "pyarrow", "sklearn", "scipy"},
    "prune": {"torchvision", "torch._dynamo", "pandas", "pyarrow", "sklearn", "scipy"},
    "train_ticket": {"torchvision", "torch._dynamo", "pandas", "pyarrow", "sklearn", "scipy"},
    "export_outputs": {"torchvision", "torch._dynamo", "pandas", "sklearn", "scipy"},
    "run_attacks": {"torch", "torchvision"},
}


def imported_at_job_start(rule: str) -> set[str]:
    """The watched packages in ``sys.modules`` once a fresh job of ``rule`` is ready to work."""
    report = f"\nimport json, sys\nprint(json.dumps([m for m in {WATCHED!r} if m in sys.modules]))"
    finished = subprocess.run(
        [sys.executable, "-c", job_fixed_cost.job_start_code(SCRIPTS, rule) + report],
        cwd=SCRIPTS, env={**os.environ, "PYTHONPATH": str(SCRIPTS)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    return set(json.loads(finished.stdout.splitlines()[-1]))


@pytest.mark.parametrize("rule", sorted(NOT_NEEDED))
def test_a_job_imports_no_package_its_rule_does_not_use(rule):
    imported = imported_at_job_start(rule)
    assert not imported & NOT_NEEDED[rule], sorted(imported & NOT_NEEDED[rule])
    # The check sees real imports: each of these jobs does import what it works with.
    assert ("torch" in imported) == (rule != "run_attacks"), imported
