"""``snip`` (Lee et al. 2019): |g ⊙ w| at w0, the loss gradient's sensitivity to each connection."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn
from torch.nn import functional

from lottery_mia.prune.at_init import LossFunction, mean_gradient, require_batches, scoring_copy
from lottery_mia.prune.context import Batch, PruneContext
from lottery_mia.pruning import Mask, Scores, prunable_parameters, select_global


def mask(context: PruneContext) -> Mask:
    model, _, dataset = context.initial_model()
    scores = snip_scores(model, context.score_batches(dataset), context.exclude)
    return select_global(scores, context.sparsity)


def snip_scores(
    model: nn.Module,
    batches: Sequence[Batch],
    exclude: Sequence[str] = ("fc",),
    loss: LossFunction = functional.cross_entropy,
) -> Scores:
    """SNIP's connection sensitivity |g ⊙ w|, g the mean loss gradient over ``batches`` at w0.

    BatchNorm runs in training mode (batch statistics), as it does when the ticket trains.
    """
    require_batches(batches, "snip")
    scored = scoring_copy(model).train()
    weights = prunable_parameters(scored, exclude)
    grads = mean_gradient(scored, list(weights.values()), batches, loss)
    return {
        name: (grad * weight).detach().abs().cpu()
        for (name, weight), grad in zip(weights.items(), grads, strict=True)
    }
