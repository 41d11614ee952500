"""The inputs of a model's jobs that depend on its pruning method and on the grid's attacks:
what each method's mask and ticket start from (the pruning registry's flags), the weights the
dense run keeps for rewinding, and the reference models' files a target's attack reads.

Paths are ``result_paths`` templates; Snakemake fills their wildcards from the job's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lottery_mia.attack.registry import SCORE_REFERENCE_ATTACKS
from lottery_mia.config import canonical_sparsity, training_settings
from lottery_mia.prune import METHODS
from lottery_mia.pruning_plan import imp_round, imp_sparsity, rewind_epoch
from lottery_mia.result_paths import (
    DENSE_DIR,
    INIT,
    MODEL_OUTPUTS,
    REFERENCE_STATISTICS,
    TICKET_DIR,
)

Config = Mapping[str, Any]


def dense_rewind_epoch(config: Config, dataset: str) -> int:
    """k of `pruning.rewind` (0 = init: no weights to keep from the dense run)."""
    return rewind_epoch(config["pruning"]["rewind"], training_settings(config, dataset)["epochs"])


def dense_rewind_outputs(config: Config) -> dict[str, str]:
    """train_dense keeps w_k only when some ticket rewinds to it (default: nothing extra)."""
    rewinds = any(METHODS[m].rewinds for m in config["grid"]["pruning_methods"])
    if config["pruning"]["rewind"] == "init" or not rewinds:
        return {}
    return {"rewind_path": f"{DENSE_DIR}/rewind_epoch{config['pruning']['rewind']}.pt"}


def prune_inputs(config: Config, method: str, sparsity: str) -> dict[str, str]:
    """magnitude, random, reinit: the trained dense model; imp round r > 1: the round r - 1
    ticket and its mask; snip, grasp, synflow: w0 only (no dense training)."""
    spec = METHODS[method]
    if spec.needs_init:
        return {"init_path": INIT}
    inputs = {
        "dense_model_path": f"{DENSE_DIR}/model.pt",
        "dense_record_path": f"{DENSE_DIR}/train.json",
    }
    if spec.chained:
        rate = config["pruning"]["imp_rate"]
        round_ = imp_round(float(sparsity), rate)
        if round_ > 1:
            previous_label = canonical_sparsity(imp_sparsity(rate, round_ - 1))
            previous = TICKET_DIR.replace("{sparsity}", previous_label)
            inputs["previous_model_path"] = f"{previous}/model.pt"
            inputs["previous_mask_path"] = f"{previous}/mask.pt"
    return inputs


def ticket_inputs(config: Config, method: str, dataset: str) -> dict[str, str]:
    """The mask, and the weights the ticket starts from: w0, the dense run's w_k (rewinding
    methods with `pruning.rewind: k`), or none (reinit builds a fresh initialisation)."""
    spec = METHODS[method]
    inputs = {"mask_path": f"{TICKET_DIR}/mask.pt"}
    if spec.reinitialises:
        return inputs
    if spec.rewinds and dense_rewind_epoch(config, dataset):
        return {**inputs, "start_path": dense_rewind_outputs(config)["rewind_path"]}
    return {**inputs, "start_path": INIT}


def reference_output_paths(config: Config, dataset: str, arch: str, model: str) -> list[str]:
    """The K references' outputs of the target's architecture, method and sparsity."""
    return [
        MODEL_OUTPUTS.format(dataset=dataset, arch=arch, run=f"ref{k}", model=model)
        for k in range(config["attack"]["reference_models"])
    ]


def reference_statistics_input(config: Config, wildcards: Mapping[str, str]) -> dict[str, str]:
    """The target's reference statistics, when the grid runs an attack that reads them (LiRA or
    RMIA; shadow_mlp reads the K references' outputs themselves)."""
    if not set(config["grid"]["attacks"]) & set(SCORE_REFERENCE_ATTACKS):
        return {}
    return {"statistics_path": REFERENCE_STATISTICS.format(**wildcards)}
