"""The grid of a validated config: its models, which of them get reference models, every attack
result, the scores the figures and Table 1 read, and the workflow's final targets.

Plain functions of the config dict (``config.validate_config`` then ``canonical_config``): the
Snakefile (``rules/common.smk``) calls them while it builds the DAG, so their order is the order of
the rules' inputs and params, and a change here can rerun jobs. Nothing heavy is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lottery_mia.attack.registry import REFERENCE_ATTACKS
from lottery_mia.attack_paths import attack_folder, result_files
from lottery_mia.config import canonical_sparsity, sample_counts
from lottery_mia.result_paths import MODEL_DIR, RESULTS, TABLES, exposure_files

Config = Mapping[str, Any]
#: One model of the grid: its folder ("dir") and its identity ("key": arch, method, sparsity, seed).
Model = dict[str, Any]
#: One attack result: (model folder, attack, n).
Result = tuple[str, str, int]


def sparsity_labels(config: Config) -> list[str]:
    """The grid's sparsities as they appear in folder names ("0", "0.5", ...)."""
    return [canonical_sparsity(p) for p in config["grid"]["sparsities"]]


def model_variants(config: Config) -> list[tuple[str, str, str]]:
    """(method, sparsity label, model folder) of every model of a run: the dense model once
    (method "dense", shared by every method), then each method's tickets."""
    labels = sparsity_labels(config)
    variants = [("dense", "0", "sparsity0")] if "0" in labels else []
    return variants + [
        (method, p, f"{method}/sparsity{p}")
        for method in config["grid"]["pruning_methods"]
        for p in labels
        if p != "0"
    ]


def dataset_models(config: Config, dataset: str) -> list[Model]:
    """Every target model of a dataset, arch x seed x (method, sparsity) in a fixed order."""
    return [
        {
            "dir": MODEL_DIR.format(dataset=dataset, arch=arch, run=f"seed{seed}", model=model),
            "key": {"arch": arch, "method": method, "sparsity": float(p), "seed": seed},
        }
        for arch in config["grid"]["archs"]
        for seed in config["grid"]["seeds"]
        for method, p, model in model_variants(config)
    ]


def figure_method(config: Config) -> str:
    """The pruning method of Figures 1-3 and Table 1 (tickets vs their dense model): magnitude,
    the paper's, when the grid has it; every method is compared in the methods figure."""
    methods = config["grid"]["pruning_methods"]
    return "magnitude" if "magnitude" in methods else methods[0]


def has_references(config: Config, key: Mapping[str, Any]) -> bool:
    """Whether the model with ``key`` (arch, method, sparsity) gets reference models and
    reference attacks: the dense models and the figures' pruning method, at the configured
    architectures and sparsities."""
    attack = config["attack"]
    archs, sparsities = attack["reference_archs"], attack["reference_sparsities"]
    return (
        attack["reference_models"] > 0
        and key["method"] in ("dense", figure_method(config))
        and (archs is None or key["arch"] in archs)
        and (sparsities is None or float(key["sparsity"]) in [float(p) for p in sparsities])
    )


def attack_dir(model_dir: str, attack: str, n: int) -> str:
    """The folder of the job that runs ``attack`` on a model at n: run_attacks or, for the attacks
    that read reference models, reference_attacks. One folder per job keeps the DAG at one output
    per attack job (two files per attack made the paper grid's dry run 30% slower)."""
    return attack_folder(model_dir, n, attack in REFERENCE_ATTACKS)


def attack_file(model_dir: str, attack: str, n: int, kind: str) -> str:
    """``kind`` "record" (the metrics JSON) or "scores" (the per-row scores) of one result."""
    return str(getattr(result_files(attack_dir(model_dir, attack, n), attack), kind))


def grid_results(config: Config) -> list[Result]:
    """(model dir, attack, n) of every attack result: reference attacks only where the model has
    reference models."""
    return [
        (model["dir"], attack, n)
        for dataset in config["datasets"]
        for model in dataset_models(config, dataset)
        for attack in config["grid"]["attacks"]
        if attack not in REFERENCE_ATTACKS or has_references(config, model["key"])
        for n in sample_counts(config, dataset)
    ]


def attack_results(config: Config) -> list[str]:
    """Every attack result's metrics JSON (what summarize reads)."""
    return [attack_file(*result, "record") for result in grid_results(config)]


def attack_dirs(results: Iterable[Result]) -> list[str]:
    """The attack jobs' folders that hold ``results``, once each: a consumer's (unnamed) input,
    so that Snakemake runs those jobs first; the files themselves reach the step as params."""
    return list(dict.fromkeys(attack_dir(*result) for result in results))


