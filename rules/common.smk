# Config validation (before any job runs), the grid, path templates and input functions.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow_scripts"))

from lottery_mia.config import (
    NONZERO_SPARSITY_PATTERN,
    SCHEMA_PATH,
    SPARSITY_PATTERN,
    canonical_config,
    canonical_sparsity,
    check_config,
    data_settings,
    load_schema,
    sample_counts,
    schema_names,
    training_settings,
    validate_config,
)
from lottery_mia.data import pool_sizes

# The one gate: schema (keys, types, ranges, defaults), then the checks a schema cannot express.
# Rules and the library trust the result. Canonical form (sorted keys, numbers as the schema types
# them) so that a reordered or re-dumped config gives the same params and reruns nothing.
SCHEMA = load_schema(SCHEMA_PATH)
_validated = canonical_config(validate_config(config, SCHEMA), SCHEMA)
config.clear()
config.update(_validated)
check_config(config, SCHEMA, pool_sizes)

RESULTS = "results"
MODEL_DIR = "results/{dataset}/{arch}/seed{seed}/sparsity{sparsity}"
DENSE_DIR = "results/{dataset}/{arch}/seed{seed}/sparsity0"
INIT = "results/{dataset}/{arch}/seed{seed}/init.pt"
LOGS = "results/logs"
BENCHMARKS = "results/benchmarks"
FIGURES = "results/figures"
TABLES = "results/tables"
ATTACK_NAMES = schema_names("grid.attacks")
ARCHITECTURES = schema_names("grid.archs")


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    arch="|".join(ARCHITECTURES),
    seed=r"\d+",
    sparsity=SPARSITY_PATTERN,
    n=r"[1-9][0-9]*",
    attack="|".join(ATTACK_NAMES),


def sparsity_labels():
    return [canonical_sparsity(p) for p in config["grid"]["sparsities"]]


def dataset_models(dataset):
    """Every model of a dataset, arch x seed x sparsity in a fixed order: its folder and key."""
    return [
        {
            "dir": MODEL_DIR.format(dataset=dataset, arch=arch, seed=seed, sparsity=p),
            "key": {"arch": arch, "sparsity": float(p), "seed": seed},
        }
        for arch in config["grid"]["archs"]
        for seed in config["grid"]["seeds"]
        for p in sparsity_labels()
    ]


def model_dirs(dataset):
    return [model["dir"] for model in dataset_models(dataset)]


def attack_results():
    return [
        f"{directory}/attack/{attack}_n{n}.json"
        for dataset in config["datasets"]
        for directory in model_dirs(dataset)
        for attack in config["grid"]["attacks"]
        for n in sample_counts(config, dataset)
    ]


def attack_result_files(suffix=".json"):
    """The files one run_attacks job writes per attack of the grid: its metrics (``.json``) and,
    beside them, the per-row scores they are computed from (``.scores.parquet``)."""
    return [
        f"{MODEL_DIR}/attack/{attack}_n{{n}}{suffix}"
        for attack in config["grid"]["attacks"]
    ]


def transfer_attacks():
    """Transfer matrices for the configured attacks plus the one Figure 4 shows."""
    wanted = set(config["transfer"]["attacks"]) | {config["figures"]["attack"]}
    return [attack for attack in config["grid"]["attacks"] if attack in wanted]


def transfer_matrices(dataset):
    return [
        f"{RESULTS}/{dataset}/transfer/{attack}_n{n}.parquet"
        for attack in transfer_attacks()
        for n in sample_counts(config, dataset)
    ]


def figure_sample_count(dataset):
    """n shown in Figures 2 and 4: the configured one if the dataset has it, else its largest."""
    counts = sample_counts(config, dataset)
    wanted = config["figures"]["sample_count"]
    return wanted if wanted in counts else max(counts)


def figure2_sample_count():
    """n of Figure 2, across datasets: the configured one, else the largest any dataset ran (a
    dataset without it is drawn at its own largest, which the panel title notes)."""
    wanted = config["figures"]["sample_count"]
    return wanted or max(max(sample_counts(config, d)) for d in config["datasets"])


