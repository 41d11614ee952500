"""Stage 2, the mask of one ticket, with plain arguments instead of ``snakemake``.

``prune`` hands the job's files to the method's ``mask(context)`` (``lottery_mia.prune``: the
registry says what each method reads: the trained dense model, the previous IMP round's ticket, or
only w0) and writes the mask atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch

from lottery_mia import prune as methods
from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.prune.context import PruneContext

log = logging.getLogger(__name__)


def prune(
    method: str,
    sparsity: float,
    settings: Mapping[str, Any],
    key: Mapping[str, Any],
    mask_path: PathLike,
    dense_model_path: PathLike | None = None,
    dense_record_path: PathLike | None = None,
    init_path: PathLike | None = None,
    previous_model_path: PathLike | None = None,
    previous_mask_path: PathLike | None = None,
) -> None:
    """Stage 2: the mask of the ``method`` ticket at ``sparsity``, exactly round(sparsity * N)
    prunable weights removed."""
    implementation = methods.get(method).implementation()
    context = PruneContext(
        sparsity, settings, key, dense_model_path, dense_record_path, init_path,
        previous_model_path, previous_mask_path,
    )  # fmt: skip
    mask = implementation.mask(context)
    kept = sum(int(layer.sum()) for layer in mask.values())
    total = sum(layer.numel() for layer in mask.values())
    log.info("%s mask keeps %d of %d prunable weights (sparsity %.6f)", method, kept, total,
             1 - kept / total)  # fmt: skip
    with atomic_path(mask_path) as tmp:
        torch.save(mask, tmp)
