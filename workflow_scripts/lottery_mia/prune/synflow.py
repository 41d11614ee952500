"""``synflow`` (Tanaka et al. 2020): |w ⊙ ∂R/∂w| of the linearised network on an all-ones input,
data-free and iterative (``synflow_mask``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lottery_mia.prune.at_init import scoring_copy
from lottery_mia.prune.context import PruneContext
from lottery_mia.pruning import Mask, Scores, prunable_parameters, select_global


def mask(context: PruneContext) -> Mask:
    """On the CPU: a few forward and backward passes of a single input."""
    model, spec, _ = context.initial_model()
    shape = (spec.in_channels, spec.image_size, spec.image_size)
    rounds = context.settings["synflow_rounds"]
    return synflow_mask(model, context.sparsity, shape, context.exclude, rounds=rounds)


def _linearised(model: nn.Module) -> nn.Module:
    """SynFlow's positive network: a float64 copy, every floating parameter and buffer made |·|.

    With non-negative weights and an all-ones input every ReLU passes its input, so the output
    sums the products of |w| along all paths. BatchNorm runs in eval mode (running statistics).
    """
    linear = scoring_copy(model, torch.float64).eval()
    with torch.no_grad():
        for tensor in linear.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    return linear


def _synflow_round(
    linear: nn.Module, weights: dict[str, nn.Parameter], inputs: torch.Tensor
) -> Scores:
    """|w ⊙ ∂R/∂w| with R the sum of the linearised network's outputs on ``inputs``."""
    grads = torch.autograd.grad(linear(inputs).sum(), list(weights.values()))
    return {
        name: (grad * weight).detach().abs().cpu()
        for (name, weight), grad in zip(weights.items(), grads, strict=True)
    }


def synflow_scores(
    model: nn.Module, input_shape: Sequence[int], exclude: Sequence[str] = ("fc",)
) -> Scores:
    """One round of SynFlow scores of ``model`` as it is (its pruned weights already zero)."""
    linear = _linearised(model)
    weights = prunable_parameters(linear, exclude)
    inputs = _ones_input(linear, input_shape)
    return _synflow_round(linear, weights, inputs)


def _ones_input(model: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    device = next(model.parameters()).device
    return torch.ones((1, *input_shape), dtype=torch.float64, device=device)


def synflow_mask(
    model: nn.Module,
    sparsity: float,
    input_shape: Sequence[int],
    exclude: Sequence[str] = ("fc",),
    rounds: int = 100,
) -> Mask:
    """SynFlow's iterative pruning: ``rounds`` rescorings on the exponential schedule.

    Round k (1..rounds) prunes to sparsity 1 - (1 - sparsity)^(k / rounds), rescoring the network
    with the weights removed so far set to zero; pruning a little at a time is what lets SynFlow
    avoid layer collapse (Tanaka et al. 2020). The last round reaches ``sparsity`` exactly.
    """
    if rounds < 1:
        raise ValueError(f"pruning.synflow_rounds must be >= 1, got {rounds}")
    linear = _linearised(model)
    weights = prunable_parameters(linear, exclude)
    if not weights:
        raise ValueError(f"no prunable conv/linear weights left after excluding {list(exclude)}")
    start = {name: weight.detach().clone() for name, weight in weights.items()}
    inputs = _ones_input(linear, input_shape)
    mask: Mask = {name: torch.ones_like(w, dtype=torch.bool).cpu() for name, w in start.items()}
    for round_ in range(1, rounds + 1):
        with torch.no_grad():
            for name, weight in weights.items():
                weight.copy_(start[name] * mask[name].to(weight.device))
        scores = _synflow_round(linear, weights, inputs)
        target = sparsity if round_ == rounds else 1.0 - (1.0 - sparsity) ** (round_ / rounds)
        mask = select_global(scores, target, within=mask)
    return mask
