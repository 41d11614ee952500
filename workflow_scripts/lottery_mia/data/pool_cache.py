"""Pool sizes remembered across Snakefile parses, for as long as the data on disk is unchanged.

Every ``snakemake`` run checks, before any job, that each dataset is there and large enough for
every sample count (``config_checks.check_config``). Counting means unpickling 180 MB of CIFAR batches
or listing 1.33 million ImageNet files: on a cluster file system seconds to minutes, paid again by
each dry run. The count is kept with a fingerprint of the data: name, size and modification time
of every entry down to the dataset's second level (CIFAR's batch files; ImageNet's class folders,
whose time changes when a file is added or removed). A changed fingerprint counts, and checks,
again. A dataset without a ``root`` (the bundled digits) is counted each time: it is quick.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lottery_mia.atomic import write_json
from lottery_mia.data.base import root_path

PoolSizes = Callable[[str, Mapping[str, Any]], tuple[int, int]]
#: Levels below ``root`` whose entries the fingerprint reads (their contents are not listed).
DEPTH = 2


def data_fingerprint(root: Path, depth: int = DEPTH) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime in ns) of ``root`` and every entry ``depth`` levels below it;
    an empty list when ``root`` does not exist (yet: ``download: true``)."""
    if not root.exists():
        return []
    stat = root.stat()
    entries = [(".", stat.st_size, stat.st_mtime_ns)]
    folders = [root]
    for _ in range(depth):
        below = []
        for folder in folders:
            with os.scandir(folder) as listing:
                for entry in listing:
                    stat = entry.stat()
                    entries.append(
                        (os.path.relpath(entry.path, root), stat.st_size, stat.st_mtime_ns)
                    )
                    if entry.is_dir():
                        below.append(Path(entry.path))
        folders = below
    return sorted(entries)


def _cache_key(name: str, settings: Mapping[str, Any]) -> str:
    described = {"dataset": name, "settings": settings}
    if "root" in settings:
        described["data"] = data_fingerprint(root_path(settings))
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cached_pool_sizes(count: PoolSizes, cache_path: Path) -> PoolSizes:
    """``count`` (``data.pool_sizes``), answered from ``cache_path`` while a dataset's settings and
    fingerprint are unchanged. Failures are never cached: missing or damaged data is reported on
    every run until it is mended. A cache that cannot be read or written is ignored."""

    def pool_sizes(name: str, settings: Mapping[str, Any]) -> tuple[int, int]:
        if "root" not in settings:
            return count(name, settings)
        key = _cache_key(name, settings)
        cache = _read(cache_path)
        if cache.get(name, {}).get("key") == key:
            train, test = cache[name]["sizes"]
            return int(train), int(test)
        sizes = count(name, settings)
        with contextlib.suppress(OSError):  # a read-only working directory: count next time
            write_json(cache_path, {**_read(cache_path), name: {"key": key, "sizes": list(sizes)}})
        return sizes

    return pool_sizes


def _read(cache_path: Path) -> dict[str, Any]:
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}
