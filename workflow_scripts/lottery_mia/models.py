"""ResNet-18 and ResNet-50 as torchvision builds them, with a configurable base width and stem.

torchvision's ``ResNet`` hard-codes 64 base channels and its ``BasicBlock`` refuses other group widths,
so ``ScalableResNet`` builds the stages itself. The blocks, ``_make_layer`` and ``forward`` are
torchvision's own code (torchvision/models/resnet.py, BSD-3-Clause), copied with the options we never
use (groups, dilation, other norm layers) left out: importing ``torchvision`` pulls in
``torch._dynamo`` and sympy, about as much start-up time again as ``import torch`` itself, which every
initialise, prune, training and export job paid for one class each. Modules are created and
registered in torchvision's order, so a seed gives the same weights bit for bit
(tests/unit/test_models.py compares with torchvision).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lottery_mia.architectures import LAYOUTS
from lottery_mia.atomic import PathLike, atomic_path


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """torchvision's ``BasicBlock`` (two 3x3 convolutions) with groups=1 and no dilation."""

    expansion: int = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """torchvision's ``Bottleneck`` (ResNet v1.5: the stride sits on the 3x3 convolution)."""

    expansion: int = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return self.relu(out)


_BLOCKS: dict[str, type[BasicBlock | Bottleneck]] = {"basic": BasicBlock, "bottleneck": Bottleneck}
ARCHITECTURES: dict[str, tuple[type[BasicBlock | Bottleneck], list[int]]] = {
    name: (_BLOCKS[kind], list(stages)) for name, (kind, stages) in LAYOUTS.items()
}
#: Inputs up to this many pixels get the CIFAR-style stem (3x3 conv, stride 1, no max-pool): digits,
#: CIFAR and Downsampled ImageNet (32 and 64 px). ImageNet's stem (7x7 stride 2, then max-pool)
#: divides the side by 4 before the first stage, leaving 1x1 (32 px) or 2x2 (64 px) in the last.
SMALL_IMAGE_MAX_SIZE = 64


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a model: the state dict plus this spec is the whole model."""

    arch: str
    num_classes: int
    in_channels: int = 3
    image_size: int = 32
    width: int = 64
    zero_init_residual: bool = True

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(
                f"unknown architecture {self.arch!r}; expected one of {sorted(ARCHITECTURES)}"
            )
        if self.width <= 0 or self.num_classes < 2 or self.in_channels <= 0:
            raise ValueError(
                f"invalid model spec {self}: width, in_channels > 0 and num_classes >= 2"
            )


class ScalableResNet(nn.Module):
    """torchvision's ResNet whose stage widths are ``width * (1, 2, 4, 8)`` and whose stem fits the input size."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        block, layers = ARCHITECTURES[spec.arch]
        self.inplanes = spec.width  # input channels of the next block, advanced by _make_layer
        if spec.image_size <= SMALL_IMAGE_MAX_SIZE:
            self.conv1 = nn.Conv2d(spec.in_channels, spec.width, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(spec.in_channels, spec.width, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(spec.width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, spec.width, layers[0])
        self.layer2 = self._make_layer(block, spec.width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, spec.width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, spec.width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(spec.width * 8 * block.expansion, spec.num_classes)
        self._initialise(zero_init_residual=spec.zero_init_residual)

    def _initialise(self, zero_init_residual: bool) -> None:
        """torchvision's initialisation: Kaiming for convs, unit BatchNorm, optional zero last-BN gamma."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if zero_init_residual:
            # Narrow bottleneck ResNets train badly without it (design.md, known traps).
            for module in self.modules():
                if isinstance(module, Bottleneck):
                    nn.init.zeros_(module.bn3.weight)
                elif isinstance(module, BasicBlock):
                    nn.init.zeros_(module.bn2.weight)

    def _make_layer(
        self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        """One stage, as torchvision's ``ResNet._make_layer``: a projection shortcut (created
        before the first block, as there) where the shape changes, then ``blocks`` blocks."""
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build_model(spec: ModelSpec, seed: int | None = None) -> ScalableResNet:
    """Build a freshly initialised model; with ``seed`` the initial weights w0 are reproducible."""
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return ScalableResNet(spec)
    return ScalableResNet(spec)


def save_state_dict(state: dict[str, torch.Tensor], path: PathLike) -> None:
    """Save a plain state dict (CPU tensors) atomically, loadable with ``weights_only=True``."""
    with atomic_path(path) as tmp:
        torch.save({name: tensor.detach().cpu() for name, tensor in state.items()}, tmp)


def load_state_dict(path: PathLike) -> dict[str, torch.Tensor]:
    """Load a state dict without unpickling arbitrary objects (``weights_only=True``).

    A crafted pickle that would run code is refused, and so is anything that is not a mapping of
    parameter names to tensors.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        raise ValueError(
            f"{path}: not a loadable weights-only state dict ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise ValueError(
            f"{path}: expected a state dict (parameter name -> tensor), found {type(state).__name__}"
        )
    return state


def load_weights(model: nn.Module, path: PathLike) -> None:
    """Load ``path`` into ``model``, naming the file when keys or shapes do not match."""
    try:
        model.load_state_dict(load_state_dict(path))
    except RuntimeError as err:
        raise ValueError(f"{path}: does not fit the model ({err})") from err