def scored_models(attacks, every_count=False):
    """Scores files of every model for ``attacks``, at the figures' sample count (or at every
    sample count), each with its key: the inputs of Table 1 and Figures 5 and 6."""
    return [
        {
            "path": f"{model['dir']}/attack/{attack}_n{n}.scores.parquet",
            "key": {
                "dataset": dataset,
                **model["key"],
                "attack": attack,
                "n_samples": n,
            },
        }
        for dataset in config["datasets"]
        for model in dataset_models(dataset)
        for attack in attacks
        for n in (
            sample_counts(config, dataset)
            if every_count
            else [figure_sample_count(dataset)]
        )
    ]


def bootstrap_settings():
    return {
        "resamples": config["attack"]["bootstrap_resamples"],
        "seed": config["attack"]["bootstrap_seed"],
    }


def roc_attacks():
    """Figure 5's attacks: the figures' attack and the loss attack, when the grid runs it."""
    wanted = [config["figures"]["attack"], "loss_threshold"]
    return [a for a in dict.fromkeys(wanted) if a in config["grid"]["attacks"]]


def figure_look():
    """The `figures` keys that change how a figure looks, not what it shows."""
    return {key: config["figures"][key] for key in ("context", "dpi", "palette")}


def figure_paths(name):
    return [f"{FIGURES}/{name}.png", f"{FIGURES}/{name}.pdf"]


def final_targets():
    transfers = [
        path for dataset in config["datasets"] for path in transfer_matrices(dataset)
    ]
    figures = [
        *figure_paths("fig1_test_accuracy"),
        *figure_paths("fig2_attack_vs_sparsity"),
        *figure_paths("fig3_attack_vs_samples"),
        *[
            path
            for dataset in config["datasets"]
            for path in figure_paths(f"fig4_transfer_{dataset}")
        ],
    ]
    return [
        f"{RESULTS}/summary.parquet",
        *transfers,
        *figures,
        f"{TABLES}/table1.csv",
        f"{TABLES}/table1.md",
        *figure_paths("fig5_roc_curves"),
        *figure_paths("fig6_gap_vs_auc"),
        *figure_paths("fig7_per_class"),
        f"{TABLES}/per_class.csv",
        f"{TABLES}/per_class.md",
    ]


# Parameters that shape a result reach rules through `params:`, so Snakemake reruns what they change.
def train_settings(wildcards):
    return {
        "data": data_settings(config, wildcards.dataset),
        "model": config["model"],
        "training": training_settings(config, wildcards.dataset),
    }


def export_settings(wildcards):
    return {
        **train_settings(wildcards),
        "outputs": config["outputs"],
        "eval_size": config["attack"]["eval_size"],
    }


def attack_settings(wildcards):
    """The attack section with only this attack's own model settings, so that tuning the SVM
    does not rerun the MLP transfer matrices."""
    shared = {k: v for k, v in config["attack"].items() if k not in ATTACK_NAMES}
    own = config["attack"].get(wildcards.attack, {})
    return {"attack": {**shared, wildcards.attack: own}}


def gpu_request(wildcards):
    """1 for training, ticket and export jobs that will use a GPU: on a cluster whenever the
    device is not `cpu`; locally only when CUDA is really there, so that a CPU-only laptop still
    runs several trainings side by side under the default profile's `gpu: 1` limit."""
    device = training_settings(config, wildcards.dataset)["device"]
    if device == "cpu":
        return 0
    if device == "auto" and workflow.local_exec:
        import torch  # here, not at the top: importing torch costs every Snakefile parse seconds

        return int(torch.cuda.is_available())
    return 1


def model_key(wildcards):
    """Identity of the model a job works on (the dense model's paths carry no sparsity wildcard)."""
    return {
        "dataset": wildcards.dataset,
        "arch": wildcards.arch,
        "seed": int(wildcards.seed),
        "sparsity": float(wildcards.get("sparsity", 0)),
    }
