"""``grasp`` (Wang et al. 2020): w ⊙ Hg at w0; GraSP removes the largest -w ⊙ Hg, the lowest score."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional

from lottery_mia.prune.at_init import LossFunction, mean_gradient, require_batches, scoring_copy
from lottery_mia.prune.context import Batch, PruneContext
from lottery_mia.pruning import Mask, Scores, prunable_parameters, select_global

#: GraSP's logit temperature (Wang et al. 2020, and their reference code): softens the softmax so
#: the Hessian-gradient product is not dominated by a few saturated examples.
GRASP_TEMPERATURE = 200.0


def mask(context: PruneContext) -> Mask:
    model, _, dataset = context.initial_model()
    scores = grasp_scores(model, context.score_batches(dataset), context.exclude)
    return select_global(scores, context.sparsity)


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
    require_batches(batches, "grasp")
    scored = scoring_copy(model).train()
    named = prunable_parameters(scored, exclude)
    weights = list(named.values())
    fixed = [grad.detach() for grad in mean_gradient(scored, weights, batches, loss, temperature)]
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
