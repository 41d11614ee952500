"""Pruning methods: a torch-free registry (``registry``) and one module per method.

Every method module exposes ``mask(context: PruneContext) -> Mask`` (``context``): it reads what
its registry entry says it needs (the trained dense model, the previous IMP round's ticket, or w0
and training batches) and ends in the one exact-count selection, ``pruning.select_global``.

This package's ``__init__`` and ``registry`` import no torch: the config gate and the DAG read the
registry at every Snakefile parse. The method modules are imported on first use
(``PruningMethod.implementation``).
"""

from lottery_mia.prune.registry import METHODS, PruningMethod, get

__all__ = ["METHODS", "PruningMethod", "get"]
