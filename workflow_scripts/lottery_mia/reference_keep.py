"""The keep-half design of reference models (Carlini et al. 2022, Algorithm 1).

K reference models are each trained on a random half of the population: the exported rows, target
members and non-members alike. The inclusion ("keep") matrix is balanced both ways:

- every row is IN for exactly K/2 references, so each row has K/2 IN and K/2 OUT models for
  LiRA's per-row Gaussians;
- every reference trains on exactly half of the rows (⌊N/2⌋ or ⌈N/2⌉).

Construction: references come in complementary pairs (2j, 2j + 1). Pair j draws one seeded random
half of the rows for reference 2j; reference 2j + 1 takes the other half. Each pair is drawn from
its own seed sequence ``(seed, j)``, so reference k's column depends on k and the seed but not on
K: growing K from 4 to 8 leaves references 0-3 unchanged, and only the new ones must be trained.
K must therefore be even.

Runs: a model folder's ``{run}`` is ``seed{N}`` (a target trained with seed N) or ``ref{k}``
(reference k, trained with seed ``REFERENCE_SEED_BASE + k``: its own w0 and data order, never a
target's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from lottery_mia.selection import exported_ids

if TYPE_CHECKING:  # config.py imports this module: every job and Snakefile parse would pay pandas
    import pandas as pd

KEEP_ID_COLUMNS: tuple[str, ...] = ("sample_id", "pool")
#: Fewest references the reference attacks can use: every row is IN for half of them, and LiRA
#: needs 2 IN and 2 OUT per row to estimate a variance. (A keep matrix itself needs only an even
#: K >= 2: ``keep_matrix``.)
MIN_REFERENCE_MODELS = 4
#: Fewest references (IN + OUT) for LiRA's per-row variance: 8 values a side per row. Carlini et
#: al. use a per-row sigma only with many shadows (64+); from 2 values a side (K = 4) it is so
#: noisy that LiRA's AUC drops, and a variance pooled over rows is their advice for few references.
PER_ROW_MIN_REFERENCES = 16
#: Training seed of reference k is REFERENCE_SEED_BASE + k; target seeds stay below it.
REFERENCE_SEED_BASE = 1_000_000
RUN_PATTERN = r"seed\d+|ref\d+"


def parse_run(run: str) -> tuple[str, int]:
    """``("seed", N)`` for ``seed{N}``, ``("ref", k)`` for ``ref{k}``."""
    match = re.fullmatch(r"(seed|ref)(\d+)", run)
    if match is None:
        raise ValueError(f"run {run!r} is neither seed<N> (a target) nor ref<k> (a reference)")
    return match.group(1), int(match.group(2))


def reference_training_seed(reference: int) -> int:
    """Seed of reference ``reference``'s w0 and training order."""
    return REFERENCE_SEED_BASE + reference


