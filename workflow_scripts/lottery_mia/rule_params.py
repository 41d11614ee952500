"""The params of the workflow's rules: the slice of the config each result depends on.

Parameters that shape a result reach rules through ``params:``, so Snakemake reruns what they
change, and only that: each function hands a rule the keys its step reads and no other (tuning the
SVM does not rerun the MLP's transfer matrices; growing K trains the new references only). The
returned dicts' contents and key order are what Snakemake compares: keep them stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from lottery_mia.attack.registry import (
    ATTACKS,
    PER_MODEL_ATTACKS,
    REFERENCE_ATTACKS,
    settings_read_by,
)
from lottery_mia.config import data_settings, training_settings
from lottery_mia.prune import METHODS
from lottery_mia.reference_keep import parse_run, reference_training_seed

Config = Mapping[str, Any]
Settings = dict[str, Any]


def reference_settings(config: Config, run: str) -> Settings:
    """What decides a reference model's training rows (its index, the keep seed, the export's
    selection), never K; nothing for a target (run seed<N>)."""
    kind, number = parse_run(run)
    if kind == "seed":
        return {}
    return {
        "reference": {
            "index": number,
            "keep_seed": config["attack"]["reference_seed"],
            **config["outputs"],
        }
    }


def train_settings(config: Config, dataset: str, run: str) -> Settings:
    """What a training reads: the data, the model, the schedule (and a reference's rows)."""
    return {
        "data": data_settings(config, dataset),
        "model": config["model"],
        "training": training_settings(config, dataset),
        **reference_settings(config, run),
    }


def export_settings(config: Config, dataset: str, run: str) -> Settings:
    """A training's settings plus what the export writes and the evaluation rows."""
    return {
        **train_settings(config, dataset, run),
        "outputs": config["outputs"],
        "eval_size": config["attack"]["eval_size"],
    }


def init_settings(config: Config, dataset: str, run: str) -> Settings:
    """What w0 depends on: the data (classes, channels, image size) and the model shape."""
    return {k: v for k, v in train_settings(config, dataset, run).items() if k != "training"}


def prune_settings(config: Config, method: str, dataset: str, run: str) -> Settings:
    """Only what this method's mask depends on, so tuning one method reruns no other."""
    spec = METHODS[method]
    pruning = config["pruning"]
    training = training_settings(config, dataset)
    settings = {"exclude": pruning["exclude"]}
    settings.update({key: pruning[key] for key in spec.settings})
    settings.update({key: training[key] for key in spec.training_settings})
    if spec.needs_init:
        settings.update(init_settings(config, dataset, run))
    return settings


def job_attacks(config: Config, references: bool) -> list[str]:
    """The config's attacks that one job kind runs: those reading reference models
    (``reference_attacks``) or those trained on one model's outputs (``run_attacks``)."""
    return [name for name in config["grid"]["attacks"] if (name in REFERENCE_ATTACKS) == references]


def supervised_attack_settings(config: Config) -> Settings:
    """What the attacks trained on one model's outputs read (the registry's settings keys): not
    the reference keys, so that changing K or LiRA's settings does not rerun them."""
    read = settings_read_by(PER_MODEL_ATTACKS)
    return {key: value for key, value in config["attack"].items() if key in read}


def reference_attack_settings(config: Config) -> Settings:
    """What the reference attacks read (the registry's settings keys): the shared and reference
    keys and the MLP (shadow_mlp)."""
    read = settings_read_by(REFERENCE_ATTACKS)
    return {key: value for key, value in config["attack"].items() if key in read}


def attack_settings(config: Config, attack: str) -> Settings:
    """The attack section with only this attack's own model settings, so that tuning the SVM
    does not rerun the MLP transfer matrices."""
    shared = {k: v for k, v in supervised_attack_settings(config).items() if k not in ATTACKS}
    own = config["attack"].get(attack, {})
    return {"attack": {**shared, attack: own}}


def bootstrap_settings(config: Config) -> Settings:
    return {
        "resamples": config["attack"]["bootstrap_resamples"],
        "seed": config["attack"]["bootstrap_seed"],
    }


def figure_look(config: Config) -> Settings:
    """The `figures` keys that change how a figure looks, not what it shows."""
    return {key: config["figures"][key] for key in ("context", "dpi", "palette")}


def model_key(wildcards: Mapping[str, str]) -> dict[str, Any]:
    """Identity of the model a job works on, from its wildcards: {method} and {sparsity}, or
    {model} (sparsity0 | <method>/sparsity<p>); the dense model's method is "dense". A
    reference's key names it and carries its own training seed (never a target's)."""
    kind, number = parse_run(wildcards["run"])
    identity = (
        {"seed": number}
        if kind == "seed"
        else {"reference": number, "seed": reference_training_seed(number)}
    )
    method, sparsity = wildcards.get("method", "dense"), wildcards.get("sparsity", "0")
    if "model" in wildcards and wildcards["model"] != "sparsity0":
        method, folder = PurePosixPath(wildcards["model"]).parts
        sparsity = folder.removeprefix("sparsity")
    return {
        "dataset": wildcards["dataset"],
        "arch": wildcards["arch"],
        **identity,
        "method": method,
        "sparsity": float(sparsity),
    }
