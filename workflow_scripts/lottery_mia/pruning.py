"""Masks over the prunable tensors: one exact-count global selection, and masks that hold in training.

Only the weights of convolutions and linear layers are prunable; biases and BatchNorm never are
(Frankle & Carbin 2019). Layers can be excluded by name pattern: by default ``fc``, because global
pruning of a full-width ResNet-50 at 80% removed its whole classifier (design.md, known traps).

Every pruning method (``prune``) ends here: it scores each prunable weight (higher = more
worth keeping) and ``select_global`` removes exactly ``round(sparsity * N)`` of the lowest scores
over all prunable tensors together, so the reached sparsity is the target, for every method.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lottery_mia.pruning_plan import check_exclude_patterns

Mask = dict[str, torch.Tensor]
Scores = dict[str, torch.Tensor]
PRUNABLE_MODULES = (nn.Conv2d, nn.Linear)


def _is_excluded(module_name: str, exclude: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(module_name, pattern) for pattern in exclude)


def prunable_module_names(model: nn.Module) -> list[str]:
    """Names of every conv/linear module of ``model``, in module order, before any exclusion."""
    return [name for name, module in model.named_modules() if isinstance(module, PRUNABLE_MODULES)]


def prunable_parameters(model: nn.Module, exclude: Sequence[str] = ()) -> dict[str, nn.Parameter]:
    """Map ``<module>.weight`` to the weight of every conv/linear module not matched by ``exclude``.

    ``exclude`` holds fnmatch patterns over module names (``fc``, ``layer4.*``); a pattern that
    matches no prunable module is an error (see ``check_exclude_patterns``).
    """
    check_exclude_patterns(prunable_module_names(model), exclude)
    return {
        f"{name}.weight": module.weight
        for name, module in model.named_modules()
        if isinstance(module, PRUNABLE_MODULES) and not _is_excluded(name, exclude)
    }


def _check_sparsity(sparsity: float) -> None:
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")


def select_global(
    scores: Mapping[str, torch.Tensor],
    sparsity: float,
    within: Mapping[str, torch.Tensor] | None = None,
) -> Mask:
    """Keep all but the ``round(sparsity * N)`` lowest ``scores`` over all tensors together.

    ``N`` counts every entry of ``scores`` (the prunable tensors). With ``within`` (a previous mask),
    the weights it already removed go first, so the result is a subset of it. Ties are broken by
    position (a stable sort), so the count is exact. Raises if a tensor would be left with no weight,
    since such a network cannot learn (it silently falls to chance accuracy).
    """
    _check_sparsity(sparsity)
    if not scores:
        raise ValueError("no prunable weights to select from")
    flat = torch.cat([score.detach().flatten().cpu() for score in scores.values()])
    if torch.isnan(flat).any():
        raise ValueError(f"pruning scores contain NaN in {_tensors_with_nan(scores)}")
    if within is not None:
        kept_before = torch.cat([within[name].flatten().cpu() for name in scores])
        flat = torch.where(kept_before, flat, torch.full_like(flat, -torch.inf))
    n_pruned = round(sparsity * flat.numel())
    if within is not None and n_pruned < int((~kept_before).sum()):
        raise ValueError(
            f"sparsity {sparsity} removes fewer weights than the previous mask already removed"
        )
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    keep[torch.argsort(flat, stable=True)[:n_pruned]] = False
    mask = _split_like(keep, scores)
    empty = [name for name, layer_mask in mask.items() if not layer_mask.any()]
    if empty:
        raise ValueError(
            f"pruning to sparsity {sparsity} removes every weight of {empty}; "
            "exclude these layers (pruning.exclude) or lower the sparsity"
        )
    return mask


def _tensors_with_nan(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    return [name for name, tensor in tensors.items() if torch.isnan(tensor).any()]


def _split_like(flat: torch.Tensor, like: Mapping[str, torch.Tensor]) -> Mask:
    """Cut a flat tensor into pieces shaped like the tensors of ``like``, in its order."""
    pieces: Mask = {}
    offset = 0
    for name, tensor in like.items():
        pieces[name] = flat[offset : offset + tensor.numel()].view(tensor.shape).clone()
        offset += tensor.numel()
    return pieces


def magnitude_scores(model: nn.Module, exclude: Sequence[str] = ("fc",)) -> Scores:
    """|w| of every prunable weight (float32 on the CPU: the selection's order does not change)."""
    weights = prunable_parameters(model, exclude)
    if not weights:
        raise ValueError(f"no prunable conv/linear weights left after excluding {list(exclude)}")
    return {name: weight.detach().abs().float().cpu() for name, weight in weights.items()}


def global_magnitude_mask(
    model: nn.Module, sparsity: float, exclude: Sequence[str] = ("fc",)
) -> Mask:
    """One-shot global magnitude pruning: the ``round(sparsity * N)`` smallest |w| go."""
    _check_sparsity(sparsity)
    return select_global(magnitude_scores(model, exclude), sparsity)


def random_mask_like(reference: Mapping[str, torch.Tensor], seed: int) -> Mask:
    """A mask with exactly ``reference``'s kept count in every tensor, at uniformly random positions.

    The control for "is it the mask or just its per-layer sparsity": same layer-wise sparsity as
    the magnitude mask, none of its selection.
    """
    generator = torch.Generator().manual_seed(seed)
    mask: Mask = {}
    for name, layer_mask in reference.items():
        kept = int(layer_mask.sum())
        flat = torch.zeros(layer_mask.numel(), dtype=torch.bool)
        flat[torch.randperm(layer_mask.numel(), generator=generator)[:kept]] = True
        mask[name] = flat.view(layer_mask.shape)
    return mask


def masked_state(
    state: Mapping[str, torch.Tensor], mask: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``m ⊙ w`` for the masked entries of a state dict; every other entry unchanged (copied)."""
    missing = sorted(set(mask) - set(state))
    if missing:
        raise ValueError(f"mask entries {missing} are not in the state dict")
    return {
        name: tensor * mask[name].to(tensor.device) if name in mask else tensor.clone()
        for name, tensor in state.items()
    }


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
