"""Pruning methods behind one interface: each scores the prunable weights, ``select_global`` cuts.

Scores are "higher = more worth keeping"; the lowest ``round(sparsity * N)`` go (``pruning.py``).

- ``magnitude``: |w| of the trained dense weights (Frankle & Carbin 2019; the study's Algorithm 1).
- ``imp``: iterative magnitude pruning; round r removes ``rate`` of the survivors of round r - 1,
  ranked by the round r - 1 ticket's trained weights (``imp_mask``).
- ``random``: the magnitude mask's per-layer counts at random positions (``random_mask_like``).
- ``reinit``: the magnitude mask, trained from a fresh initialisation (``reinit_weights``).
- ``snip`` (Lee et al. 2019): |g ⊙ w|, the loss gradient's sensitivity to each connection.
- ``grasp`` (Wang et al. 2020): w ⊙ Hg; GraSP removes the largest -w ⊙ Hg, i.e. the lowest score.
- ``synflow`` (Tanaka et al. 2020): |w ⊙ ∂R/∂w| of the linearised network on an all-ones input,
  data-free and iterative (``synflow_mask``).

The pruning-at-initialisation methods (snip, grasp, synflow) score a copy of the model at w0 and
never change the caller's model. They treat zero-initialised BatchNorm scales
(``zero_init_residual``) as ones: a residual branch gated off by a zero scale has zero gradient and
zero synaptic flow everywhere, so every weight in it would score 0 and whole layers would be
emptied before any other weight went.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from lottery_mia.models import ModelSpec, build_model
from lottery_mia.pruning import Mask, Scores, magnitude_scores, prunable_parameters, select_global
from lottery_mia.pruning_plan import imp_sparsity

Batch = tuple[torch.Tensor, torch.Tensor]
LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: GraSP's logit temperature (Wang et al. 2020, and their reference code): softens the softmax so
#: the Hessian-gradient product is not dominated by a few saturated examples.
GRASP_TEMPERATURE = 200.0


# --- Iterative magnitude pruning -------------------------------------------------------------


def imp_mask(
    trained: nn.Module,
    round_: int,
    rate: float,
    previous: Mask | None,
    exclude: Sequence[str] = ("fc",),
) -> Mask:
    """Round ``round_`` of IMP: prune the round - 1 ticket's smallest surviving trained weights.

    ``trained`` holds the round - 1 ticket's trained weights (the dense model for round 1, where
    ``previous`` is None). The result is a subset of ``previous`` with exactly
    ``round(N · (1 - (1 - rate)^round_))`` weights removed.
    """
    if round_ < 1:
        raise ValueError(f"IMP rounds start at 1, got {round_}")
    if (previous is None) != (round_ == 1):
        raise ValueError("IMP round 1 starts from the dense model; later rounds need a mask")
    scores = magnitude_scores(trained, exclude)
    if previous is not None:
        _check_previous_round(previous, scores, imp_sparsity(rate, round_ - 1))
    return select_global(scores, imp_sparsity(rate, round_), within=previous)


def _check_previous_round(previous: Mask, scores: Scores, sparsity: float) -> None:
    if set(previous) != set(scores):
        raise ValueError(
            f"the previous IMP mask covers {sorted(previous)}, the prunable weights are {sorted(scores)}"
        )
    total = sum(layer.numel() for layer in previous.values())
    removed = sum(int((~layer).sum()) for layer in previous.values())
    if removed != round(sparsity * total):
        raise ValueError(
            f"the previous IMP mask removes {removed} of {total} weights; round r - 1 removes "
            f"{round(sparsity * total)} (sparsity {sparsity:.6g})"
        )


# --- Controls ----------------------------------------------------------------------------------


def reinit_seed(seed: int) -> int:
    """Seed of the ``reinit`` control's fresh initialisation: never a run's own seed (or a small one)."""
    return int(np.random.SeedSequence([seed, 0x5EED_4E17]).generate_state(1)[0])


def reinit_weights(spec: ModelSpec, seed: int) -> dict[str, torch.Tensor]:
    """Fresh random start weights for the ``reinit`` control of the run with ``seed``."""
    return build_model(spec, seed=reinit_seed(seed)).state_dict()


# --- Pruning at initialisation -----------------------------------------------------------------


def _scoring_copy(model: nn.Module, dtype: torch.dtype | None = None) -> nn.Module:
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


def _mean_gradient(
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


def _require_batches(batches: Sequence[Batch], method: str) -> None:
    if not batches:
        raise ValueError(f"{method} needs at least one batch of training data")


def snip_scores(
    model: nn.Module,
    batches: Sequence[Batch],
    exclude: Sequence[str] = ("fc",),
    loss: LossFunction = functional.cross_entropy,
) -> Scores:
    """SNIP's connection sensitivity |g ⊙ w|, g the mean loss gradient over ``batches`` at w0.

    BatchNorm runs in training mode (batch statistics), as it does when the ticket trains.
    """
    _require_batches(batches, "snip")
    scored = _scoring_copy(model).train()
    weights = prunable_parameters(scored, exclude)
    grads = _mean_gradient(scored, list(weights.values()), batches, loss)
    return {
        name: (grad * weight).detach().abs().cpu()
        for (name, weight), grad in zip(weights.items(), grads, strict=True)
    }


def grasp_scores(
    model: nn.Module,
    batches: Sequence[Batch],
    exclude: Sequence[str] = ("fc",),
    loss: LossFunction = functional.cross_entropy,
    temperature: float = GRASP_TEMPERATURE,
) -> Scores:
    """GraSP's w ⊙ Hg at w0: g the mean gradient of the loss on logits / ``temperature``, H its Hessian.

    GraSP removes the weights whose removal reduces the gradient flow least: the largest
    -w ⊙ Hg, which are the lowest of these scores. Hg is the gradient of gᵀ∇L (g held fixed).
    """
    _require_batches(batches, "grasp")
    scored = _scoring_copy(model).train()
    named = prunable_parameters(scored, exclude)
    weights = list(named.values())
    fixed = [grad.detach() for grad in _mean_gradient(scored, weights, batches, loss, temperature)]
    hessian_grad = [torch.zeros_like(weight) for weight in weights]
    for inputs, labels in batches:
        grads = torch.autograd.grad(
            loss(scored(inputs) / temperature, labels), weights, create_graph=True
        )
        flow = sum((grad * g).sum() for grad, g in zip(grads, fixed, strict=True))
        for accumulated, part in zip(hessian_grad, torch.autograd.grad(flow, weights), strict=True):
            accumulated += part
    return {
        name: (weight * part / len(batches)).detach().cpu()
        for (name, weight), part in zip(named.items(), hessian_grad, strict=True)
    }


def _linearised(model: nn.Module) -> nn.Module:
    """SynFlow's positive network: a float64 copy, every floating parameter and buffer made |·|.

    With non-negative weights and an all-ones input every ReLU passes its input, so the output
    sums the products of |w| along all paths. BatchNorm runs in eval mode (running statistics).
    """
    linear = _scoring_copy(model, torch.float64).eval()
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
