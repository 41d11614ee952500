"""tools/interval_coverage.py: the simulations behind ``exposure.MIN_TOP_K`` (no Jaccard below a
top 10), ``stats.resampling.MIN_CLASS_ROWS`` (no per-class AUC below 10 members or non-members)
and Figure 5's ROC band, and the true values they check intervals against."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from conftest import REPO

pytestmark = pytest.mark.unit


def interval_coverage():
    path = REPO / "tools" / "interval_coverage.py"
    spec = importlib.util.spec_from_file_location("interval_coverage", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_population_jaccard_matches_a_large_sample():
    tool = interval_coverage()
    rng = np.random.default_rng(0)
    n, rho, fraction = 400_000, 0.6, 0.01
    a = rng.standard_normal(n)
    b = rho * a + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    top_a, top_b = a > np.quantile(a, 1 - fraction), b > np.quantile(b, 1 - fraction)
    sample = (top_a & top_b).sum() / (top_a | top_b).sum()
    assert tool.population_jaccard(rho, fraction) == pytest.approx(sample, abs=0.01)
    assert tool.population_jaccard(0.0, fraction) == pytest.approx(fraction / (2 - fraction))


def test_a_top_two_undercovers_and_a_top_ten_does_not():
    """The reason for MIN_TOP_K = 10: with rho = 0.5 the 95% interval of a top-2 Jaccard holds the
    population value in about two thirds of replicates; a top 10's in about nine tenths."""
    tool = interval_coverage()
    top_two = tool.jaccard_coverage(0.5, 200, replicates=100, resamples=200, seed=1)
    top_ten = tool.jaccard_coverage(0.5, 1000, replicates=100, resamples=200, seed=1)
    assert (top_two["top_k"], top_ten["top_k"]) == (2, 10)
    assert top_two["coverage"] < 0.8
    assert top_ten["coverage"] >= 0.85


def test_a_class_of_three_members_undercovers_and_one_of_ten_does_not():
    """The reason for MIN_CLASS_ROWS = 10: at a true AUC of 0.9, a class of 3 members' interval
    holds it in under 80% of replicates; one of 10 members and 20 non-members in over 85%."""
    tool = interval_coverage()
    three = tool.class_auc_coverage(0.9, 3, 22, replicates=200, resamples=400, seed=0)
    ten = tool.class_auc_coverage(0.9, 10, 20, replicates=200, resamples=400, seed=0)
    assert three["coverage"] < 0.8
    assert ten["coverage"] >= 0.88


def test_the_committed_files_are_what_the_tool_writes(tmp_path):
    """The first row of each committed CSV, recomputed with the tool's defaults."""
    tool = interval_coverage()
    committed = REPO / "docs" / "interval_coverage"
    jaccard = pd.read_csv(committed / "jaccard_top_k.csv").iloc[0]
    again = tool.jaccard_coverage(jaccard["rho"], int(jaccard["n_members"]), 200, 400, 0)
    assert again["coverage"] == pytest.approx(jaccard["coverage"])
    assert again["mean_width"] == pytest.approx(jaccard["mean_width"], rel=1e-3)
    auc = pd.read_csv(committed / "class_auc.csv").iloc[0]
    args = (auc["auc"], int(auc["n_members"]), int(auc["n_non_members"]), 200, 400, 0)
    assert tool.class_auc_coverage(*args)["coverage"] == pytest.approx(auc["coverage"])
    band = pd.read_csv(committed / "roc_band.csv").iloc[0]
    args = (band["shift"], band["fpr"], int(band["n_per_class"]), 200, 400, 0)
    assert tool.roc_band_coverage(*args)["coverage"] == pytest.approx(band["coverage"])
