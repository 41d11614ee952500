"""Provenance stamped on every result record: what made it, with which code and packages."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lottery_mia.atomic import PathLike

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn", "pandas", "pyarrow", "snakemake")


def stable_hash(value: Any) -> str:
    """Short SHA-256 of a JSON-serialisable value (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: PathLike) -> str:
    """Short SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


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
