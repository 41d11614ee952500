"""``reinit``: the magnitude mask, trained from a fresh random initialisation instead of w0.

The mask is magnitude's; what differs is the ticket's start (``reinit_weights``, read by
``training_steps.train_ticket`` when the registry says the method ``reinitialises``).
"""

from __future__ import annotations

import numpy as np
import torch

from lottery_mia.models import ModelSpec, build_model
from lottery_mia.prune import magnitude
from lottery_mia.prune.context import PruneContext
from lottery_mia.pruning import Mask


def mask(context: PruneContext) -> Mask:
    return magnitude.mask(context)


def reinit_seed(seed: int) -> int:
    """Seed of the ``reinit`` control's fresh initialisation: never a run's own seed (or a small one)."""
    return int(np.random.SeedSequence([seed, 0x5EED_4E17]).generate_state(1)[0])


def reinit_weights(spec: ModelSpec, seed: int) -> dict[str, torch.Tensor]:
    """Fresh random start weights for the ``reinit`` control of the run with ``seed``."""
    return build_model(spec, seed=reinit_seed(seed)).state_dict()
