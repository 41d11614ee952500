"""Provenance stamped on every result record: what made it, with which code and packages."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lottery_mia.config import stable_hash

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn", "pandas", "pyarrow", "snakemake")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(directory: Path) -> str | None:
    """The commit of the checkout holding the workflow, with ``-dirty`` if it has local changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if status else "")


def provenance(params: Mapping[str, Any], seed: int | None = None) -> dict[str, Any]:
    """``config_hash`` covers every parameter that shaped the record (the rule's ``params``)."""
    return {
        "config_hash": stable_hash(params),
        "seed": seed,
        "packages": package_versions(),
        "python": platform.python_version(),
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
