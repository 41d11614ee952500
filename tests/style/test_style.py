"""The code stays in the project's style: ruff (lint and format), snakefmt and Snakemake's linter."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("snakefmt", "--check", "Snakefile", "rules"),
    ],
    ids=["ruff-check", "ruff-format", "snakefmt"],
)
def test_style(command):
    result = run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_is_clean():
    result = run(str(BIN / "snakemake"), "--lint", "--configfile", str(TINY_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
