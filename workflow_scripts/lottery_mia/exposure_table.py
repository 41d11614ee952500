"""The per-example exposure table of one dataset, and the dense-vs-ticket agreement table.

Built only from files the DAG already writes: every target model's ``outputs.parquet`` (loss and
correctness, recomputed in float64 from the logits), its attacks' ``scores.parquet`` (the figures'
attack and the strongest reference attack), the reference models' outputs with the keep matrix
(memorisation), and the class counts of the (possibly long-tailed) train pool.

The exposure table has one row per evaluated example (``pool``, ``sample_id``, ``member``,
``label``, ``class_frequency``) and, per model, columns named ``{arch}/seed{N}/{model}/{field}``
(``model`` is the results folder: ``sparsity0`` or ``<method>/sparsity<p>``; field ``score_<attack>``,
``correct``, ``loss``); per referenced architecture and model ``{arch}/{model}/memorisation``; per
ticket ``{arch}/{model}/pie`` (a pruning-identified exemplar of that ticket).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lottery_mia.attack_scores import read_scores
from lottery_mia.exposure import (
    compare_agreement,
    cross_entropy,
    memorisation,
    predictions,
    pruning_identified_exemplars,
)
from lottery_mia.outputs_table import logits_matrix, read_outputs
from lottery_mia.reference_keep import keep_from_frame

ID_COLUMNS = ["pool", "sample_id"]
DENSE_MODEL = "sparsity0"


@dataclass(frozen=True)
class ModelId:
    """One target model: architecture, seed, results folder (``sparsity0`` = dense)."""

    arch: str
    seed: int
    model: str

    @property
    def dense(self) -> bool:
        return self.model == DENSE_MODEL


def model_id(key: Mapping[str, Any]) -> ModelId:
    return ModelId(str(key["arch"]), int(key["seed"]), str(key["model"]))


def column(arch: str, seed: int | None, model: str, field: str) -> str:
    """``{arch}/seed{N}/{model}/{field}``, or ``{arch}/{model}/{field}`` for a value over seeds."""
    run = [] if seed is None else [f"seed{seed}"]
    return "/".join([arch, *run, model, field])


def lowest_seed(columns: Iterable[str], arch: str, model: str, field: str) -> int | None:
    """The lowest seed N with a column ``{arch}/seed{N}/{model}/{field}`` (None: no seed has one);
    seeds compare as numbers, so seed 2 comes before seed 10."""
    pattern = re.compile(rf"{re.escape(arch)}/seed(\d+)/{re.escape(model)}/{re.escape(field)}")
    seeds = [int(found[1]) for name in columns if (found := pattern.fullmatch(name))]
    return min(seeds, default=None)


def model_outputs(path: str) -> pd.DataFrame:
    """Identity, label, prediction, correctness and float64 loss of every exported row."""
    frame = read_outputs(path)
    logits = logits_matrix(frame)
    labels = frame["label"].to_numpy()
    predicted = predictions(logits)
    return frame[[*ID_COLUMNS, "member", "label"]].assign(
        predicted=predicted, correct=predicted == labels, loss=cross_entropy(logits, labels)
    )


def _aligned(frame: pd.DataFrame, rows: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame``'s rows in the order of ``rows`` (by pool and sample_id); all must be there."""
    indexed = frame.set_index(ID_COLUMNS)
    wanted = pd.MultiIndex.from_frame(rows[ID_COLUMNS])
    missing = wanted.difference(indexed.index)
    if len(missing):
        raise ValueError(f"{source}: lacks {len(missing)} evaluated row(s), e.g. {missing[0]}")
    return indexed.loc[wanted].reset_index()


