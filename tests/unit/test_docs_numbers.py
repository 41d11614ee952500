"""Numbers quoted about the demo come from the files the demo writes (issue 18).

The convention, for README.md and docs/*.md: a quoted result is one block (a paragraph or a table,
up to the next blank line) right after a marker naming the file it is quoted from, relative to
the repository root, optionally with row filters for a table (CSV or parquet):

    <!-- from: docs/demo/table1.md -->
    | ResNet-18 | 400 | 0.472 [0.416, 0.526] | ...

    <!-- from: docs/demo/summary.csv where arch=resnet18 attack=lira_online,rmia -->
    AUC 0.574 [0.527, 0.616] ...

Every decimal number of the block (``0.472``, ``+0.005``, ``-0.029`` or with a Unicode minus; integers such as n = 1,200
are not checked) must equal a number of that file (of its selected rows) rounded to as many
decimals as the quote shows, which is how the file's own markdown rounds. ``make docs`` copies the
demo's files into docs/demo/; after a new demo, the test names each block whose numbers moved.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO

MARKER = re.compile(r"^\s*<!--\s*from:\s*(?P<path>\S+)(?:\s+where\s+(?P<where>.*?))?\s*-->\s*$")
#: A decimal number in prose or a table: optional sign (ASCII or Unicode minus), digits with
#: optional thousands separators, a point and decimals; not part of a word or a version string.
MINUS = "\u2212"
QUOTED_DECIMAL = re.compile(r"(?<![\w.])([+\-\u2212]?)(\d{1,3}(?:,\d{3})+|\d+)\.(\d+)(?!\w|\.\d)")
#: Any number of a text file (CSV or markdown), scientific notation included.
SOURCE_NUMBER = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
DOCUMENTS = ("README.md", "docs/*.md")


@dataclass(frozen=True)
class QuotedBlock:
    """The lines after one marker: where they are, what they quote and where it comes from."""

    document: str
    line: int
    source: str
    where: dict[str, tuple[str, ...]]
    text: str


def quoted_blocks(document: str, text: str) -> list[QuotedBlock]:
    """Every marked block of a markdown text: the paragraph or table after each marker."""
    lines = outside_code(text.splitlines())
    blocks = []
    for index, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        start = index + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        end = start
        while end < len(lines) and lines[end].strip() and not MARKER.match(lines[end]):
            end += 1
        blocks.append(
            QuotedBlock(
                document=document,
                line=index + 1,
                source=match["path"],
                where=parse_where(match["where"] or ""),
                text="\n".join(lines[start:end]),
            )
        )
    return blocks


def outside_code(lines: list[str]) -> list[str]:
    """The lines with fenced code blocks blanked (a marker in a code example is an example)."""
    kept, fenced = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            kept.append("")
        else:
            kept.append("" if fenced else line)
    return kept


def parse_where(where: str) -> dict[str, tuple[str, ...]]:
    """``arch=resnet18 attack=lira_online,rmia`` -> {column: allowed values}."""
    selection = {}
    for term in where.split():
        column, sep, values = term.partition("=")
        if not sep or not column or not values:
            raise ValueError(f"row filter {term!r}: expected column=value[,value...]")
        selection[column] = tuple(values.split(","))
    return selection


def quoted_decimals(text: str) -> list[str]:
    """The decimal numbers of a quoted block, as written (HTML comments left out)."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    return ["".join(match.groups()[:2]) + "." + match[3] for match in QUOTED_DECIMAL.finditer(text)]


def _as_decimal(quoted: str) -> Decimal:
    return Decimal(quoted.replace(MINUS, "-").replace("+", "").replace(",", ""))


def source_numbers(path: Path, where: dict[str, tuple[str, ...]]) -> list[float]:
    """Every number of a source file, or of the rows of a table that ``where`` selects."""
    if path.suffix == ".parquet" or where:
        frame = _table(path)
        missing = [column for column in where if column not in frame.columns]
        if missing:
            raise ValueError(f"{path}: no column {missing}; columns: {list(frame.columns)}")
        for column, allowed in where.items():
            frame = frame[frame[column].astype(str).isin(allowed)]
        values = frame.select_dtypes("number").to_numpy(dtype=float, na_value=float("nan"))
        return [float(value) for value in values.ravel()]
    return [float(token) for token in SOURCE_NUMBER.findall(path.read_text())]


