"""How long the paper's attack classifiers take to fit, against ``attack_cost``'s prediction.

An attack job fits the MLP, the SVM and the random forest on n rows of the target's class
probabilities (d = the dataset's classes), and a transfer job fits the MLP once per model. At the
paper's sizes (ImageNet: n up to 98,000, d = 1,000) that is hours, so the SLURM time limits of
these jobs come from ``lottery_mia.attack_cost``, whose rates were fitted to this script's
measurements. It fits each classifier exactly as the attack does (``attack.classifier``, the
config's default settings) on synthetic probability vectors with a planted membership signal, one
thread, and prints the seconds beside ``attack_cost.fit_seconds``: measured / predicted should
stay near or below 1 where it was fitted and the prediction is an extrapolation beyond.

    .venv/bin/python benchmarks/attack_fit_time.py
    .venv/bin/python benchmarks/attack_fit_time.py --attacks svm --features 1000 --rows 2000 4000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one attack job, one thread (attack_threads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from lottery_mia.attack.base import AttackSettings
from lottery_mia.attack.classifier import _classifier_pipeline
from lottery_mia.attack_cost import fit_seconds
from lottery_mia.config import load_schema, validate_config

REPO = Path(__file__).resolve().parents[1]

DEFAULT_ROWS = {"mlp": (2000, 8000), "svm": (1000, 2000, 4000), "random_forest": (2000, 8000)}


def probability_rows(rng: np.random.Generator, rows: int, classes: int) -> tuple[np.ndarray, ...]:
    """Softmax rows of random logits whose first class is a little higher for members, sorted
    in descending order: a weak signal the MLP fits for all its epochs, its slowest case."""
    member = rng.integers(0, 2, rows)
    logits = 3.0 * rng.normal(size=(rows, classes))
    logits[:, 0] += member
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return -np.sort(-probabilities, axis=1), member


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attacks", nargs="+", default=list(DEFAULT_ROWS))
    parser.add_argument("--features", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rows", type=int, nargs="+", help="default: per attack")
    args = parser.parse_args()
    config = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()), load_schema())
    settings = AttackSettings.from_config(config["attack"])
    rng = np.random.default_rng(0)
    print("attack         features   rows  measured s  predicted s  measured / predicted")
    for attack in args.attacks:
        for classes in args.features:
            for rows in args.rows or DEFAULT_ROWS[attack]:
                features, member = probability_rows(rng, rows, classes)
                start = time.perf_counter()
                _classifier_pipeline(attack, settings).fit(features, member)
                measured = time.perf_counter() - start
                predicted = fit_seconds(attack, rows, classes, settings.mlp.max_iter)
                print(
                    f"{attack:<14} {classes:>8} {rows:>6} {measured:>11.2f} {predicted:>12.2f} "
                    f"{measured / predicted:>21.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