def scored_dirs(models: Iterable[Mapping[str, Any]]) -> list[str]:
    """The attack folders of ``scored_models(...)``, once each (an unnamed input, as above)."""
    return list(dict.fromkeys(model["dir"] for model in models))


def figure_sample_count(config: Config, dataset: str) -> int:
    """n shown in Figures 2 and 4: the configured one if the dataset has it, else its largest."""
    counts = sample_counts(config, dataset)
    wanted = config["figures"]["sample_count"]
    return wanted if wanted in counts else max(counts)


def figure2_sample_count(config: Config) -> int:
    """n of Figure 2, across datasets: the configured one, else the largest any dataset ran (a
    dataset without it is drawn at its own largest, which the panel title notes)."""
    wanted = config["figures"]["sample_count"]
    return wanted or max(max(sample_counts(config, d)) for d in config["datasets"])


def scored_models(
    config: Config, attacks: Sequence[str], every_count: bool = False
) -> list[dict[str, Any]]:
    """Scores files of every model for ``attacks``, at the figures' sample count (or at every
    sample count), each with its key: the inputs of Table 1 and Figures 5 and 6. Only the dense
    models and the tickets of the figures' pruning method (``figure_method``)."""
    return [
        {
            "path": attack_file(model["dir"], attack, n, "scores"),
            "dir": attack_dir(model["dir"], attack, n),
            "key": {"dataset": dataset, **model["key"], "attack": attack, "n_samples": n},
        }
        for dataset in config["datasets"]
        for model in dataset_models(config, dataset)
        if model["key"]["method"] in ("dense", figure_method(config))
        for attack in attacks
        if attack not in REFERENCE_ATTACKS or has_references(config, model["key"])
        for n in (
            sample_counts(config, dataset)
            if every_count
            else [figure_sample_count(config, dataset)]
        )
    ]


def table_attacks(config: Config) -> list[str]:
    """Table 1's attacks: `figures.table_attacks`, else the figures' attack, then every reference
    attack and the loss threshold that the grid runs (the attacks the field trusts)."""
    chosen = config["figures"]["table_attacks"]
    if chosen is None:
        wanted = [config["figures"]["attack"], *REFERENCE_ATTACKS, "loss_threshold"]
        chosen = [a for a in dict.fromkeys(wanted) if a in config["grid"]["attacks"]]
    return list(chosen)


def roc_attacks(config: Config) -> list[str]:
    """Figure 5's attacks: the figures' attack, the loss attack and LiRA (online), those of them
    the grid runs (LiRA on the models with reference models)."""
    wanted = [config["figures"]["attack"], "loss_threshold", "lira_online"]
    return [a for a in dict.fromkeys(wanted) if a in config["grid"]["attacks"]]


def transfer_figure_attack(config: Config) -> str:
    """The attack of Figure 4: figures.attack, unless it reads reference models (then it has no
    single source model), in which case the first of transfer.attacks."""
    shown = config["figures"]["attack"]
    return shown if shown not in REFERENCE_ATTACKS else config["transfer"]["attacks"][0]


def transfer_attacks(config: Config) -> list[str]:
    """Transfer matrices for the configured attacks plus the one Figure 4 shows."""
    wanted = set(config["transfer"]["attacks"]) | {transfer_figure_attack(config)}
    return [attack for attack in config["grid"]["attacks"] if attack in wanted]


def transfer_matrices(config: Config, dataset: str) -> list[str]:
    return [
        f"{RESULTS}/{dataset}/transfer/{attack}_n{n}.parquet"
        for attack in transfer_attacks(config)
        for n in sample_counts(config, dataset)
    ]


def final_targets(config: Config) -> list[str]:
    """What `snakemake` with no target makes (rule all) besides the figures: the summary, the
    transfer matrices and every table. The figures' files come from their rules
    (``figure_output`` in rules/figure_files.smk), so a figure is never listed twice."""
    datasets = config["datasets"]
    return [
        f"{RESULTS}/summary.parquet",
        *[path for dataset in datasets for path in transfer_matrices(config, dataset)],
        f"{TABLES}/table1.csv",
        f"{TABLES}/table1.md",
        f"{TABLES}/per_class.csv",
        f"{TABLES}/per_class.md",
        # Per-example exposure (rules/exposure.smk), per dataset.
        *[path for dataset in datasets for path in exposure_files(dataset)],
    ]
