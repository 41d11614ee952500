"""The one adapter between a Snakemake job and a step of the library.

A rule names its input, output and params exactly as the step's arguments, so an entry script is
``run_step(snakemake, step)``: the job's log receives the step's logging and any error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lottery_mia.logs import log_to_file


def named(items: Any) -> dict[str, Any]:
    """The named entries of a Snakemake ``input``, ``output`` or ``params`` list."""
    return dict(items.items())


def run_step(
    snakemake: Any, step: Callable[..., object], *, torch_threads: bool = False, **extra: Any
) -> None:
    """Call ``step`` with the job's named input, output and params (and ``extra``) as keyword
    arguments, logging to the job's log; ``torch_threads`` caps torch at the job's threads."""
    with log_to_file(snakemake.log[0]):
        if torch_threads:
            import torch  # only the jobs that train or export pay for importing torch

            torch.set_num_threads(snakemake.threads)
        arguments = {**named(snakemake.input), **named(snakemake.output), **named(snakemake.params)}
        step(**{**arguments, **extra})


def read_tables(items: Any) -> dict[str, Any]:
    """The named entries of a Snakemake ``input`` list, each read as a table by its suffix:
    ``.parquet`` with ``pandas.read_parquet``, ``.csv`` with ``pandas.read_csv``."""
    import pandas as pd  # only the jobs that read tables pay for importing pandas

    readers = {".parquet": pd.read_parquet, ".csv": pd.read_csv}
    tables = {}
    for name, path in named(items).items():
        suffix = Path(str(path)).suffix
        if suffix not in readers:
            raise ValueError(f"input {name!r} ({path}): no table reader for {suffix!r}")
        tables[name] = readers[suffix](path)
    return tables
