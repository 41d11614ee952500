"""The inputs of the per-example exposure rules (rules/exposure.smk): which models, scores files
and reference outputs each dataset's exposure table reads. Plain functions of the validated config
dict, like ``grid``; their order is the order of the exposure job's inputs and params.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lottery_mia.grid import (
    attack_dir,
    attack_file,
    figure_sample_count,
    has_references,
    model_variants,
)
from lottery_mia.result_paths import MODEL_DIR, MODEL_OUTPUTS, REFERENCE_KEEP

Config = Mapping[str, Any]
#: The reference attacks the exposure table reads, strongest first.
RANKED_REFERENCE_ATTACKS = ("lira_online", "rmia", "lira_offline", "rmia_offline")


def exposure_reference_attack(config: Config) -> str | None:
    """The strongest reference attack the grid runs: LiRA online where references exist, else
    RMIA, then the offline variants; None without reference models."""
    if config["attack"]["reference_models"] == 0:
        return None
    return next((a for a in RANKED_REFERENCE_ATTACKS if a in config["grid"]["attacks"]), None)


def exposure_models(config: Config, dataset: str) -> list[dict[str, Any]]:
    """Every target model of the dataset, its key naming its results folder as `model`."""
    return [
        {
            "dir": MODEL_DIR.format(dataset=dataset, arch=arch, run=f"seed{seed}", model=model),
            "outputs": MODEL_OUTPUTS.format(
                dataset=dataset, arch=arch, run=f"seed{seed}", model=model
            ),
            "key": {"arch": arch, "seed": seed, "model": model, "method": method},
            "sparsity": float(p),
        }
        for arch in config["grid"]["archs"]
        for seed in config["grid"]["seeds"]
        for method, p, model in model_variants(config)
    ]


def _referenced(config: Config, model: Mapping[str, Any]) -> bool:
    return has_references(config, {**model["key"], "sparsity": model["sparsity"]})


def _exposure_attacks(config: Config, model: Mapping[str, Any]) -> list[str]:
    reference = exposure_reference_attack(config)
    shown = [config["figures"]["attack"]]
    return shown + ([reference] if reference and _referenced(config, model) else [])


def exposure_scores(config: Config, dataset: str) -> list[dict[str, Any]]:
    """Scores files at the figures' sample count: the figures' attack on every model, the
    strongest reference attack on the models with references."""
    n = figure_sample_count(config, dataset)
    return [
        {
            "path": attack_file(model["dir"], attack, n, "scores"),
            "dir": attack_dir(model["dir"], attack, n),
            "key": {**model["key"], "attack": attack},
        }
        for model in exposure_models(config, dataset)
        for attack in _exposure_attacks(config, model)
    ]


def exposure_references(config: Config, dataset: str) -> list[dict[str, Any]]:
    """Outputs of the K references of each referenced (arch, model), in reference order."""
    referenced = {
        (m["key"]["arch"], m["key"]["model"])
        for m in exposure_models(config, dataset)
        if _referenced(config, m)
    }
    return [
        {
            "path": MODEL_OUTPUTS.format(dataset=dataset, arch=arch, run=f"ref{k}", model=model),
            "key": {"arch": arch, "model": model, "reference": k},
        }
        for arch, model in sorted(referenced)
        for k in range(config["attack"]["reference_models"])
    ]


def exposure_keep_input(config: Config, dataset: str) -> dict[str, str]:
    """The reference keep table, when the dataset's exposure table reads reference outputs."""
    if not exposure_references(config, dataset):
        return {}
    return {"keep_path": REFERENCE_KEEP.format(dataset=dataset)}
