"""tools/jaccard_coverage.py: the simulation behind ``exposure.MIN_TOP_K`` (no Jaccard below a
top 10), and the population Jaccard it checks intervals against."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from conftest import REPO

pytestmark = pytest.mark.unit


def jaccard_coverage():
    path = REPO / "tools" / "jaccard_coverage.py"
    spec = importlib.util.spec_from_file_location("jaccard_coverage", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_population_jaccard_matches_a_large_sample():
    tool = jaccard_coverage()
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
    tool = jaccard_coverage()
    top_two = tool.coverage(0.5, 200, replicates=100, resamples=200, seed=1)
    top_ten = tool.coverage(0.5, 1000, replicates=100, resamples=200, seed=1)
    assert (top_two["top_k"], top_ten["top_k"]) == (2, 10)
    assert top_two["coverage"] < 0.8
    assert top_ten["coverage"] >= 0.85