def _table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".md":
        rows = [
            [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in path.read_text().splitlines()
            if line.strip().startswith("|")
        ]
        frame = pd.DataFrame(rows[2:], columns=rows[0])
        for column in frame.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            if numbers.notna().all():
                frame[column] = numbers
        return frame
    raise ValueError(f"{path}: row filters need a .csv, .md or .parquet table")


def rounds_to(value: float, quoted: str) -> bool:
    """Whether ``value`` rounded to the quote's decimals is the quoted number."""
    decimals = len(quoted.rpartition(".")[2])
    if value != value:  # NaN
        return False
    return Decimal(f"{value:.{decimals}f}") == _as_decimal(quoted)


def problems(block: QuotedBlock, root: Path) -> list[str]:
    """What is wrong with one quoted block: a missing source, no number, or numbers not in it."""
    where = f"{block.document}:{block.line} (from {block.source})"
    source = (root / block.source).resolve()
    if not source.is_relative_to(root.resolve()) or not source.is_file():
        return [f"{where}: the source file is missing or outside the repository"]
    quoted = quoted_decimals(block.text)
    if not quoted:
        return [f"{where}: the block after the marker quotes no decimal number"]
    numbers = source_numbers(source, block.where)
    return [
        f"{where}: {number} is not in the source"
        for number in quoted
        if not any(rounds_to(value, number) for value in numbers)
    ]


def document_problems(root: Path) -> list[str]:
    """Every problem of every marked block in README.md and docs/*.md under ``root``."""
    found = []
    for pattern in DOCUMENTS:
        for path in sorted(root.glob(pattern)):
            document = path.relative_to(root).as_posix()
            for block in quoted_blocks(document, path.read_text()):
                found += problems(block, root)
    return found


# --- The checker itself, on synthetic documents ----------------------------------------------


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    """A repository with a Table 1 in markdown and a small summary in CSV."""
    (tmp_path / "docs" / "demo").mkdir(parents=True)
    (tmp_path / "docs" / "demo" / "table1.md").write_text(
        "| arch | n_samples | baseline_auc | auc_difference | p_difference |\n"
        "|:---|---:|---:|---:|---:|\n"
        "| resnet18 | 400 | 0.472 | 0.005 | 0.016 |\n"
        "| resnet50 | 1200 | 0.462 | -0.029 | 0.338 |\n"
    )
    with (tmp_path / "docs" / "demo" / "summary.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["arch", "attack", "n_samples", "auc", "auc_ci_low"])
        writer.writerow(["resnet18", "rmia", 1200, 0.61649, 0.57312])
        writer.writerow(["resnet18", "lira_online", 1200, 0.56873, 0.52651])
        writer.writerow(["resnet50", "mlp", 1200, 0.4619, 0.40321])
    return tmp_path


def write_readme(root: Path, text: str) -> None:
    (root / "README.md").write_text(text)


def test_numbers_found_in_the_named_file_pass(demo_repo):
    write_readme(
        demo_repo,
        "Intro 0.999 is not checked.\n\n<!-- from: docs/demo/table1.md -->\n"
        "| ResNet-18 | 400 | 0.472 | +0.005 (p = 0.016) |\n"
        f"| ResNet-50 | 1,200 | 0.462 | {MINUS}0.029 (p = 0.338) |\n\nAfter the block 0.123.\n",
    )
    assert document_problems(demo_repo) == []


def test_a_wrong_number_fails_and_is_named(demo_repo):
    write_readme(
        demo_repo,
        "<!-- from: docs/demo/table1.md -->\n| ResNet-50 | 1,200 | +0.052 [+0.004, +0.096] |\n",
    )
    found = document_problems(demo_repo)
    assert found == [
        f"README.md:1 (from docs/demo/table1.md): {number} is not in the source"
        for number in ("+0.052", "+0.004", "+0.096")
    ]


def test_the_quote_is_compared_at_its_own_rounding(demo_repo):
    write_readme(
        demo_repo,
        "<!-- from: docs/demo/summary.csv -->\nRMIA 0.616 [0.573], or 0.62 rounded further.\n",
    )
    assert document_problems(demo_repo) == []
    write_readme(demo_repo, "<!-- from: docs/demo/summary.csv -->\nRMIA 0.617.\n")
    assert document_problems(demo_repo) == [
        "README.md:1 (from docs/demo/summary.csv): 0.617 is not in the source"
    ]


def test_row_filters_restrict_the_numbers_to_the_selected_rows(demo_repo):
    quote = "LiRA 0.569 [0.527]\n"
    marker = "<!-- from: docs/demo/summary.csv where arch=resnet18 attack={} -->\n"
    write_readme(demo_repo, marker.format("lira_online,rmia") + quote)
    assert document_problems(demo_repo) == []
    write_readme(demo_repo, marker.format("rmia") + quote)
    assert len(document_problems(demo_repo)) == 2


def test_a_missing_source_or_an_empty_block_fails(demo_repo):
    write_readme(demo_repo, "<!-- from: docs/demo/gone.csv -->\n0.5\n")
    assert "missing" in document_problems(demo_repo)[0]
    write_readme(demo_repo, "<!-- from: ../outside.md -->\n0.5\n")
    assert "outside the repository" in document_problems(demo_repo)[0]
    write_readme(demo_repo, "<!-- from: docs/demo/table1.md -->\nno numbers here\n")
    assert "quotes no decimal number" in document_problems(demo_repo)[0]


def test_blocks_end_at_a_blank_line_and_docs_are_checked_too(demo_repo):
    (demo_repo / "docs" / "topic.md").write_text(
        "<!-- from: docs/demo/table1.md -->\n\n0.472 and 0.338\n\n0.111 is prose, not a quote.\n"
    )
    assert document_problems(demo_repo) == []
    (demo_repo / "docs" / "topic.md").write_text("<!-- from: docs/demo/table1.md -->\n0.473\n")
    assert document_problems(demo_repo) == [
        "docs/topic.md:1 (from docs/demo/table1.md): 0.473 is not in the source"
    ]


def test_markers_in_code_examples_are_not_quotes(demo_repo):
    write_readme(demo_repo, "```markdown\n<!-- from: docs/demo/table1.md -->\n0.999\n```\n")
    assert document_problems(demo_repo) == []


def test_versions_integers_and_words_are_not_quoted_numbers():
    assert quoted_decimals("torch 2.14.1, n = 1,200, fig1.png, 80% and 0.5") == ["0.5"]
    assert quoted_decimals(f"[{MINUS}0.086, +0.027] <!-- 0.9 -->") == [f"{MINUS}0.086", "+0.027"]


# --- The real documents ----------------------------------------------------------------------


def test_every_quoted_number_of_the_readme_and_docs_is_in_its_file():
    assert document_problems(REPO) == []


def test_the_readme_quotes_the_demo_through_markers():
    sources = {
        block.source for block in quoted_blocks("README.md", (REPO / "README.md").read_text())
    }
    assert "docs/demo/table1.csv" in sources


# --- The pasted excerpts: words as well as numbers -------------------------------------------


def demo_docs():
    """tools/demo_docs.py as a module (``make docs``)."""
    spec = importlib.util.spec_from_file_location("demo_docs", REPO / "tools" / "demo_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def block_after(document: str, source: str) -> str:
    text = (REPO / document).read_text()
    blocks = [block for block in quoted_blocks(document, text) if block.source == source]
    assert len(blocks) == 1, f"{document}: expected one block quoted from {source}"
    return blocks[0].text


def test_the_excerpts_are_what_make_docs_writes_from_the_demo_files():
    tool = demo_docs()
    demo = REPO / "docs" / "demo"
    table = pd.read_csv(demo / "table1.csv")
    assert (demo / "table1_readme.md").read_text() == tool.table1_excerpt(table)
    summary = pd.read_parquet(demo / "summary.parquet")
    assert (demo / "reference_attacks.md").read_text() == tool.reference_excerpt(summary)


def test_the_readme_table1_is_the_pasted_excerpt_verdicts_included():
    excerpt = (REPO / "docs" / "demo" / "table1_readme.md").read_text()
    assert block_after("README.md", "docs/demo/table1.csv") == excerpt.strip()


def test_the_reference_attack_table_is_the_pasted_excerpt():
    excerpt = (REPO / "docs" / "demo" / "reference_attacks.md").read_text()
    table = excerpt.split("\n\n", 1)[1].strip()
    quoted = [
        block.text
        for block in quoted_blocks(
            "docs/reference_models.md", (REPO / "docs" / "reference_models.md").read_text()
        )
        if block.text.startswith("|")
    ]
    assert quoted == [table]


def test_make_docs_copies_the_demo_files_and_removes_stale_ones(tmp_path):
    results, out = tmp_path / "results", tmp_path / "docs" / "demo"
    (results / "tables").mkdir(parents=True)
    (results / "figures").mkdir()
    shutil.copy(REPO / "docs" / "demo" / "summary.parquet", results / "summary.parquet")
    for name in ("table1.csv", "table1.md"):
        shutil.copy(REPO / "docs" / "demo" / name, results / "tables" / name)
    (results / "figures" / "fig1_test_accuracy.png").write_bytes(b"png")
    (results / "figures" / "fig1_test_accuracy.pdf").write_bytes(b"pdf")
    out.mkdir(parents=True)
    (out / "README.md").write_text("kept")
    (out / "fig_gone.png").write_bytes(b"stale")
    demo_docs().copy_demo(results, out)
    assert sorted(path.name for path in out.iterdir()) == [
        "README.md",
        "fig1_test_accuracy.png",
        "reference_attacks.md",
        "summary.csv",
        "summary.parquet",
        "table1.csv",
        "table1.md",
        "table1_readme.md",
    ]
    assert len(pd.read_csv(out / "summary.csv")) == len(
        pd.read_parquet(results / "summary.parquet")
    )


def test_the_table1_excerpt_names_the_attack_when_the_table_holds_several():
    table = pd.read_csv(REPO / "docs" / "demo" / "table1.csv")
    both = pd.concat([table.assign(attack="mlp"), table.assign(attack="lira_online")])
    lines = demo_docs().table1_excerpt(both).splitlines()
    assert lines[0].startswith("| attack | arch | n |")
    assert len(lines) == 2 + 2 * len(table)
    assert lines[-1].startswith("| `lira_online` | ")
    assert "attack" not in demo_docs().table1_excerpt(table.assign(attack="mlp")).splitlines()[0]
