"""The per-class table: attack AUC within each class label, dense model vs its ticket.

A table, not a figure (``figures.per_class`` draws it): one row per class of every model scored,
with the class's AUC and its stratified bootstrap interval (``stats.resampling.per_class_auc``)
and its training frequency, so a reader can see whether rare classes leak more.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from lottery_mia.attack_scores import ScoreKey
from lottery_mia.figures.summary_rows import nearest_sparsity
from lottery_mia.stats.resampling import per_class_auc

PER_CLASS_COLUMNS: tuple[str, ...] = (
    "dataset", "arch", "seed", "sparsity", "model", "attack", "n_samples",
    "label", "class_frequency", "n_members", "n_non_members", "auc", "auc_ci_low", "auc_ci_high",
)  # fmt: skip


def per_class_table(
    scores: Mapping[ScoreKey, pd.DataFrame],
    ticket_sparsity: float,
    n_resamples: int,
    bootstrap_seed: int,
    class_counts: Mapping[str, Mapping[int, int]] | None = None,
) -> pd.DataFrame:
    """AUC per class label (with a bootstrap interval) of the dense model and of the ticket
    nearest ``ticket_sparsity``, for every dataset, architecture, seed and attack scored, with
    the class's training frequency (``class_counts[dataset][label]``; NaN when not given)."""
    frames = []
    for key, scored in scores.items():
        attack, dataset, arch, seed, sparsity, n_samples = key
        tickets = [k[4] for k in scores if k[:4] == key[:4] and k[5] == n_samples]
        if sparsity != 0.0 and sparsity != nearest_sparsity(
            tickets, ticket_sparsity, exclude_dense=True
        ):
            continue
        table = per_class_auc(
            scored["member"].to_numpy(), scored["score"].to_numpy(), scored["label"].to_numpy(),
            n_resamples, bootstrap_seed,
        )  # fmt: skip
        model = "dense" if sparsity == 0.0 else f"ticket ({sparsity:.0%})"
        counts = (class_counts or {}).get(dataset, {})
        table["class_frequency"] = [counts.get(int(label)) for label in table["label"]]
        frames.append(table.assign(dataset=dataset, arch=arch, seed=seed, sparsity=sparsity,
                                   model=model, attack=attack, n_samples=n_samples))  # fmt: skip
    return pd.concat(frames, ignore_index=True)[list(PER_CLASS_COLUMNS)]
