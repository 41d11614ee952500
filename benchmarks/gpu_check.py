"""GPU readiness: throughput, memory and a tiny end-to-end run, written to one JSON file.

On one GPU in under 8 minutes (``--size full``), on fabricated data (nothing to download):

1. training images/s of ResNet-18 and ResNet-50 at width 64 on 32x32 inputs: fp32, bf16
   autocast, channels_last, both, and both under ``torch.compile`` (each switch on and off
   against the fp32 eager baseline), with peak GPU memory per variant;
2. the in-memory CIFAR input path against a torchvision DataLoader (benchmarks/data_throughput.py);
3. export throughput (eval mode, inference_mode, bf16 autocast, channels_last, batch 1024);
4. a learnable fabricated CIFAR task trained with the pipeline's own ``train``: accuracy must be
   well above chance and every loss finite;
5. the tiny DAG (every rule once) on fabricated CIFAR-10 on this device, outputs checked;
6. the estimated GPU-hours of configs/paper.yaml from the measured rates (lottery_mia.resources).

Any failed self-check exits with status 1 after writing the JSON. ``--device cpu --size small``
runs every step at toy sizes (tests/unit/test_gpu_check.py), so a typo cannot spoil a GPU run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch.nn import functional

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "workflow_scripts"), str(REPO / "tests"), str(REPO / "benchmarks")]

from fabricate import write_cifar  # noqa: E402
from lottery_mia import resources  # noqa: E402
from lottery_mia.config import load_schema, training_settings, validate_config  # noqa: E402
from lottery_mia.data import load_dataset  # noqa: E402
from lottery_mia.models import ModelSpec, build_model  # noqa: E402
from lottery_mia.training import TrainSettings, train  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    """How much work each step does (``full`` for a GPU, ``small`` for a CPU smoke run)."""

    width: int
    batch: int
    steps: int
    warmup: int
    export_batch: int
    data_images: int
    learn_train: int
    learn_epochs: int
    image_size: int = 32
    channels: int = 3


SIZES = {
    "full": Sizes(64, 256, 30, 5, 1024, 20_000, 4_000, 4),
    "small": Sizes(8, 16, 2, 1, 32, 512, 600, 3),
}
#: (name, bf16 autocast, channels_last, torch.compile): each switch on and off against "fp32".
VARIANTS = (
    ("fp32", False, False, False),
    ("bf16", True, False, False),
    ("channels_last", False, True, False),
    ("bf16+channels_last", True, True, False),
    ("bf16+channels_last+compile", True, True, True),
)


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_mb(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def prepared(arch: str, sizes: Sizes, device: torch.device, channels_last: bool, compiled: bool):
    spec = ModelSpec(arch, 10, sizes.channels, image_size=sizes.image_size, width=sizes.width)
    model = build_model(spec, seed=0).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model) if compiled else model, model


def batch(sizes: Sizes, device: torch.device, channels_last: bool, size: int | None = None):
    generator = torch.Generator().manual_seed(0)
    count = size or sizes.batch
    shape = (count, sizes.channels, sizes.image_size, sizes.image_size)
    images = torch.randn(shape, generator=generator).to(device)
    labels = torch.randint(0, 10, (count,), generator=generator).to(device)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, labels


def timed(step: Callable[[], Any], count: int, images: int, device: torch.device) -> float:
    synchronise(device)
    started = time.perf_counter()
    for _ in range(count):
        step()
    synchronise(device)
    return images * count / (time.perf_counter() - started)


def training_rate(arch: str, variant: tuple, sizes: Sizes, device: torch.device) -> dict:
    """Images/s of SGD steps for one variant, its peak GPU memory and whether losses stayed finite."""
    name, amp, channels_last, compiled = variant
    reset_peak(device)
    model, _ = prepared(arch, sizes, device, channels_last, compiled)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    images, labels = batch(sizes, device, channels_last)
    losses: list[torch.Tensor] = []

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = functional.cross_entropy(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())

    started = time.perf_counter()
    timed(step, sizes.warmup, sizes.batch, device)  # kernels, allocator, compilation
    warmup_s = time.perf_counter() - started
    rate = timed(step, sizes.steps, sizes.batch, device)
    finite = bool(torch.isfinite(torch.stack(losses)).all())
    return {"variant": name, "images_per_s": rate, "warmup_s": warmup_s,
            "peak_gpu_mb": peak_mb(device), "finite_losses": finite}  # fmt: skip


def export_rate(arch: str, sizes: Sizes, device: torch.device) -> dict:
    """Images/s of the export's forward pass (eval, inference_mode, bf16 on CUDA, channels_last
    on CUDA as the pipeline's ``auto`` does)."""
    on_cuda = device.type == "cuda"
    reset_peak(device)
    model, _ = prepared(arch, sizes, device, channels_last=on_cuda, compiled=False)
    model.eval()
    images, _ = batch(sizes, device, on_cuda, size=sizes.export_batch)
    outputs: list[torch.Tensor] = []

    @torch.inference_mode()
    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_cuda):
            outputs.append(model(images).float().sum())

    timed(step, sizes.warmup, sizes.export_batch, device)
    rate = timed(step, max(2, sizes.steps // 3), sizes.export_batch, device)
    finite = bool(torch.isfinite(torch.stack(outputs)).all())
    return {"images_per_s": rate, "peak_gpu_mb": peak_mb(device), "finite_outputs": finite}


def data_path(sizes: Sizes) -> dict:
    """Our in-memory CIFAR path against a torchvision DataLoader, same process, same batches."""
    import data_throughput

    workers = "0" if sizes is SIZES["small"] else "0,4"
    return data_throughput.main(
        ["--images", str(sizes.data_images), "--epochs", "2", "--workers", workers]
    )


def learnable_task(sizes: Sizes, device: torch.device, folder: Path) -> dict:
    """Train ResNet-18 with the pipeline's ``train`` on class-coloured fabricated CIFAR images."""
    written = write_cifar(folder, "cifar10", train_size=sizes.learn_train, test_size=500)
    dataset = load_dataset("cifar10", {"root": str(written.folder), "augmentation": "flip_crop"})
    settings = TrainSettings(epochs=sizes.learn_epochs, batch_size=100, lr=0.05, device=device.type)
    model = build_model(ModelSpec("resnet18", 10, image_size=32, width=16), seed=0)
    result = train(model, dataset, settings, seed=0)
    losses = [epoch["train_loss"] for epoch in result.history]
    return {"test_accuracy": result.test_accuracy, "train_accuracy": result.train_accuracy,
            "chance": 0.1, "finite_losses": all(math.isfinite(x) for x in losses),
            "seconds": result.seconds}  # fmt: skip


def tiny_dag(device: torch.device, folder: Path) -> dict:
    """Every rule once on fabricated CIFAR-10 on ``device``; the outputs are read back and checked."""
    import pandas as pd

    written = write_cifar(folder / "data", "cifar10", train_size=300, test_size=200)
    config = {
        "datasets": {"cifar10": {"root": str(written.folder), "augmentation": "flip_crop"}},
        "grid": {"archs": ["resnet18"], "seeds": [0], "sparsities": [0, 0.5],
                 "sample_counts": [200], "attacks": ["mlp", "loss_threshold"]},
        "model": {"width": 8},
        "training": {"epochs": 2, "batch_size": 100, "device": device.type},
        "attack": {"eval_size": 100, "mlp": {"hidden_layer_sizes": [16], "max_iter": 50}},
        "figures": {"sample_count": 200, "sparsity": 0.5, "dpi": 60},
        "compute": {"train_threads": 1, "attack_threads": 1},
    }  # fmt: skip
    config_path = folder / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    workdir = folder / "run"
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(config_path), "--cores", "2"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"ok": False, "seconds": seconds, "error": done.stderr[-3000:]}
    results = workdir / "results"
    summary = pd.read_parquet(results / "summary.parquet")
    records = [json.loads(p.read_text()) for p in results.glob("cifar10/*/seed0/**/train.json")]
    expected_files = [results / "tables" / "table1.csv", results / "figures" / "fig1_test_accuracy.png",
                      results / "cifar10" / "transfer" / "mlp_n200.parquet"]  # fmt: skip
    checks = {
        "summary_rows": len(summary) == 2 * 2,  # 2 models x 2 attacks x 1 sample count
        "auc_in_0_1": bool(summary["auc"].between(0, 1).all()),
        "trained_on_device": len(records) == 2
        and all(device.type in json.dumps(r.get("device")) for r in records),
        "files_written": all(path.exists() for path in expected_files),
    }
    return {"ok": all(checks.values()), "checks": checks, "seconds": seconds}


def paper_gpu_hours(train_rates: dict, export_rates: dict, config_path: Path) -> dict:
    """GPU-hours of the paper grid (no safety factor, no start-up): the resources table's rates
    scaled by measured / table at 32 px, ImageNet still capped by JPEG decoding."""
    config = validate_config(yaml.safe_load(config_path.read_text()), load_schema(
        REPO / "rules" / "schemas" / "config.schema.yaml"))  # fmt: skip
    grid, width = config["grid"], config["model"]["width"]
    hours: dict[str, float] = {}
    for dataset in config["datasets"]:
        training = training_settings(config, dataset)
        workers = config["datasets"][dataset].get("workers", 0) or 0
        pools = resources.DATASETS[dataset]
        total = 0.0
        for arch in grid["archs"]:
            table_cifar = resources.RATES[("cuda", "cifar10", arch)]
            scale_train = train_rates[arch] / table_cifar.train
            scale_infer = export_rates[arch] / table_cifar.infer
            speed = resources.rate("cuda", dataset, arch, width, workers=10**9)  # uncapped
            decode = (max(1, workers) * resources.JPEG_IMAGES_PER_WORKER
                      if dataset == "imagenet" else math.inf)  # fmt: skip
            trainings = len(grid["seeds"]) * len(grid["sparsities"])  # dense + tickets
            cap = training.get("metrics_max_samples") or math.inf
            evaluated = training["epochs"] * min(pools.test, cap) + min(pools.train, cap)
            train_rate = min(speed.train * scale_train, decode)
            infer_rate = min(speed.infer * scale_infer, decode)
            per_training = training["epochs"] * pools.train / train_rate + evaluated / infer_rate
            per_export = 2 * min(pools.train, pools.test) / infer_rate
            total += trainings * (per_training + per_export)
        hours[dataset] = total / 3600
    hours["total"] = sum(hours.values())
    return hours


def self_checks(report: dict) -> list[str]:
    """Names of the checks that failed (empty when all passed)."""
    failed = []
    for arch, variants in report["training"].items():
        failed += [f"training {arch} {v['variant']}: non-finite loss" for v in variants
                   if not v["finite_losses"]]  # fmt: skip
    failed += [f"export {arch}: non-finite outputs" for arch, e in report["export"].items()
               if not e["finite_outputs"]]  # fmt: skip
    learn = report["learnable"]
    if not learn["finite_losses"] or learn["test_accuracy"] < learn["chance"] + 0.3:
        failed.append(f"learnable task: test accuracy {learn['test_accuracy']:.3f}")
    if not report["dag"]["ok"]:
        failed.append(f"tiny DAG: {report['dag'].get('checks') or report['dag'].get('error')}")
    return failed


#: Rows of lottery_mia.resources.RATES measured on the CPU by ``--table-rates``: dataset ->
#: (width, input side, input channels), fp32, contiguous (the CPU default), 1 thread.
CPU_TABLE_INPUTS = {"digits": (16, 8, 1), "cifar10": (64, 32, 3)}


def table_rates(device: torch.device, steps: int) -> dict:
    """Training and export images/s per dataset and arch, as lottery_mia.resources lists them."""
    rates = {}
    for dataset, (width, side, channels) in CPU_TABLE_INPUTS.items():
        sizes = Sizes(width, 64, steps, 1, 256, 0, 0, 0, image_size=side, channels=channels)
        for arch in ("resnet18", "resnet50"):
            trained = training_rate(arch, VARIANTS[0], sizes, device)["images_per_s"]
            exported = export_rate(arch, sizes, device)["images_per_s"]
            rates[f"{dataset}/{arch}"] = {"train": trained, "infer": exported, "width": width}
            print(f"{dataset:8s} {arch}: train {trained:8.1f} img/s, export {exported:8.1f} img/s")
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--size", default=None, choices=list(SIZES), help="default: full on cuda")
    parser.add_argument("--json", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--paper-config", type=Path, default=REPO / "configs" / "paper.yaml")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-compile", action="store_true", help="no torch.compile variant")
    parser.add_argument("--table-rates", action="store_true",
                        help="only measure the rates of lottery_mia.resources.RATES")  # fmt: skip
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but torch.cuda.is_available() is false")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sizes = SIZES[args.size or ("full" if args.device == "cuda" else "small")]
    if args.table_rates:
        args.json.write_text(json.dumps(table_rates(device, steps=3), indent=2))
        return 0
    variants = [v for v in VARIANTS if not (args.skip_compile and v[3])]
    started = time.perf_counter()
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
        "torch": torch.__version__, "sizes": asdict(sizes), "training": {}, "export": {},
    }  # fmt: skip
    for arch in ("resnet18", "resnet50"):
        report["training"][arch] = []
        for variant in variants:
            result = training_rate(arch, variant, sizes, device)
            report["training"][arch].append(result)
            print(f"train {arch} {result['variant']:>27}: {result['images_per_s']:10,.0f} img/s "
                  f"(warm-up {result['warmup_s']:.0f} s, peak {result['peak_gpu_mb']} MB)", flush=True)  # fmt: skip
        report["export"][arch] = export_rate(arch, sizes, device)
        print(f"export {arch}: {report['export'][arch]['images_per_s']:,.0f} img/s", flush=True)
    report["data_path"] = data_path(sizes)
    with tempfile.TemporaryDirectory() as tmp:
        report["learnable"] = learnable_task(sizes, device, Path(tmp) / "learn")
        print(f"learnable task: {report['learnable']}", flush=True)
        report["dag"] = tiny_dag(device, Path(tmp) / "dag")
        print(f"tiny DAG: ok={report['dag']['ok']} in {report['dag']['seconds']:.0f} s", flush=True)
    best = {arch: max(v["images_per_s"] for v in report["training"][arch] if "compile" not in v["variant"])
            for arch in report["training"]}  # fmt: skip
    exports = {arch: e["images_per_s"] for arch, e in report["export"].items()}
    # On the CPU this only exercises the arithmetic: the rates are not a GPU's.
    report["paper_gpu_hours"] = paper_gpu_hours(best, exports, args.paper_config)
    label = "estimated GPU-hours" if device.type == "cuda" else "CPU smoke run, NOT GPU-hours"
    print(f"{label} of {args.paper_config.name}: {report['paper_gpu_hours']}")
    report["failed_checks"] = self_checks(report)
    report["seconds"] = time.perf_counter() - started
    args.json.write_text(json.dumps(report, indent=2, default=str))
    print(
        f"wrote {args.json} after {report['seconds']:.0f} s; failed checks: {report['failed_checks']}"
    )
    return 1 if report["failed_checks"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
