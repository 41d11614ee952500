"""The membership-inference attacks by name: family, the settings each reads, references or not.

Only the standard library: the config gate and the DAG (``grid``, ``rule_params``) read it at every
Snakefile parse. Each family's behaviour lives in one module (``lottery_mia.attack.<module>``,
imported on first use). Adding an attack of an existing family is one line here (and its name in
the schema's ``attack_name`` enum); a new family is a module too.

Families:

- ``classifier`` (``classifier``): a scikit-learn classifier trained on the target's own outputs
  (the paper's attacks); ``fit(name, train_rows, settings) -> FittedAttack``.
- ``metric`` (``metric``): a threshold on one signal, global or per class (Song & Mittal 2021;
  the loss threshold of Yeom et al. 2018); same ``fit``.
- ``shadow`` (``shadow``): Shokri's attack, an MLP trained on the reference ("shadow") models'
  outputs; needs references.
- ``reference_scores`` (``reference_scores``): LiRA and RMIA, scored from the target's and the
  references' per-row statistics; needs references and fits nothing, so its scores do not
  depend on the sample count.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

#: The keys of the config's ``attack`` section every attack reads (rows, features, intervals).
SHARED_SETTINGS: tuple[str, ...] = (
    "eval_size", "features", "top_k", "seed", "bootstrap_resamples", "bootstrap_seed",
)  # fmt: skip
#: Family -> the module of its behaviour, ``lottery_mia.attack.<module>``.
FAMILY_MODULES: dict[str, str] = {
    "classifier": "classifier",
    "metric": "metric",
    "shadow": "shadow",
    "reference_scores": "reference_scores",
}


@dataclass(frozen=True)
class AttackSpec:
    """What the workflow needs to know about an attack to wire its jobs, and where it lives."""

    name: str
    family: str
    #: Keys of the config's ``attack`` section it reads besides ``SHARED_SETTINGS``.
    settings: tuple[str, ...] = ()
    #: It reads the K reference models (their outputs or their statistics).
    needs_references: bool = False

    @property
    def reads_reference_statistics(self) -> bool:
        """Scored from the reference statistics (LiRA, RMIA): every unused row, whatever n."""
        return self.family == "reference_scores"

    @property
    def scores_depend_on_n(self) -> bool:
        """Whether its membership scores change with its sample count n. A global threshold
        scores by its signal alone (n only moves the threshold, so ``predicted``), and LiRA and
        RMIA fit nothing on the target's rows: their AUC and TPR are the same at every n."""
        global_threshold = self.family == "metric" and not self.name.endswith("_per_class")
        return not (self.reads_reference_statistics or global_threshold)

    @property
    def module(self) -> str:
        return FAMILY_MODULES[self.family]

    def implementation(self) -> ModuleType:
        """The family's module (imports numpy, pandas, scikit-learn)."""
        return importlib.import_module(f"lottery_mia.attack.{self.module}")


def _classifier(name: str) -> AttackSpec:
    return AttackSpec(name, "classifier", settings=(name,))


def _metric(signal: str) -> tuple[AttackSpec, AttackSpec]:
    return (
        AttackSpec(signal, "metric"),
        AttackSpec(f"{signal}_per_class", "metric", settings=("min_rows_per_class",)),
    )


#: Keys of the attack section that say which reference models exist (read by every reference
#: attack; the reference models' own jobs read them too).
_REFERENCES = ("reference_models", "reference_seed", "reference_sparsities", "reference_archs")

#: In the schema's order: learned on one model's outputs, then the attacks that read references.
ATTACKS: dict[str, AttackSpec] = {
    spec.name: spec
    for spec in (
        _classifier("mlp"),
        _classifier("svm"),
        _classifier("random_forest"),
        *_metric("loss_threshold"),
        *_metric("confidence"),
        *_metric("entropy"),
        *_metric("modified_entropy"),
        AttackSpec("shadow_mlp", "shadow", settings=("mlp", *_REFERENCES), needs_references=True),
        *(
            AttackSpec(
                name, "reference_scores", settings=(*_REFERENCES, *own), needs_references=True
            )
            for name, own in (
                ("lira_online", ("lira",)),
                ("lira_offline", ("lira", "decision_level")),
                ("rmia", ("rmia", "decision_level")),
                ("rmia_offline", ("rmia", "decision_level")),
            )
        ),
    )
}

#: Every attack, in the schema's order.
ATTACK_NAMES: tuple[str, ...] = tuple(ATTACKS)
#: Attacks trained and scored on one model's outputs (no reference model).
PER_MODEL_ATTACKS: tuple[str, ...] = tuple(n for n, a in ATTACKS.items() if not a.needs_references)
#: Attacks that read reference models (LiRA, RMIA: the scores; shadow_mlp: its training data).
REFERENCE_ATTACKS: tuple[str, ...] = tuple(n for n, a in ATTACKS.items() if a.needs_references)
#: Reference attacks scored from the reference statistics.
SCORE_REFERENCE_ATTACKS: tuple[str, ...] = tuple(
    n for n, a in ATTACKS.items() if a.reads_reference_statistics
)


def get(name: str) -> AttackSpec:
    """The attack called ``name``; an error naming the known ones otherwise."""
    try:
        return ATTACKS[name]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; expected one of {ATTACK_NAMES}") from None


def settings_read_by(names: tuple[str, ...]) -> frozenset[str]:
    """The keys of the config's ``attack`` section that the attacks ``names`` read (shared ones
    included): a job's params hold only these, so tuning another attack reruns none of its."""
    return frozenset(SHARED_SETTINGS).union(*(ATTACKS[name].settings for name in names))


def family_names(family: str) -> tuple[str, ...]:
    """The attacks of one family, in the registry's order."""
    return tuple(name for name, spec in ATTACKS.items() if spec.family == family)


def compared_sample_counts(attack: str, sample_counts: list[int]) -> list[int]:
    """The sample counts at which Table 1 compares ``attack``: every n, or only the largest for an
    attack whose scores do not depend on n, so that Holm's adjustment counts each test once."""
    counts = sorted(sample_counts)
    return counts if get(attack).scores_depend_on_n else counts[-1:]
