"""LiRA and RMIA on one target model: which rows they score, and their scores and decisions.

These attacks fit nothing on the target's rows, so they score every exported row that no attack
trains on: the fixed evaluation rows plus the rows beyond the largest sample count's training
rows (``reference_attack_rows``). RMIA's population rows z are the target's non-members among the
attack-training rows of the largest sample count: data the attacker holds, known to be outside
the target's training set, and never scored. The scores do not depend on the sample count n.

Attacks (``REFERENCE_ATTACK_NAMES``):
- ``lira_online``, ``lira_offline``: ``lira.py`` on φ; decisions LLR > 0 and p-value < level.
- ``rmia`` (online: all references), ``rmia_offline`` (OUT references, correction ``a``):
  ``rmia.py`` on log p_y; decision p-value < level.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.atomic import PathLike, atomic_path
from lottery_mia.attack.base import balanced_rows
from lottery_mia.attack.registry import SCORE_REFERENCE_ATTACKS
from lottery_mia.lira import VARIANCE_KINDS, Variance, lira_offline, lira_online
from lottery_mia.lira import offline_decision as lira_offline_decision
from lottery_mia.lira import online_decision as lira_online_decision
from lottery_mia.membership_signals import logit_scaled_confidence, membership_signal
from lottery_mia.outputs_table import FLIPPED_COLUMN, logits_matrix
from lottery_mia.reference_keep import (
    KEEP_ID_COLUMNS,
    MIN_REFERENCE_MODELS,
    keep_from_frame,
    per_row_variance_problem,
    reference_count_problem,
)
from lottery_mia.reference_outputs import reference_statistic_matrices
from lottery_mia.rmia import rmia_decision, rmia_scores, tune_offline_a

REFERENCE_ATTACK_NAMES: tuple[str, ...] = SCORE_REFERENCE_ATTACKS
#: Below this many references LiRA pools its variance over rows (Carlini et al. 2022).
GLOBAL_VARIANCE_BELOW = 64


@dataclass(frozen=True)
class ReferenceAttackSettings:
    """Settings of the reference-model attacks (the config's ``attack.lira`` / ``attack.rmia``).

    ``variance``: ``auto`` = global below 64 references, per-row from 64 on; ``per_row`` needs
    ``PER_ROW_MIN_REFERENCES``. ``a``: a number in
    [0, 1] or ``auto`` (tuned on the references, reference 0 as the pseudo-target, its complement
    left out: ``rmia.tuning_references``).
    ``decision_level``: the p-value below which the offline LiRA and RMIA say "member".
    """

    variance: str = "auto"
    a: float | str = "auto"
    gamma: float = 1.0
    decision_level: float = 0.5

    def __post_init__(self) -> None:
        if self.variance not in ("auto", *VARIANCE_KINDS):
            raise ValueError(
                f"attack.lira.variance is {self.variance!r}, expected auto, global or per_row"
            )
        if self.a != "auto" and not (
            isinstance(self.a, int | float) and not isinstance(self.a, bool) and 0 <= self.a <= 1
        ):
            raise ValueError(f"attack.rmia.a is {self.a!r}, expected auto or a number in [0, 1]")
        if (
            isinstance(self.gamma, bool)
            or not isinstance(self.gamma, int | float)
            or self.gamma <= 0
        ):
            raise ValueError(f"attack.rmia.gamma is {self.gamma!r}, expected a positive number")
        if not 0 < self.decision_level < 1:
            raise ValueError(
                f"attack.decision_level is {self.decision_level!r}, expected a number in (0, 1)"
            )

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ReferenceAttackSettings:
        lira = section.get("lira") or {}
        rmia = section.get("rmia") or {}
        return cls(
            variance=lira.get("variance", cls.variance),
            a=rmia.get("a", cls.a),
            gamma=rmia.get("gamma", cls.gamma),
            decision_level=section.get("decision_level", cls.decision_level),
        )

    def lira_variance(self, n_references: int) -> Variance:
        problem = per_row_variance_problem(self.variance, n_references)
        if problem:
            raise ValueError(problem)
        if self.variance != "auto":
            return self.variance  # type: ignore[return-value]
        return "global" if n_references < GLOBAL_VARIANCE_BELOW else "per_row"


def reference_attack_rows(outputs: pd.DataFrame, largest_n: int) -> tuple[np.ndarray, np.ndarray]:
    """(scored, population) positions in ``outputs``: rows no attack trains on, and RMIA's z.

    Attack-training rows of sample count n are the first n/2 members and n/2 non-members outside
    the evaluation set (``base.balanced_rows``), so the largest n covers all of them.
    """
    if largest_n <= 0 or largest_n % 2:
        raise ValueError(f"largest sample count is {largest_n}, expected a positive even number")
    member = outputs["member"].to_numpy(dtype=bool)
    outside_eval = ~outputs["attack_eval"].to_numpy(dtype=bool)
    half = largest_n // 2
    trained = balanced_rows(member, outside_eval, half)
    trained_non_members = trained & ~member
    if trained_non_members.sum() < half or (trained & member).sum() < half:
        raise ValueError(f"the outputs hold fewer than {half} attack-training rows per class")
    return np.flatnonzero(~trained), np.flatnonzero(trained_non_members)


@dataclass(frozen=True)
class ReferenceStatistics:
    """Per-row statistics of the target and of the K references, over all population rows."""

    target_phi: np.ndarray  # (rows,) or (rows, Q)
    target_log_p: np.ndarray  # (rows,)
    reference_phi: np.ndarray  # (K, rows) or (K, rows, Q)
    reference_log_p: np.ndarray  # (K, rows)
    keep: np.ndarray  # (K, rows) bool


def write_reference_statistics(statistics: ReferenceStatistics, path: PathLike) -> None:
    """Save the statistics (an ``.npz`` of plain arrays), atomically: one job per target writes
    them, and the attack job of every sample count reads them instead of the K references."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(
            handle, **{field.name: getattr(statistics, field.name) for field in fields(statistics)}
        )


