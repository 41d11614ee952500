"""Do our 95% intervals cover where the rows are few? Why a top set, and a class, need 10.

    .venv/bin/python tools/interval_coverage.py jaccard --out docs/interval_coverage
    .venv/bin/python tools/interval_coverage.py class_auc --out docs/interval_coverage
    .venv/bin/python tools/interval_coverage.py roc_band --out docs/interval_coverage

Each study draws data with a known true value, computes the interval exactly as the pipeline
reports it, and counts how often the interval holds the truth over seeded replicates.

- ``jaccard`` (``exposure.MIN_TOP_K``): two models' membership scores over n members, a standard
  bivariate normal with correlation rho, whose top-1% sets have a known population Jaccard,
  P(both in the top) / P(either in the top); the interval is ``exposure.agreement_draws``' (the
  ``exposure`` rule's). k = ceil(0.01 n) grows with n. A top-k set is an extreme order statistic,
  for which the bootstrap is known to be unreliable when k is small: resamples cannot create an
  overlap the sample lacks. Writes ``jaccard_top_k.csv``.
- ``class_auc`` (``stats.resampling.MIN_CLASS_ROWS``): one class's members and non-members with
  binormal scores (unit variances, shift sqrt(2) x Phi^-1(AUC), so the true AUC is known); the
  interval is ``per_class_auc``'s stratified bootstrap. Writes ``class_auc.csv``.
- ``roc_band`` (Figure 5's band, ``stats.roc_band``): members N(d, 1) against non-members
  N(0, 1), whose TPR at FPR f is 1 - Phi(Phi^-1(1 - f) - d), read at the band's budget nearest
  below f. Writes ``roc_band.csv``.

docs/exposure.md and docs/attacks_and_statistics.md quote the files (tests/unit/test_docs_numbers.py
checks the quotes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal, norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from lottery_mia.exposure import agreement_draws, member_resamples, top_count
from lottery_mia.stats.resampling import per_class_auc, percentile_interval
from lottery_mia.stats.roc_band import roc_band

FRACTION = 0.01


def population_jaccard(rho: float, fraction: float) -> float:
    """Jaccard of the top-``fraction`` sets of a standard bivariate normal with correlation rho."""
    cut = norm.ppf(fraction)  # by symmetry, P(A > q, B > q) = P(A < -q, B < -q)
    both = multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([cut, cut])
    return float(both / (2 * fraction - both))


def _coverage(
    truth: float, interval: Callable[[np.random.Generator, int], tuple[float, float]],
    replicates: int, seed: int,
) -> dict[str, float]:  # fmt: skip
    """Share of seeded replicates whose interval holds ``truth``, and the intervals' mean width."""
    rng = np.random.default_rng(seed)
    bounds = np.array([interval(rng, replicate) for replicate in range(replicates)])
    held = (bounds[:, 0] <= truth) & (truth <= bounds[:, 1])
    return {
        "coverage": float(held.mean()),
        "mean_width": float(np.mean(bounds[:, 1] - bounds[:, 0])),
    }


def jaccard_coverage(
    rho: float, n_members: int, replicates: int, resamples: int, seed: int
) -> dict[str, float | int]:
    """How often the 95% interval of the top-1% Jaccard holds the population Jaccard."""

    def interval(rng: np.random.Generator, replicate: int) -> tuple[float, float]:
        a = rng.standard_normal(n_members)
        b = rho * a + np.sqrt(1 - rho**2) * rng.standard_normal(n_members)
        resampled = member_resamples(n_members, resamples, replicate)
        return percentile_interval(
            agreement_draws([(a, b)], resampled, FRACTION).jaccard_draws, 0.95
        )

    truth = population_jaccard(rho, FRACTION)
    return {
        "rho": rho,
        "n_members": n_members,
        "top_k": top_count(n_members, FRACTION),
        "population_jaccard": truth,
        **_coverage(truth, interval, replicates, seed),
        "replicates": replicates,
        "resamples": resamples,
    }


def class_auc_coverage(
    auc: float, n_members: int, n_non_members: int, replicates: int, resamples: int, seed: int
) -> dict[str, float | int]:
    """How often a class's 95% AUC interval (``per_class_auc``, with no minimum) holds the AUC."""
    shift = np.sqrt(2) * norm.ppf(auc)
    member = np.r_[np.ones(n_members, bool), np.zeros(n_non_members, bool)]

    def interval(rng: np.random.Generator, replicate: int) -> tuple[float, float]:
        score = np.r_[rng.normal(shift, 1, n_members), rng.normal(0, 1, n_non_members)]
        label = np.zeros(member.size, dtype=int)
        (row,) = per_class_auc(
            member, score, label, resamples, replicate, min_class_rows=1
        ).to_dict("records")
        return row["auc_ci_low"], row["auc_ci_high"]

    return {
        "auc": auc,
        "n_members": n_members,
        "n_non_members": n_non_members,
        **_coverage(auc, interval, replicates, seed),
        "replicates": replicates,
        "resamples": resamples,
    }


def roc_band_coverage(
    shift: float, fpr: float, n_per_class: int, replicates: int, resamples: int, seed: int
) -> dict[str, float | int]:
    """How often Figure 5's band holds the true TPR at the budget nearest below ``fpr``."""
    member = np.r_[np.ones(n_per_class, bool), np.zeros(n_per_class, bool)]

    def interval(rng: np.random.Generator, replicate: int) -> tuple[float, float]:
        score = np.r_[rng.normal(shift, 1, n_per_class), rng.normal(0, 1, n_per_class)]
        band = roc_band(member, score, resamples, replicate)
        at = int(np.searchsorted(band.fpr, fpr, side="right") - 1)
        # Centred on the truth at the budget read, so that one truth (0) serves every replicate.
        truth = 1 - norm.cdf(norm.ppf(1 - band.fpr[at]) - shift)
        return band.low[at] - truth, band.high[at] - truth

    return {
        "shift": shift,
        "fpr": fpr,
        "n_per_class": n_per_class,
        **_coverage(0.0, interval, replicates, seed),
        "replicates": replicates,
        "resamples": resamples,
    }


#: Each study's grid: the file it writes and its rows' arguments (before the common ones).
STUDIES: dict[str, tuple[str, Callable[..., dict[str, float | int]], list[tuple[Any, ...]]]] = {
    "jaccard": (
        "jaccard_top_k.csv",
        jaccard_coverage,
        [(rho, n) for rho in (0.5, 0.8) for n in (200, 500, 1000, 2000, 5000)],
    ),
    "class_auc": (
        "class_auc.csv",
        class_auc_coverage,
        # the long tail's rare classes (3 and 5 evaluated members) first
        [
            (auc, *size)
            for auc in (0.6, 0.75, 0.9)
            for size in ((3, 22), (5, 24), (10, 20), (20, 20), (40, 40))
        ],
    ),
    "roc_band": (
        "roc_band.csv",
        roc_band_coverage,
        [(0.8, fpr, n) for n in (200, 500) for fpr in (0.01, 0.1)],
    ),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=list(STUDIES))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    name, study, grid = STUDIES[args.study]
    frame = pd.DataFrame(
        [study(*arguments, args.replicates, args.resamples, args.seed) for arguments in grid]
    )
    print(frame.to_string(index=False))
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / name, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