def evaluated_rows(scores: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Every (pool, sample_id, member, label) that some attack scored, in a fixed order."""
    rows = pd.concat([s[[*ID_COLUMNS, "member", "label"]] for s in scores]).drop_duplicates(
        ID_COLUMNS
    )
    return rows.sort_values(["pool", "sample_id"], ascending=[False, True], ignore_index=True)


def memorisation_of(
    reference_paths: Sequence[str], keep_frame: pd.DataFrame, rows: pd.DataFrame
) -> np.ndarray:
    """Each evaluated row's P(correct | IN) - P(correct | OUT) over the given K references."""
    keep = keep_from_frame(keep_frame)
    if keep.shape[0] != len(reference_paths):
        raise ValueError(
            f"the keep matrix has {keep.shape[0]} references, {len(reference_paths)} outputs given"
        )
    correct = []
    for k, path in enumerate(reference_paths):
        outputs = read_outputs(path, expected_member=keep[k])
        if not outputs[ID_COLUMNS].equals(keep_frame[ID_COLUMNS]):
            raise ValueError(f"{path}: rows differ from the keep matrix's rows")
        correct.append(outputs["correct"].to_numpy())
    estimate = keep_frame[ID_COLUMNS].assign(memorisation=memorisation(np.stack(correct), keep))
    return _aligned(estimate, rows, "the keep matrix")["memorisation"].to_numpy()


def _group(keys: Sequence[Mapping[str, Any]], paths: Sequence[str], by: Sequence[str]) -> dict:
    """Paths grouped by the tuple of ``by`` of their keys, in the given order."""
    grouped: dict[tuple, list[str]] = {}
    for key, path in zip(keys, paths, strict=True):
        grouped.setdefault(tuple(key[name] for name in by), []).append(path)
    return grouped


def exposure_table(
    outputs: Mapping[ModelId, pd.DataFrame],
    scores: Mapping[tuple[ModelId, str], pd.DataFrame],
    memorisations: Mapping[tuple[str, str], np.ndarray],
    rows: pd.DataFrame,
    class_counts: Mapping[int, int],
) -> pd.DataFrame:
    """The wide per-example table (module docstring) over the evaluated ``rows``."""
    columns: dict[str, Any] = {
        "class_frequency": rows["label"].map(class_counts).to_numpy(dtype=np.int64)
    }
    for (model, attack), scored in scores.items():
        aligned = rows[ID_COLUMNS].merge(scored[[*ID_COLUMNS, "score"]], how="left")
        columns[column(model.arch, model.seed, model.model, f"score_{attack}")] = aligned["score"]
    for model, frame in outputs.items():
        aligned = _aligned(frame, rows, f"outputs of {model}")
        for field in ("correct", "loss"):
            columns[column(model.arch, model.seed, model.model, field)] = aligned[field].to_numpy()
    for (arch, model), estimate in memorisations.items():
        columns[column(arch, None, model, "memorisation")] = estimate
    columns.update(_exemplar_columns(outputs, rows))
    return pd.concat([rows, pd.DataFrame(columns, index=rows.index)], axis=1)


def _exemplar_columns(
    outputs: Mapping[ModelId, pd.DataFrame], rows: pd.DataFrame
) -> dict[str, np.ndarray]:
    """``{arch}/{ticket}/pie`` per ticket: dense modal prediction right, ticket's wrong."""
    found: dict[str, np.ndarray] = {}
    by_model: dict[tuple[str, str], list[np.ndarray]] = {}
    for model in sorted(outputs, key=lambda m: (m.arch, m.model, m.seed)):
        aligned = _aligned(outputs[model], rows, f"outputs of {model}")
        by_model.setdefault((model.arch, model.model), []).append(aligned["predicted"].to_numpy())
    labels = rows["label"].to_numpy()
    for (arch, model), predicted in by_model.items():
        dense = by_model.get((arch, DENSE_MODEL))
        if model == DENSE_MODEL or dense is None:
            continue
        found[column(arch, None, model, "pie")] = pruning_identified_exemplars(
            np.stack(dense), np.stack(predicted), labels
        )
    return found


def _member_scores(scored: pd.DataFrame, members: pd.DataFrame) -> np.ndarray:
    return _aligned(scored, members, "scores")["score"].to_numpy()


def agreement_rows(
    scores: Mapping[tuple[ModelId, str], pd.DataFrame],
    n_resamples: int,
    seed: int,
    fraction: float,
) -> list[dict[str, Any]]:
    """One row per architecture x ticket x attack: dense vs ticket (seed by seed) beside dense
    vs dense (every pair of seeds), over the members every one of those files scored."""
    records = []
    tickets = sorted({(m.arch, m.model, a) for m, a in scores if not m.dense})
    for arch, ticket, attack in tickets:
        seeds = sorted(m.seed for m, a in scores if (m.arch, m.model, a) == (arch, ticket, attack))
        dense = {s: scores.get((ModelId(arch, s, DENSE_MODEL), attack)) for s in seeds}
        if any(frame is None for frame in dense.values()):
            continue
        files = [*dense.values(), *(scores[(ModelId(arch, s, ticket), attack)] for s in seeds)]
        members = _common_members(files)
        dense_scores = {s: _member_scores(dense[s], members) for s in seeds}
        ticket_pairs = [
            (dense_scores[s], _member_scores(scores[(ModelId(arch, s, ticket), attack)], members))
            for s in seeds
        ]
        dense_pairs = [
            (dense_scores[a], dense_scores[b]) for a, b in itertools.combinations(seeds, 2)
        ]
        row = compare_agreement(ticket_pairs, dense_pairs, n_resamples, seed, fraction)
        records.append({"arch": arch, "model": ticket, "attack": attack, **row})
    return records


def _common_members(files: Sequence[pd.DataFrame]) -> pd.DataFrame:
    members = [f.loc[f["member"], ID_COLUMNS] for f in files]
    common = members[0]
    for other in members[1:]:
        common = common.merge(other)
    return common.sort_values(ID_COLUMNS, ignore_index=True)


def read_inputs(
    outputs: Sequence[str],
    output_keys: Sequence[Mapping[str, Any]],
    scores: Sequence[str],
    score_keys: Sequence[Mapping[str, Any]],
) -> tuple[dict[ModelId, pd.DataFrame], dict[tuple[ModelId, str], pd.DataFrame]]:
    """The target models' outputs and scores, by model (and attack)."""
    model_frames = {
        model_id(key): model_outputs(path) for key, path in zip(output_keys, outputs, strict=True)
    }
    score_frames = {
        (model_id(key), str(key["attack"])): read_scores(path)
        for key, path in zip(score_keys, scores, strict=True)
    }
    return model_frames, score_frames


def reference_memorisations(
    reference_outputs: Sequence[str],
    reference_keys: Sequence[Mapping[str, Any]],
    keep_frame: pd.DataFrame | None,
    rows: pd.DataFrame,
) -> dict[tuple[str, str], np.ndarray]:
    """Memorisation per referenced (architecture, model), from its K references in order."""
    if keep_frame is None:
        return {}
    grouped = _group(reference_keys, reference_outputs, ("arch", "model"))
    return {group: memorisation_of(paths, keep_frame, rows) for group, paths in grouped.items()}
