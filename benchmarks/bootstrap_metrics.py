"""Bootstrap metrics: draw counts over one sort against sorting every resample.

Every attack metric gets a 1,000-resample stratified bootstrap, and the transfer job bootstraps
every (source, target) pair: 64 pairs on the demo, S^2 x kinds^2 on a paper grid. The baseline,
timed in the same run, is the plain vectorised way: gather the resampled scores into a
(resamples x rows) matrix, sort each row for the ROC counts and rank each row for the AUC. Ours
(``stats.metrics.metrics_of_counts``) sorts the scores once and counts how often each row is
drawn; ``--pairs P`` scores P models on the same rows, as a transfer job does, where the draw
counts are made once (``stats.resampling.bootstrap_count_blocks``). Every metric of both is
checked equal, bit for bit, before anything is timed. The baseline computes only these two
metrics and ours all eight, so the ratio understates the gain.

    .venv/bin/python benchmarks/bootstrap_metrics.py --rows 400 2000 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from lottery_mia.stats import metrics
from lottery_mia.stats.resampling import bootstrap_distribution, bootstrap_index_blocks


def sorted_per_resample(rows: metrics.EvaluationRows, n_resamples: int, seed: int) -> np.ndarray:
    """The baseline: each resample's scores sorted (ROC) and ranked (AUC); AUC and TPR at 1%."""
    member, n_members = rows.member, rows.n_members
    n_non_members = rows.n_non_members
    out = []
    for indices in bootstrap_index_blocks(member, n_resamples, seed):
        scores = rows.score[indices]
        order = np.argsort(-scores, axis=1, kind="stable")
        sorted_scores = np.take_along_axis(scores, order, axis=1)
        true_pos = np.cumsum(member[order], axis=1)
        false_pos = np.arange(1, member.size + 1) - true_pos
        cut = np.ones_like(sorted_scores, dtype=bool)
        cut[:, :-1] = sorted_scores[:, :-1] != sorted_scores[:, 1:]
        allowed = cut & (false_pos <= metrics.allowed_false_positives(0.01, n_non_members))
        tpr = np.where(allowed, true_pos, 0).max(axis=1) / n_members
        ranks = stats.rankdata(scores, axis=1)
        auc = (ranks[:, member].sum(axis=1) - n_members * (n_members + 1) / 2) / (
            n_members * n_non_members
        )
        out.append(np.stack([auc, tpr], axis=1))
    return np.concatenate(out)


def counted_once(rows: metrics.EvaluationRows, n_resamples: int, seed: int) -> np.ndarray:
    distribution = bootstrap_distribution(rows, n_resamples, seed)
    return np.stack([distribution["auc"], distribution["tpr_at_1pct_fpr"]], axis=1)


def timed(step, models, n_resamples: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for rows in models:
            step(rows, n_resamples, 0)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[400, 2000, 10000])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=8, help="models scored on the same rows")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"{args.resamples} resamples, {args.pairs} models on the same rows, median of {args.rounds}"
    )
    print("rows  baseline s  ours s  ratio")
    for n_rows in args.rows:
        member = np.arange(n_rows) % 2 == 0
        models = []
        for _ in range(args.pairs):
            score = np.round(rng.normal(size=n_rows) + 0.3 * member, 2)  # ties, as real scores have
            models.append(metrics.EvaluationRows(member, score, score > 0.15))
        for rows in models:
            baseline = sorted_per_resample(rows, args.resamples, 0)
            np.testing.assert_array_equal(counted_once(rows, args.resamples, 0), baseline)
        base = timed(sorted_per_resample, models, args.resamples, args.rounds)
        ours = timed(counted_once, models, args.resamples, args.rounds)
        print(f"{n_rows:>5} {base:>10.2f} {ours:>7.2f} {base / ours:>6.1f}x")


if __name__ == "__main__":
    main()
