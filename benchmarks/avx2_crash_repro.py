"""Reproducer of the oneDNN heap corruption on AVX2-only CPUs (docs/known_issues.md).

torch 2.14.1's CPU backward of a narrow convolution in ``channels_last`` corrupts the heap when
oneDNN takes its AVX2 code path: the process dies (SIGABRT "corrupted double-linked list",
SIGSEGV) or, where it survives, two same-seed runs give different weights. On an AVX-512 machine
force that path with ``ONEDNN_MAX_CPU_ISA=AVX2``. Each case runs in a fresh subprocess, so a crash
is counted instead of killing this script:

    ONEDNN_MAX_CPU_ISA=AVX2 .venv/bin/python benchmarks/avx2_crash_repro.py --repeats 5

Cases: ``conv`` (the minimal reproducer: weight gradient of one 1x1 stride-2 convolution), ``resnet18`` (two same-seed training
steps of a whole ResNet-18 on digits-sized 1x8x8 inputs, weights compared), each at the given
channel widths, with and without channels_last.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import torch

SCRIPTS = Path(__file__).resolve().parent.parent / "workflow_scripts"


def conv_case(width: int, channels_last: bool, steps: int) -> str:
    """The minimal crash: the weight gradient of a 1x1 stride-2 conv (width -> 2 width channels).

    This is ResNet-18's first downsampling shortcut (``layer2.0.downsample.0``) on 8x8 inputs.
    Only the weight gradient is needed (the input needs none); stride 1 and >= 8 input channels
    are fine, as is the forward pass alone.
    """
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(width, 2 * width, kernel_size=1, stride=2, bias=False)
    images = torch.randn(128, width, 8, 8)
    if channels_last:
        conv = conv.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    grads = []
    for _ in range(steps):
        conv.zero_grad()
        conv(images).sum().backward()
        grads.append(conv.weight.grad.clone())
    same = all(torch.equal(grads[0], grad) for grad in grads[1:])
    return "ok" if same else "DIFFERENT gradients for the same inputs"


def resnet_case(width: int, channels_last: bool, steps: int) -> str:
    """Two same-seed runs of ``steps`` SGD steps of ResNet-18 on 1x8x8 inputs; weights must match."""
    sys.path.insert(0, str(SCRIPTS))
    from lottery_mia.models import ModelSpec, build_model

    spec = ModelSpec(arch="resnet18", num_classes=10, in_channels=1, image_size=8, width=width)
    finals = []
    for _ in range(2):
        model = build_model(spec, seed=0)
        generator = torch.Generator().manual_seed(0)
        images = torch.randn(128, 1, 8, 8, generator=generator)
        labels = torch.randint(0, 10, (128,), generator=generator)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            images = images.contiguous(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        finals.append({name: value.detach().clone() for name, value in model.state_dict().items()})
    differing = [name for name in finals[0] if not torch.equal(finals[0][name], finals[1][name])]
    if not differing:
        return "ok"
    worst = max((finals[0][n].float() - finals[1][n].float()).abs().max().item() for n in differing)
    return f"DIFFERENT weights in {len(differing)} tensors (max abs diff {worst:.3g})"


CASES = {"conv": conv_case, "resnet18": resnet_case}


def run_child(case: str, width: int, channels_last: bool, steps: int) -> str:
    """Run one case in a subprocess; return its verdict or how it died."""
    command = [sys.executable, __file__, "--child", case, str(width), str(int(channels_last))]
    command += ["--steps", str(steps)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode == 0:
        return done.stdout.strip().splitlines()[-1]
    if done.returncode < 0:
        return f"CRASH signal {-done.returncode} ({done.stderr.strip().splitlines()[-1:]})"
    return f"FAILED exit {done.returncode} ({done.stderr.strip().splitlines()[-1:]})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--widths", nargs="+", type=int, default=[2, 4, 8])
    parser.add_argument("--layouts", nargs="+", default=["channels_last", "contiguous"])
    parser.add_argument("--repeats", type=int, default=3, help="subprocesses per setting")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("CASE", "WIDTH", "CHANNELS_LAST"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.child:
        case, width, channels_last = args.child
        print(CASES[case](int(width), bool(int(channels_last)), args.steps), flush=True)
        return
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "(unset: best the CPU has)")
    print(f"torch {torch.__version__}, ONEDNN_MAX_CPU_ISA={isa}")
    for case in args.cases:
        for width in args.widths:
            for layout in args.layouts:
                verdicts = [
                    run_child(case, width, layout == "channels_last", args.steps)
                    for _ in range(args.repeats)
                ]
                bad = sum(verdict != "ok" for verdict in verdicts)
                print(
                    f"{case:9s} width {width:2d} {layout:13s}: {bad}/{len(verdicts)} bad  {verdicts}"
                )


if __name__ == "__main__":
    main()
