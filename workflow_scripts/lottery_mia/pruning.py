"""One-shot global magnitude pruning (Algorithm 1 of the study) and masks that hold through training.

Only the weights of convolutions and linear layers are prunable; biases and BatchNorm never are
(Frankle & Carbin 2019). Layers can be excluded by name pattern: by default ``fc``, because global
pruning of a full-width ResNet-50 at 80% removed its whole classifier (design.md, known traps).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

Mask = dict[str, torch.Tensor]
PRUNABLE_MODULES = (nn.Conv2d, nn.Linear)


def _is_excluded(module_name: str, exclude: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(module_name, pattern) for pattern in exclude)


def prunable_parameters(model: nn.Module, exclude: Sequence[str] = ()) -> dict[str, nn.Parameter]:
    """Map ``<module>.weight`` to the weight of every conv/linear module not matched by ``exclude``.

    ``exclude`` holds fnmatch patterns over module names (``fc``, ``layer4.*``).
    """
    return {
        f"{name}.weight": module.weight
        for name, module in model.named_modules()
        if isinstance(module, PRUNABLE_MODULES) and not _is_excluded(name, exclude)
    }


def global_magnitude_mask(
    model: nn.Module, sparsity: float, exclude: Sequence[str] = ("fc",)
) -> Mask:
    """Prune exactly ``round(sparsity * n_prunable)`` weights of smallest magnitude across all layers.

    Ties are broken by position (a stable sort), so the count is exact. Raises if any layer would be
    left with no weight, since such a network cannot learn (it silently falls to chance accuracy).
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    weights = prunable_parameters(model, exclude)
    if not weights:
        raise ValueError(f"no prunable conv/linear weights left after excluding {list(exclude)}")
    magnitudes = torch.cat([w.detach().abs().flatten().float().cpu() for w in weights.values()])
    n_pruned = round(sparsity * magnitudes.numel())
    keep = torch.ones(magnitudes.numel(), dtype=torch.bool)
    keep[torch.argsort(magnitudes, stable=True)[:n_pruned]] = False
    mask: Mask = {}
    offset = 0
    for name, weight in weights.items():
        mask[name] = keep[offset : offset + weight.numel()].view_as(weight).clone()
        offset += weight.numel()
    empty = [name for name, layer_mask in mask.items() if not layer_mask.any()]
    if empty:
        raise ValueError(
            f"pruning to sparsity {sparsity} removes every weight of {empty}; "
            "exclude these layers (pruning.exclude) or lower the sparsity"
        )
    return mask


@dataclass(frozen=True)
class SparsityReport:
    """Pruned fraction over the prunable tensors (the pruning target) and over all parameters."""

    prunable_total: int
    prunable_zero: int
    all_total: int
    all_zero: int
    per_layer: dict[str, float]

    @property
    def prunable_sparsity(self) -> float:
        return self.prunable_zero / self.prunable_total if self.prunable_total else 0.0

    @property
    def overall_sparsity(self) -> float:
        return self.all_zero / self.all_total

    def as_dict(self) -> dict[str, object]:
        return {
            "prunable_sparsity": self.prunable_sparsity,
            "overall_sparsity": self.overall_sparsity,
            "prunable_weights": self.prunable_total,
            "prunable_zero": self.prunable_zero,
            "per_layer_sparsity": self.per_layer,
        }


def sparsity_report(model: nn.Module, mask: Mapping[str, torch.Tensor] | None) -> SparsityReport:
    """Count pruned weights: those the mask removes (and that are really zero) over the masked tensors."""
    params = dict(model.named_parameters())
    per_layer: dict[str, float] = {}
    prunable_total = prunable_zero = 0
    for name, layer_mask in (mask or {}).items():
        pruned = (~layer_mask.to(params[name].device)) & (params[name].detach() == 0)
        per_layer[name] = pruned.sum().item() / layer_mask.numel()
        prunable_total += layer_mask.numel()
        prunable_zero += int(pruned.sum())
    all_total = sum(p.numel() for p in params.values())
    all_zero = sum(int((p.detach() == 0).sum()) for p in params.values())
    return SparsityReport(prunable_total, prunable_zero, all_total, all_zero, per_layer)


def validate_mask(model: nn.Module, mask: Mapping[str, object], source: str) -> Mask:
    """Check that ``mask`` names parameters of ``model`` with matching shapes and bool dtype."""
    params = dict(model.named_parameters())
    checked: Mask = {}
    for name, layer_mask in mask.items():
        if name not in params:
            raise ValueError(f"{source}: mask entry {name!r} is not a parameter of the model")
        if not isinstance(layer_mask, torch.Tensor) or layer_mask.dtype != torch.bool:
            raise ValueError(f"{source}: mask entry {name!r} must be a bool tensor")
        if layer_mask.shape != params[name].shape:
            raise ValueError(
                f"{source}: mask entry {name!r} has shape {tuple(layer_mask.shape)}, "
                f"expected {tuple(params[name].shape)}"
            )
        checked[name] = layer_mask
    return checked


class MaskEnforcer:
    """Keeps pruned weights exactly zero through every optimiser step.

    Gradients of pruned weights are zeroed before the step, so momentum buffers never accumulate
    for them; weights are multiplied by the mask after the step, so weight decay or any optimiser
    quirk cannot regrow them.
    """

    def __init__(self, model: nn.Module, mask: Mapping[str, torch.Tensor]) -> None:
        params = dict(model.named_parameters())
        self._pairs = [
            (params[name], layer_mask.to(params[name].device)) for name, layer_mask in mask.items()
        ]

    @torch.no_grad()
    def apply_to_weights(self) -> None:
        for param, layer_mask in self._pairs:
            param.mul_(layer_mask)

    @torch.no_grad()
    def apply_to_gradients(self) -> None:
        for param, layer_mask in self._pairs:
            if param.grad is not None:
                param.grad.mul_(layer_mask)

    def __bool__(self) -> bool:
        return bool(self._pairs)