def reference_population(
    reference: Mapping[str, Any], train_size: int, test_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(exported train ids, exported test ids, keep column over them) of one reference.

    ``reference`` holds ``index``, ``keep_seed`` and the export's ``max_per_pool`` and
    ``selection_seed``: everything that decides the reference's training rows, and nothing else.
    """
    train_ids, test_ids = exported_ids(
        train_size, test_size, reference["max_per_pool"], reference["selection_seed"]
    )
    keep = keep_column(len(train_ids) + len(test_ids), reference["index"], reference["keep_seed"])
    return train_ids, test_ids, keep


def _check_count(n_references: int) -> None:
    if isinstance(n_references, bool) or not isinstance(n_references, int | np.integer):
        raise ValueError(f"attack.reference_models is {n_references!r}, expected an integer")
    if n_references < 2 or n_references % 2:
        raise ValueError(
            f"attack.reference_models is {n_references}, expected an even number >= 2 "
            "(every row is IN for exactly half of the references)"
        )


def reference_count_problem(n_references: int) -> str | None:
    """Why the reference attacks cannot use ``n_references`` models (None if they can): the one
    check of the count, for the config gate and the attacks alike."""
    if n_references >= MIN_REFERENCE_MODELS and n_references % 2 == 0:
        return None
    return (
        f"an even number >= {MIN_REFERENCE_MODELS} (every row IN for half of them; LiRA needs "
        f"{MIN_REFERENCE_MODELS // 2} IN and {MIN_REFERENCE_MODELS // 2} OUT per row)"
    )


def per_row_variance_problem(variance: str, n_references: int) -> str | None:
    """Why ``attack.lira.variance`` cannot be ``variance`` with K references (None if it can)."""
    if variance != "per_row" or n_references >= PER_ROW_MIN_REFERENCES:
        return None
    return (
        f"config key 'attack.lira.variance': 'per_row' needs attack.reference_models >= "
        f"{PER_ROW_MIN_REFERENCES} ({PER_ROW_MIN_REFERENCES // 2} IN and "
        f"{PER_ROW_MIN_REFERENCES // 2} OUT references per row); got {n_references}. Expected "
        "global or auto (a variance pooled over rows) with fewer references"
    )


def reference_column(reference: str | int) -> str:
    """Column of reference ``k`` in ``reference_keep.parquet``: ``ref{k}``."""
    return f"ref{int(reference)}"


def keep_column(n_rows: int, reference: int, seed: int) -> np.ndarray:
    """Reference ``reference``'s IN rows (bool, length ``n_rows``); independent of K."""
    if n_rows < 2:
        raise ValueError(f"the population has {n_rows} row(s); expected at least 2")
    if reference < 0:
        raise ValueError(f"reference index is {reference}, expected >= 0")
    pair, second = divmod(reference, 2)
    order = np.random.default_rng([seed, pair]).permutation(n_rows)
    first_half = np.zeros(n_rows, dtype=bool)
    first_half[order[: n_rows // 2]] = True
    return ~first_half if second else first_half


def keep_matrix(n_rows: int, n_references: int, seed: int) -> np.ndarray:
    """The (K, n_rows) bool inclusion matrix: row k is reference k's training half."""
    _check_count(n_references)
    return np.stack([keep_column(n_rows, k, seed) for k in range(n_references)])


def reference_keep_frame(
    sample_ids: np.ndarray, pools: np.ndarray, n_references: int, seed: int
) -> pd.DataFrame:
    """``reference_keep.parquet``'s content: ``sample_id``, ``pool``, ``ref0`` .. ``ref{K-1}``.

    Rows are the population in the order given (the outputs' row order).
    """
    import pandas as pd  # here, not at the top: see the TYPE_CHECKING import

    ids = np.asarray(sample_ids, dtype=np.int64)
    pool_values = np.asarray(pools, dtype=object)
    if ids.shape != pool_values.shape or ids.ndim != 1:
        raise ValueError(
            f"sample_ids and pools have shapes {ids.shape} and {pool_values.shape}; "
            "expected equal 1-D shapes"
        )
    identities = pd.MultiIndex.from_arrays([pool_values, ids])
    if identities.has_duplicates:
        raise ValueError("the population lists some (pool, sample_id) more than once")
    keep = keep_matrix(ids.size, n_references, seed)
    columns = {reference_column(k): keep[k] for k in range(n_references)}
    return pd.DataFrame({"sample_id": ids, "pool": pool_values.astype(str), **columns})


def keep_from_frame(frame: pd.DataFrame, source: str = "reference keep table") -> np.ndarray:
    """The (K, rows) bool matrix of a ``reference_keep`` frame, after checking its balance."""
    missing = [name for name in KEEP_ID_COLUMNS if name not in frame.columns]
    ref_columns = [name for name in frame.columns if name not in KEEP_ID_COLUMNS]
    expected = [reference_column(k) for k in range(len(ref_columns))]
    if missing or ref_columns != expected:
        raise ValueError(
            f"{source}: columns {list(frame.columns)}; expected sample_id, pool, "
            f"ref0 .. ref{{K-1}} in order"
        )
    _check_count(len(ref_columns))
    if any(frame[name].dtype != bool for name in ref_columns):
        raise ValueError(f"{source}: reference columns must be bool (true = IN)")
    keep = frame[ref_columns].to_numpy(dtype=bool).T
    counts = keep.sum(axis=0)
    if (counts != keep.shape[0] // 2).any():
        raise ValueError(
            f"{source}: {int((counts != keep.shape[0] // 2).sum())} row(s) are not IN for "
            f"exactly {keep.shape[0] // 2} of {keep.shape[0]} references"
        )
    return keep
