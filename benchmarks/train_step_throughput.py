"""Training-step throughput: what masks and channels_last cost or save, as ratios to plain steps.

Baseline: a plain SGD step (momentum, weight decay) on a contiguous model without a mask. Variants,
measured in the same run on the same batches: the ticket step (gradients masked before and weights
after each step, as `lottery_mia.training` does), channels_last, and both. Prints images/s and the
ratio of each variant to the baseline (> 1 = faster).

    .venv/bin/python benchmarks/train_step_throughput.py --arch resnet18 --width 64 --image-size 32
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workflow_scripts"))

from lottery_mia.models import ModelSpec, build_model
from lottery_mia.pruning import MaskEnforcer, global_magnitude_mask
from lottery_mia.training import resolve_device


class Variant:
    """One model, optimiser and batch layout, stepped a few times per round."""

    def __init__(self, spec, device, images, sparsity, masked, channels_last) -> None:
        self.model = build_model(spec, seed=0).to(device)
        self.enforcer = None
        if masked:
            self.enforcer = MaskEnforcer(self.model, global_magnitude_mask(self.model, sparsity))
            self.enforcer.apply_to_weights()
        self.images = images
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.images = images.contiguous(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4
        )
        self.model.train()

    def step(self, labels) -> None:
        loss = functional.cross_entropy(self.model(self.images), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.enforcer is not None:
            self.enforcer.apply_to_gradients()
        self.optimizer.step()
        if self.enforcer is not None:
            self.enforcer.apply_to_weights()


def images_per_second(variant, labels, steps, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        variant.step(labels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * len(labels) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18", choices=["resnet18", "resnet50"])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--sparsity", type=float, default=0.8)
    parser.add_argument("--steps", type=int, default=3, help="steps per variant and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    spec = ModelSpec(args.arch, 10, in_channels=3, image_size=args.image_size, width=args.width)
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(args.batch_size, 3, args.image_size, args.image_size, generator=generator)
    labels = torch.randint(0, 10, (args.batch_size,), generator=generator)
    images, labels = images.to(device), labels.to(device)
    variants = {
        name: Variant(spec, device, images, args.sparsity, masked, channels_last)
        for name, masked, channels_last in [
            ("plain", False, False),
            ("masked", True, False),
            ("channels_last", False, True),
            ("masked+channels_last", True, True),
        ]
    }
    for variant in variants.values():  # warm-up (allocator, kernels)
        images_per_second(variant, labels, 2, device)
    # Interleaved rounds, so drifting clock speed or load hits every variant alike.
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, variant in variants.items():
            rates[name].append(images_per_second(variant, labels, args.steps, device))
    results = {name: statistics.median(values) for name, values in rates.items()}
    print(
        f"device {device}, {args.arch} width {args.width}, {args.image_size}px, batch {args.batch_size}"
    )
    for name, rate in results.items():
        print(f"{name:>22}: {rate:10.1f} images/s   ratio to plain {rate / results['plain']:.2f}")
    return results


if __name__ == "__main__":
    main()
