"""Peak memory of the transfer job against the number of models: it must stay flat.

Fabricates ``outputs.parquet`` files in the real contract (tests/fabricate_outputs.py), then runs
the job's function ``attack_steps.transfer`` on the first N of them, each N in a fresh
subprocess, and prints that process's peak RSS, the part above its RSS after the imports, and
the wall time. ``--code`` points at another copy of ``workflow_scripts`` to measure older code
(for example ``git archive <commit> workflow_scripts | tar -x -C /tmp/old``):

    .venv/bin/python benchmarks/transfer_memory.py --models 2 4 8 16
    .venv/bin/python benchmarks/transfer_memory.py --models 2 4 8 16 --code /tmp/old/workflow_scripts
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(code: Path, request: dict) -> dict:
    """Run one transfer job in this process; return its peak RSS (MB) and seconds."""
    import resource

    sys.path.insert(0, str(code))
    from lottery_mia import attack_steps
    from lottery_mia.config import schema_defaults

    attack = schema_defaults("attack") | {"eval_size": request["eval_size"]}
    for name in ("mlp", "svm", "random_forest"):
        attack[name] = schema_defaults(f"attack.{name}")
    attack["mlp"]["max_iter"] = request["mlp_iter"]

    outputs = {"matrix_path": request["matrix"]}
    if "cells_path" in inspect.signature(attack_steps.transfer).parameters:  # older code: none
        outputs["cells_path"] = request["cells"]
    baseline_mb = _rss_now_mb()
    started = time.perf_counter()
    attack_steps.transfer(
        model_keys=request["keys"],
        outputs_paths=request["paths"],
        attack=request["attack"],
        n_samples=request["n_samples"],
        settings={"attack": attack},  # the canonical section the config gate hands the rule
        **outputs,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"peak_mb": peak_mb, "above_imports_mb": peak_mb - baseline_mb, "seconds": seconds}


def _rss_now_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def fabricate(folder: Path, count: int, args: argparse.Namespace) -> list[Path]:
    sys.path[:0] = [str(REPO / "workflow_scripts"), str(REPO / "tests")]
    from fabricate_outputs import write_outputs

    return [
        write_outputs(
            folder / f"model{index}" / "outputs.parquet",
            per_pool=args.per_pool,
            n_classes=args.classes,
            eval_size=args.eval_size,
            member_margin=3.0 + index % 3,
            seed=index,
            rows_per_group=args.rows_per_group,
        )
        for index in range(count)
    ]


def measure(paths: list[Path], folder: Path, args: argparse.Namespace) -> dict:
    request = {
        "keys": [{"arch": "resnet18", "sparsity": 0.0, "seed": i} for i in range(len(paths))],
        "paths": [str(path) for path in paths],
        "attack": args.attack,
        "n_samples": args.n_samples,
        "eval_size": args.eval_size,
        "mlp_iter": args.mlp_max_iter,
        "matrix": str(folder / f"matrix_{len(paths)}.parquet"),
        "cells": str(folder / f"cells_{len(paths)}.parquet"),
    }
    command = [sys.executable, __file__, "--child", str(args.code), json.dumps(request)]
    # One BLAS thread, as in the rule (Snakemake sets these to the job's threads): with one
    # thread per core on a shared machine the same MLP fit took 5 s or 110 s.
    single = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, **single}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"transfer with {len(paths)} models failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", type=int, default=[2, 4, 8, 16])
    parser.add_argument("--per-pool", type=int, default=10_000, help="members (= non-members)")
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--eval-size", type=int, default=2_000)
    parser.add_argument("--n-samples", type=int, default=2_000)
    parser.add_argument("--rows-per-group", type=int, default=1_024)
    parser.add_argument("--attack", default="loss_threshold")
    parser.add_argument("--mlp-max-iter", type=int, default=300, help="attack.mlp.max_iter")
    parser.add_argument("--code", type=Path, default=REPO / "workflow_scripts")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), json.loads(args.child[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = fabricate(folder, max(args.models), args)
        size_mb = sum(path.stat().st_size for path in paths) / len(paths) / 2**20
        print(
            f"code: {args.code}; attack {args.attack}; {2 * args.per_pool} rows x "
            f"{args.classes} classes per model ({size_mb:.1f} MB parquet each)"
        )
        print(f"{'models':>6} {'peak RSS MB':>12} {'above imports MB':>17} {'seconds':>8}")
        for count in args.models:
            result = measure(paths[:count], folder, args)
            print(
                f"{count:6d} {result['peak_mb']:12.0f} {result['above_imports_mb']:17.0f} "
                f"{result['seconds']:8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