def read_reference_statistics(path: PathLike, keep: np.ndarray) -> ReferenceStatistics:
    """The statistics ``write_reference_statistics`` saved (never unpickling anything), checked
    to come from the references of ``keep``: the rows each one trained on."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            statistics = ReferenceStatistics(
                **{f.name: stored[f.name] for f in fields(ReferenceStatistics)}
            )
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a reference statistics file ({err})") from err
    if not np.array_equal(statistics.keep, keep):
        raise ValueError(
            f"{path}: made with another keep matrix ({statistics.keep.shape[0]} references) "
            f"than {keep.shape[0]} references of reference_keep.parquet; rerun reference_statistics"
        )
    return statistics


@dataclass(frozen=True)
class ReferenceAttackResults:
    """Each attack's (score, predicted) on the scored rows, and the settings actually used."""

    scores: dict[str, tuple[np.ndarray, np.ndarray]]
    lira_variance: Variance
    rmia_a: float


def score_reference_attacks(
    statistics: ReferenceStatistics,
    scored: np.ndarray,
    population: np.ndarray,
    settings: ReferenceAttackSettings,
) -> ReferenceAttackResults:
    """Every reference attack's (score, predicted) on the ``scored`` rows, in their order."""
    n_references = statistics.keep.shape[0]
    if reference_count_problem(n_references):
        raise ValueError(
            f"{n_references} reference models; LiRA needs at least {MIN_REFERENCE_MODELS} (2 IN "
            "and 2 OUT per row) to estimate a variance"
        )
    variance = settings.lira_variance(n_references)
    phi_args = (statistics.target_phi, statistics.reference_phi, statistics.keep, variance)
    online = lira_online(*phi_args)[scored]
    offline = lira_offline(*phi_args)[scored]
    a = settings.a
    if a == "auto":
        a = tune_offline_a(
            statistics.reference_log_p, statistics.keep, scored, population, settings.gamma
        )
    rmia_args = (
        statistics.target_log_p, statistics.reference_log_p, statistics.keep, scored, population
    )  # fmt: skip
    rmia_online = rmia_scores(*rmia_args, mode="online", gamma=settings.gamma)
    rmia_offline = rmia_scores(*rmia_args, mode="offline", a=float(a), gamma=settings.gamma)
    level = settings.decision_level
    scores = {
        "lira_online": (online, lira_online_decision(online)),
        "lira_offline": (offline, lira_offline_decision(offline, level)),
        "rmia": (rmia_online, rmia_decision(rmia_online, level)),
        "rmia_offline": (rmia_offline, rmia_decision(rmia_offline, level)),
    }
    return ReferenceAttackResults(scores=scores, lira_variance=variance, rmia_a=float(a))


def keep_for_outputs(keep_frame: pd.DataFrame, outputs: pd.DataFrame, source: str) -> np.ndarray:
    """The (K, rows) keep matrix, checked to list the outputs' rows in the outputs' order."""
    keep = keep_from_frame(keep_frame, source)
    for column in KEEP_ID_COLUMNS:
        if not np.array_equal(keep_frame[column].to_numpy(), outputs[column].to_numpy()):
            raise ValueError(
                f"{source}: column {column!r} does not list the outputs' rows in their order; "
                "rerun the reference_keep rule for this dataset"
            )
    return keep


def load_reference_statistics(
    target: pd.DataFrame, reference_paths: Sequence[PathLike], keep: np.ndarray
) -> ReferenceStatistics:
    """φ and log p_y of the target (from its frame) and of each reference (streamed, one file at
    a time, each checked to be queried on the target's rows with ``member`` = its keep column).

    When the target's frame has ``logits_flipped`` (``outputs.query_flips``), φ gains a query
    axis (identity, mirror image), read from every reference too: LiRA averages over both
    queries. RMIA uses the identity query (our definition has one query)."""
    labels = target["label"].to_numpy()
    queries = ("logits", FLIPPED_COLUMN) if FLIPPED_COLUMN in target.columns else ("logits",)
    population = target[["sample_id", "pool", "label"]]
    matrices = reference_statistic_matrices(
        reference_paths, ("logit_scaled", "loss"), population, keep, query_columns=queries
    )
    target_phi = np.stack(
        [logit_scaled_confidence(logits_matrix(target, name), labels) for name in queries],
        axis=-1,
    )
    reference_log_p = matrices["loss"]
    return ReferenceStatistics(
        target_phi=target_phi[:, 0] if len(queries) == 1 else target_phi,
        target_log_p=membership_signal(logits_matrix(target), labels, "loss"),
        reference_phi=matrices["logit_scaled"],
        reference_log_p=reference_log_p[..., 0] if len(queries) > 1 else reference_log_p,
        keep=keep,
    )
