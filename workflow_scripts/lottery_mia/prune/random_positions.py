"""``random``: the magnitude mask's per-layer counts at random positions, seeded by the run.

The control for "is it the mask or just its per-layer sparsity" (``pruning.random_mask_like``).
"""

from __future__ import annotations

from lottery_mia.prune import magnitude
from lottery_mia.prune.context import PruneContext
from lottery_mia.pruning import Mask, random_mask_like


def mask(context: PruneContext) -> Mask:
    return random_mask_like(magnitude.mask(context), seed=context.seed)
