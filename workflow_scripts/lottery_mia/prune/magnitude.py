"""``magnitude``: the |w| of the trained dense weights, one shot (Frankle & Carbin 2019; the study's
Algorithm 1): the ``round(sparsity * N)`` smallest go (``pruning.global_magnitude_mask``)."""

from __future__ import annotations

from lottery_mia.prune.context import PruneContext
from lottery_mia.pruning import Mask, global_magnitude_mask


def mask(context: PruneContext) -> Mask:
    return global_magnitude_mask(context.dense_model(), context.sparsity, context.exclude)
