"""What the pruning-at-initialisation methods (snip, grasp, synflow) share.

They score a copy of the model at w0 and never change the caller's model. They treat
zero-initialised BatchNorm scales (``zero_init_residual``) as ones: a residual branch gated off by
a zero scale has zero gradient and zero synaptic flow everywhere, so every weight in it would score
0 and whole layers would be emptied before any other weight went.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from lottery_mia.prune.context import Batch

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def scoring_copy(model: nn.Module, dtype: torch.dtype | None = None) -> nn.Module:
    """A copy of ``model`` to score, with gated-off residual branches opened (module docstring)."""
    scored = copy.deepcopy(model)
    if dtype is not None:
        scored = scored.to(dtype)
    with torch.no_grad():
        for module in scored.modules():
            is_norm = isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine
            if is_norm and not module.weight.any():
                module.weight.fill_(1.0)
    return scored


def mean_gradient(
    model: nn.Module,
    weights: Sequence[nn.Parameter],
    batches: Sequence[Batch],
    loss: LossFunction,
    temperature: float = 1.0,
) -> list[torch.Tensor]:
    """Gradient of the loss averaged over ``batches`` (each batch's loss is its own mean)."""
    total = [torch.zeros_like(weight) for weight in weights]
    for inputs, labels in batches:
        grads = torch.autograd.grad(loss(model(inputs) / temperature, labels), weights)
        for accumulated, grad in zip(total, grads, strict=True):
            accumulated += grad
    return [grad / len(batches) for grad in total]


def require_batches(batches: Sequence[Batch], method: str) -> None:
    if not batches:
        raise ValueError(f"{method} needs at least one batch of training data")
