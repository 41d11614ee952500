"""Does the member bootstrap's 95% interval of a top-k Jaccard cover? Why ``MIN_TOP_K`` is 10.

    .venv/bin/python tools/jaccard_coverage.py --out docs/exposure_coverage

Two models' membership scores over n members are drawn as a standard bivariate normal with
correlation rho. The Jaccard of their top-fraction sets then has a known population value,
P(both in the top) / P(either in the top), and each replicate asks whether
``exposure.agreement_draws``' percentile interval (the one the ``exposure`` rule reports) holds it.
The top fraction is fixed at 1% (the config's default), so k = ceil(0.01 n) grows with n.

A top-k set is an extreme order statistic, for which the bootstrap is known to be unreliable when k
is small: the resamples cannot produce overlaps the sample does not already have. Writes
``jaccard_coverage.csv`` (rho, n, k, population Jaccard, coverage, mean interval width,
replicates, resamples) to ``--out``; docs/exposure.md quotes it (tests/unit/test_docs_numbers.py
checks the quote).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal, norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from lottery_mia.exposure import agreement_draws, member_resamples, top_count
from lottery_mia.stats.resampling import percentile_interval

FRACTION = 0.01


def population_jaccard(rho: float, fraction: float) -> float:
    """Jaccard of the top-``fraction`` sets of a standard bivariate normal with correlation rho."""
    cut = norm.ppf(fraction)  # by symmetry, P(A > q, B > q) = P(A < -q, B < -q)
    both = multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([cut, cut])
    return float(both / (2 * fraction - both))


def coverage(
    rho: float, n_members: int, replicates: int, resamples: int, seed: int
) -> dict[str, float | int]:
    """How often the 95% interval holds the population Jaccard, over seeded replicates."""
    truth = population_jaccard(rho, FRACTION)
    rng = np.random.default_rng(seed)
    hits, widths = [], []
    for replicate in range(replicates):
        a = rng.standard_normal(n_members)
        b = rho * a + np.sqrt(1 - rho**2) * rng.standard_normal(n_members)
        draws = agreement_draws(
            [(a, b)], member_resamples(n_members, resamples, replicate), FRACTION
        ).jaccard_draws
        low, high = percentile_interval(draws, 0.95)
        hits.append(low <= truth <= high)
        widths.append(high - low)
    return {
        "rho": rho,
        "n_members": n_members,
        "top_k": top_count(n_members, FRACTION),
        "population_jaccard": truth,
        "coverage": float(np.mean(hits)),
        "mean_width": float(np.mean(widths)),
        "replicates": replicates,
        "resamples": resamples,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rho", type=float, nargs="+", default=[0.5, 0.8])
    parser.add_argument("--members", type=int, nargs="+", default=[200, 500, 1000, 2000, 5000])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = []
    for rho in args.rho:
        for n_members in args.members:
            rows.append(coverage(rho, n_members, args.replicates, args.resamples, args.seed))
            print(rows[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out / "jaccard_coverage.csv", index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
