"""The one adapter between a Snakemake job and a library step."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pandas as pd
import pytest
from snakemake.iocontainers import Namedlist

from lottery_mia.snakemake_job import read_tables, run_step


def job(tmp_path, **sections):
    """A stand-in for Snakemake's ``snakemake`` object: named input, output, params and a log."""
    lists = {
        name: Namedlist(fromdict=sections.get(name, {})) for name in ("input", "output", "params")
    }
    return SimpleNamespace(**lists, log=[str(tmp_path / "job.log")], threads=1)


def test_named_files_and_params_reach_the_step_by_name_and_its_log_reaches_the_job_log(tmp_path):
    calls = []

    def step(summary_path, attack_paths, settings):
        logging.getLogger("lottery_mia.step").info("summarising %d files", len(attack_paths))
        calls.append((summary_path, list(attack_paths), settings))

    snakemake = job(
        tmp_path,
        input={"attack_paths": ["a.json", "b.json"]},
        output={"summary_path": "summary.parquet"},
        params={"settings": {"seed": 0}},
    )
    run_step(snakemake, step)
    assert calls == [("summary.parquet", ["a.json", "b.json"], {"seed": 0})]
    assert "summarising 2 files" in (tmp_path / "job.log").read_text()


def test_extra_arguments_replace_a_named_input(tmp_path):
    seen = []
    snakemake = job(tmp_path, input={"summary": "summary.parquet"}, output={"png": "f.png"})
    run_step(snakemake, lambda summary, png: seen.append((summary, png)), summary="a frame")
    assert seen == [("a frame", "f.png")]


def test_a_rule_name_the_step_does_not_know_fails_naming_it(tmp_path):
    snakemake = job(tmp_path, input={"summry": "summary.parquet"})
    with pytest.raises(TypeError, match="summry"):
        run_step(snakemake, lambda summary: None)


def test_named_inputs_are_read_as_tables_by_their_suffix(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.to_parquet(tmp_path / "t.cells.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    inputs = Namedlist(fromdict={"cells": str(tmp_path / "t.cells.parquet")})
    inputs.append(str(tmp_path / "scored_dir"))  # an unnamed input (a folder) is not read
    inputs.append(str(tmp_path / "t.csv"))
    inputs._set_name("agreement", 2)
    tables = read_tables(inputs)
    assert list(tables) == ["cells", "agreement"]
    pd.testing.assert_frame_equal(tables["cells"], frame)
    pd.testing.assert_frame_equal(tables["agreement"], frame)


def test_a_named_input_without_a_table_reader_fails_naming_it():
    with pytest.raises(ValueError, match=r"'record'.*'\.json'"):
        read_tables(Namedlist(fromdict={"record": "metrics.json"}))
