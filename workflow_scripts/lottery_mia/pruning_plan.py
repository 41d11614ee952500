"""What the workflow must know about pruning before any job runs: IMP rounds, rewinding, exclusions.

Only the standard library: the config gate and the DAG use this at every Snakefile parse, which must
not pay for importing torch. The methods are registered in ``prune.registry``; the masks live in
``pruning`` and the method modules of ``prune``.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Sequence

#: Tolerance when matching a configured sparsity to an IMP round's 1 - (1 - rate)^r.
IMP_SPARSITY_TOLERANCE = 1e-9


# --- Iterative magnitude pruning -------------------------------------------------------------


#: Decimals of an IMP sparsity: 1 - 0.8**2 is 0.3599999999999999 in floating point, and a path
#: must spell it 0.36 as the config does.
IMP_SPARSITY_DECIMALS = 10


def imp_sparsity(rate: float, rounds: int) -> float:
    """Sparsity after ``rounds`` rounds that each remove ``rate`` of the surviving weights."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"pruning.imp_rate must be in (0, 1), got {rate}")
    return round(1.0 - (1.0 - rate) ** rounds, IMP_SPARSITY_DECIMALS)


def imp_round(sparsity: float, rate: float, max_rounds: int = 1000) -> int:
    """The round r at which IMP reaches ``sparsity`` = 1 - (1 - rate)^r; an error if none does."""
    reachable = [imp_sparsity(rate, r) for r in range(max_rounds + 1)]
    for round_, value in enumerate(reachable):
        if round_ and math.isclose(value, sparsity, rel_tol=0, abs_tol=IMP_SPARSITY_TOLERANCE):
            return round_
    above = next((r for r, value in enumerate(reachable) if value > sparsity), max_rounds)
    nearest = [
        f"{reachable[r]:.10g} (round {r})" for r in (above - 1, above) if 1 <= r <= max_rounds
    ]
    raise ValueError(
        f"sparsity {sparsity} is not reachable by IMP at pruning.imp_rate {rate}: round r reaches "
        f"1 - (1 - {rate})^r; nearest reachable: {', '.join(nearest)}"
    )


# --- Rewinding ---------------------------------------------------------------------------------


def rewind_epoch(rewind: str | int, epochs: int) -> int:
    """``pruning.rewind`` as an epoch: 0 for ``init`` (w0), else k in 1..epochs - 1 (w_k)."""
    if rewind == "init":
        return 0
    if isinstance(rewind, bool) or not isinstance(rewind, int) or not 1 <= rewind < epochs:
        raise ValueError(
            f"pruning.rewind: {rewind!r}; expected 'init' or an epoch k with 1 <= k < "
            f"training.epochs ({epochs})"
        )
    return rewind


# --- pruning.exclude ----------------------------------------------------------------------------


def _pattern_suggestions(pattern: str, module_names: Sequence[str]) -> list[str]:
    """What an exclusion pattern that matches nothing probably meant (a module, or a subtree)."""
    suggestions: list[str] = []
    for suffix in (".weight", ".bias"):
        if pattern.endswith(suffix) and pattern.removesuffix(suffix) in module_names:
            suggestions.append(pattern.removesuffix(suffix))
    if any(name.startswith(f"{pattern}.") for name in module_names):
        suggestions.append(f"{pattern}.*")
    subtrees = sorted({f"{name.rsplit('.', 1)[0]}.*" for name in module_names if "." in name})
    close = difflib.get_close_matches(pattern, [*module_names, *subtrees], n=3, cutoff=0.6)
    return list(dict.fromkeys([*suggestions, *close]))


def check_exclude_patterns(module_names: Sequence[str], exclude: Sequence[str]) -> None:
    """Raise if an exclusion pattern matches none of ``module_names`` (the prunable layers).

    A pattern that matches nothing excludes nothing: ``fc.weight`` or ``layer4`` (instead of ``fc``
    and ``layer4.*``) would silently prune the layers the user meant to keep.
    """
    for pattern in exclude:
        if any(fnmatch.fnmatchcase(name, pattern) for name in module_names):
            continue
        suggestions = _pattern_suggestions(pattern, module_names)
        hint = f"did you mean {' or '.join(map(repr, suggestions))}? " if suggestions else ""
        listed = ", ".join(module_names[:6]) + (", ..." if len(module_names) > 6 else "")
        raise ValueError(
            f"pruning.exclude: pattern {pattern!r} matches no prunable layer; {hint}"
            "patterns are fnmatch patterns over module names (not parameter names), e.g. 'fc' or "
            f"'layer4.*'; prunable layers: {listed}"
        )
