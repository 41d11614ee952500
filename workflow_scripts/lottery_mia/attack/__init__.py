"""Membership-inference attacks: a torch- and pandas-free registry and one module per family.

``registry`` (standard library only, read by the config gate and the DAG) names every attack, its
family, the settings it reads and whether it needs reference models; ``base`` holds what every
family shares (settings, the balanced row selection, ``FittedAttack``); ``classifier``,
``metric``, ``shadow`` and ``reference_scores`` are the families; ``per_model`` fits and scores
the attacks trained on one model's outputs.
"""

from lottery_mia.attack.registry import (
    ATTACK_NAMES,
    ATTACKS,
    PER_MODEL_ATTACKS,
    REFERENCE_ATTACKS,
    SCORE_REFERENCE_ATTACKS,
    AttackSpec,
    get,
)

__all__ = [
    "ATTACKS",
    "ATTACK_NAMES",
    "PER_MODEL_ATTACKS",
    "REFERENCE_ATTACKS",
    "SCORE_REFERENCE_ATTACKS",
    "AttackSpec",
    "get",
]
