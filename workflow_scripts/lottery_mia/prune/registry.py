"""The pruning methods by name: what each needs, how its ticket starts, which settings it reads.

Only the standard library: the config gate and the DAG (``model_inputs``, ``rule_params``) read it
at every Snakefile parse, which must not pay for importing torch. Each entry names the module that
owns the method's behaviour (``lottery_mia.prune.<module>``, imported on first use); adding a
method is a module with ``mask(context) -> Mask`` and one line here (and its name in the schema).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class PruningMethod:
    """What the workflow needs to know about a method to wire its jobs, and where it lives."""

    name: str
    #: The module of ``mask(context)``: ``lottery_mia.prune.<module>``.
    module: str
    #: The mask is derived from the trained dense model (else it is computed at w0, untrained).
    needs_dense: bool
    #: The ticket starts from the rewound weights m * w_k (``pruning.rewind``), else from w0.
    rewinds: bool
    #: The ticket starts from a fresh random initialisation instead of w0.
    reinitialises: bool = False
    #: Round r's mask depends on the round r - 1 ticket (a chain of jobs).
    chained: bool = False
    #: Keys under ``pruning`` the mask depends on (besides ``exclude``, which every method reads).
    settings: tuple[str, ...] = ()
    #: Keys of the dataset's training settings the mask depends on (e.g. the batch size).
    training_settings: tuple[str, ...] = ()

    @property
    def needs_init(self) -> bool:
        """The mask is computed from w0 (and the model and data settings that shape it)."""
        return not self.needs_dense

    def implementation(self) -> ModuleType:
        """The method's module (imports torch): its ``mask(context) -> Mask``."""
        return importlib.import_module(f"lottery_mia.prune.{self.module}")


METHODS: dict[str, PruningMethod] = {
    method.name: method
    for method in (
        PruningMethod("magnitude", "magnitude", needs_dense=True, rewinds=True),
        PruningMethod(
            "imp", "imp", needs_dense=True, rewinds=True, chained=True, settings=("imp_rate",)
        ),
        PruningMethod("random", "random_positions", needs_dense=True, rewinds=True),
        PruningMethod("reinit", "reinit", needs_dense=True, rewinds=False, reinitialises=True),
        PruningMethod(
            "snip",
            "snip",
            needs_dense=False,
            rewinds=False,
            settings=("score_batches",),
            training_settings=("batch_size",),
        ),
        PruningMethod(
            "grasp",
            "grasp",
            needs_dense=False,
            rewinds=False,
            settings=("score_batches",),
            training_settings=("batch_size",),
        ),
        PruningMethod(
            "synflow", "synflow", needs_dense=False, rewinds=False, settings=("synflow_rounds",)
        ),
    )
}


def get(name: str) -> PruningMethod:
    """The method called ``name``; an error naming the known ones otherwise."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown pruning method {name!r}; expected one of {sorted(METHODS)}"
        ) from None
