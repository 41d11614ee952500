"""The library stays readable: no module too long to read, statistics in ``stats/`` only short ones,
and no product file pointing outside the repository (docs/development.md, "The library's layout")."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "workflow_scripts"
#: The longest a library module may be, and a module of ``stats/``.
MAX_LINES, MAX_STATS_LINES = 400, 300


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_library_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(REPO)): _lines(path)
        for path in sorted(LIBRARY.rglob("*.py"))
        if _lines(path) > MAX_LINES
    }
    assert long == {}, f"split these by topic (at most {MAX_LINES} lines each): {long}"


def test_stats_modules_are_short() -> None:
    long = {
        path.name: _lines(path)
        for path in sorted((LIBRARY / "lottery_mia" / "stats").glob("*.py"))
        if _lines(path) > MAX_STATS_LINES
    }
    assert long == {}, f"stats/ modules over {MAX_STATS_LINES} lines: {long}"


def test_one_module_named_selection() -> None:
    names = [path.name for path in (LIBRARY / "lottery_mia").rglob("selection.py")]
    assert names == ["selection.py"], "two modules named selection.py"


def test_no_product_file_points_outside_the_repository() -> None:
    pointer = re.compile(r"\.\./shared/")
    files = [
        *LIBRARY.rglob("*.py"),
        *(REPO / "rules").rglob("*.smk"),
        *(REPO / "docs").rglob("*.md"),
        REPO / "README.md",
        REPO / "Snakefile",
    ]
    found = [
        str(path.relative_to(REPO)) for path in files if pointer.search(path.read_text("utf-8"))
    ]
    assert found == []
