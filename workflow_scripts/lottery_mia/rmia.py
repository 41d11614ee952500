"""RMIA, the relative membership-inference attack of Zarifzadeh, Liu, Cheng & Shokri,
"Low-Cost High-Power Membership Inference Attacks" (ICML 2024).

The equations implemented (the paper's notation; θ is the target model, x the row scored, z a
population row, y the true label):

    Pr(x | θ)     = p_y(x) under θ                       (the true-class probability)
    Pr(x)         = mean over references θ' of Pr(x | θ')  online: all K references
                  ≈ ½ ((1 + a) · Pr_OUT(x) + (1 - a))      offline: OUT references only, with
                                                           the linear correction a ∈ [0, 1]
    LR_θ(x, z)    = (Pr(x | θ) / Pr(x)) / (Pr(z | θ) / Pr(z))
    Score_MIA(x)  = Pr_{z ~ population}( LR_θ(x, z) ≥ gamma )

Pr(z) is computed exactly like Pr(x) (same mode, same a), from the references' outputs on z.
Everything is in log space (log p_y from the logits), so probabilities that underflow in float32
never produce 0 / 0. The population rows z must be rows the target did not train on, and never
the rows being scored (checked). ``a`` can be tuned on the references themselves
(``tune_offline_a``): one reference plays the target, the others except its complement are its
references, and the a with the best AUC against that reference's own keep column wins, as the
paper suggests. The complement (the reference trained on exactly the pseudo-target's OUT half)
is left out because it is OUT for every row the pseudo-target trained on and IN for every other:
with it, a row's OUT count would reveal the label being predicted.

Natural decision: Score_MIA(x) counts the population rows that x beats; with non-member z it is
one minus an empirical p-value of "x is a non-member". We decide member iff that p-value is below
``level`` (default 0.5: x's ratio beats more than half of the population).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score

RmiaMode = Literal["online", "offline"]
RMIA_MODES: tuple[RmiaMode, ...] = ("online", "offline")
#: Candidate values of the offline correction ``a`` tried by ``tune_offline_a``.
A_GRID: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


def _check_inputs(target_log_p: np.ndarray, reference_log_p: np.ndarray, keep: np.ndarray) -> None:
    if reference_log_p.ndim != 2 or target_log_p.shape != reference_log_p.shape[1:]:
        raise ValueError(
            f"target log p has shape {target_log_p.shape} and reference log p "
            f"{reference_log_p.shape}; expected (rows,) and (K, rows)"
        )
    if keep.dtype != np.bool_ or keep.shape != reference_log_p.shape:
        raise ValueError(
            f"keep has shape {keep.shape} and dtype {keep.dtype}; expected bool of shape "
            f"{reference_log_p.shape} (references x rows)"
        )
    for name, values in (("target", target_log_p), ("references", reference_log_p)):
        if not np.isfinite(values).all() or (values > 0).any():
            raise ValueError(f"{name} log-probabilities must be finite and <= 0")


def log_marginal(
    reference_log_p: np.ndarray, keep: np.ndarray, mode: RmiaMode, a: float
) -> np.ndarray:
    """log Pr(x) per row: the references' mean p_y (online) or the corrected OUT mean (offline).

    IN entries are never read in offline mode (they are replaced by -inf before the sum).
    """
    if mode not in RMIA_MODES:
        raise ValueError(f"RMIA mode is {mode!r}, expected one of {RMIA_MODES}")
    if mode == "online":
        return logsumexp(reference_log_p, axis=0) - np.log(reference_log_p.shape[0])
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"RMIA offline a is {a}, expected a number in [0, 1]")
    out = ~keep
    n_out = out.sum(axis=0)
    if n_out.min() < 1:
        raise ValueError("offline RMIA needs at least one OUT reference for every row")
    log_out_mean = logsumexp(np.where(out, reference_log_p, -np.inf), axis=0) - np.log(n_out)
    with np.errstate(divide="ignore"):  # a = 1 makes the constant term log(0) = -inf, as meant
        constant = np.log((1.0 - a) / 2.0)
    return np.logaddexp(np.log((1.0 + a) / 2.0) + log_out_mean, constant)


def _row_indices(rows: np.ndarray, n_rows: int, name: str) -> np.ndarray:
    indices = np.asarray(rows)
    if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D array of row indices")
    if indices.min() < 0 or indices.max() >= n_rows or np.unique(indices).size != indices.size:
        raise ValueError(f"{name} must be distinct row indices in 0..{n_rows - 1}")
    return indices


def rmia_scores(
    target_log_p: np.ndarray,
    reference_log_p: np.ndarray,
    keep: np.ndarray,
    scored_rows: np.ndarray,
    population_rows: np.ndarray,
    mode: RmiaMode = "offline",
    a: float = 0.3,
    gamma: float = 1.0,
) -> np.ndarray:
    """Score_MIA of each scored row (higher = member), in the order of ``scored_rows``.

    ``target_log_p`` (rows,) and ``reference_log_p`` (K, rows) hold log p_y of every population
    row; ``keep`` (K, rows) says which references trained on which row. The score is the fraction
    of ``population_rows`` z with LR(x, z) ≥ ``gamma``, so it lies in [0, 1] in steps of 1/|z|.
    """
    target = np.asarray(target_log_p, dtype=np.float64)
    references = np.asarray(reference_log_p, dtype=np.float64)
    keep_values = np.asarray(keep)
    _check_inputs(target, references, keep_values)
    scored = _row_indices(scored_rows, target.size, "scored_rows")
    population = _row_indices(population_rows, target.size, "population_rows")
    if np.intersect1d(scored, population).size:
        raise ValueError("population rows z must never be rows being scored")
    if not gamma > 0:
        raise ValueError(f"RMIA gamma is {gamma}, expected a positive number")
    log_ratio = target - log_marginal(references, keep_values, mode, a)
    population_ratio = np.sort(log_ratio[population])
    # LR(x, z) >= gamma  <=>  log ratio(z) <= log ratio(x) - log gamma.
    beaten = np.searchsorted(population_ratio, log_ratio[scored] - np.log(gamma), side="right")
    return beaten / population.size


def rmia_decision(scores: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Member iff the empirical p-value 1 - Score_MIA is below ``level``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level is {level}, expected a probability in (0, 1)")
    return np.asarray(scores) > 1.0 - level


def tuning_references(keep: np.ndarray, pseudo_target: int) -> np.ndarray:
    """Indices of the references that serve reference ``pseudo_target`` when it plays the target:
    every other one except its complement (a keep column equal to the pseudo-target's negation).
    """
    keep_values = np.asarray(keep)
    n_references = keep_values.shape[0]
    if not 0 <= pseudo_target < n_references:
        raise ValueError(f"pseudo-target {pseudo_target} is not one of {n_references} references")
    complement = (keep_values == ~keep_values[pseudo_target]).all(axis=1)
    chosen = ~complement & (np.arange(n_references) != pseudo_target)
    if not chosen.any():
        raise ValueError(
            f"tuning a needs references besides the pseudo-target and its complement; got "
            f"{n_references} (expected >= 4)"
        )
    return np.flatnonzero(chosen)


def tune_offline_a(
    reference_log_p: np.ndarray,
    keep: np.ndarray,
    scored_rows: np.ndarray,
    population_rows: np.ndarray,
    gamma: float = 1.0,
    pseudo_target: int = 0,
    grid: tuple[float, ...] = A_GRID,
) -> float:
    """The offline ``a`` with the best AUC when reference ``pseudo_target`` plays the target.

    Its references are ``tuning_references`` (not its complement, so every row has as many OUT
    references whatever its label); its own keep column is the truth on the scored rows, and its
    population rows are those of ``population_rows`` it did not train on. Ties go to the
    smallest a. Needs no target outputs, so the target's membership is never used.
    """
    references = np.asarray(reference_log_p, dtype=np.float64)
    keep_values = np.asarray(keep)
    others = tuning_references(keep_values, pseudo_target)
    truth = keep_values[pseudo_target]
    scored = np.asarray(scored_rows)
    population = np.asarray(population_rows)
    population = population[~truth[population]]
    member = truth[scored]
    if member.all() or not member.any():
        raise ValueError("the pseudo-target's scored rows must hold both IN and OUT rows")
    aucs = [
        roc_auc_score(
            member,
            rmia_scores(
                references[pseudo_target], references[others], keep_values[others],
                scored, population, mode="offline", a=a, gamma=gamma,
            ),
        )
        for a in grid
    ]  # fmt: skip
    return float(grid[int(np.argmax(aucs))])
