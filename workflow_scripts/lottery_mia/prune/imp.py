"""``imp``: iterative magnitude pruning. Round r removes ``pruning.imp_rate`` of the survivors of
round r - 1, ranked by the round r - 1 ticket's trained weights (round 1: the dense model's)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from lottery_mia.prune.context import PruneContext
from lottery_mia.pruning import Mask, Scores, magnitude_scores, select_global
from lottery_mia.pruning_plan import imp_round, imp_sparsity


def mask(context: PruneContext) -> Mask:
    """Round r prunes the round r - 1 ticket's trained weights inside its mask (round 1: dense)."""
    rate = context.settings["imp_rate"]
    round_ = imp_round(context.sparsity, rate)
    if round_ == 1:
        return imp_mask(context.dense_model(), 1, rate, None, context.exclude)
    trained, previous = context.previous_ticket()
    return imp_mask(trained, round_, rate, previous, context.exclude)


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
