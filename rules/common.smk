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
    data_settings,
    export_queries,
    load_schema,
    sample_counts,
    schema_names,
    training_settings,
    validate_config,
)
from lottery_mia.config_checks import check_config
from lottery_mia.attack_paths import attack_folder, result_files
from lottery_mia.data import pool_sizes
from lottery_mia.data.pool_cache import cached_pool_sizes
from lottery_mia.prune import METHODS
from lottery_mia.pruning_plan import imp_round, imp_sparsity, rewind_epoch
from lottery_mia.attack.registry import (
    ATTACKS,
    PER_MODEL_ATTACKS,
    REFERENCE_ATTACKS,
    SCORE_REFERENCE_ATTACKS,
    settings_read_by,
)
from lottery_mia.reference_keep import RUN_PATTERN, parse_run, reference_training_seed
from lottery_mia.resources import local_gpu_present, official_pool_sizes, planning

# The one gate: schema (keys, types, ranges, defaults), then the checks a schema cannot express.
# Rules and the library trust the result. Canonical form (sorted keys, numbers as the schema types
# them) so that a reordered or re-dumped config gives the same params and reruns nothing.
SCHEMA = load_schema(SCHEMA_PATH)
_validated = canonical_config(validate_config(config, SCHEMA), SCHEMA)
config.clear()
config.update(_validated)
# The data checks count every dataset's samples, which only the main process needs: a cluster
# job parses this file again and would count again. The count is kept while the data is unchanged.
# Planning (`make plan`) reads no data: the official pool sizes stand in (resources.planning).
POOL_SIZES = (
    official_pool_sizes
    if planning()
    else cached_pool_sizes(pool_sizes, Path(".snakemake/lottery_mia/pool_sizes.json"))
)
check_config(config, SCHEMA, POOL_SIZES if workflow.is_main_process else None)

RESULTS = "results"
# {run} is seed{N} (a target) or ref{k} (reference model k, made the same way: see below).
RUN_DIR = "results/{dataset}/{arch}/{run}"
# Any model of a run: the dense one (model = sparsity0) or a ticket (model = <method>/sparsity<p>).
MODEL_DIR = f"{RUN_DIR}/{{model}}"
ATTACK_DIR = attack_folder(MODEL_DIR, "{n}", reference=False)
REFERENCE_ATTACK_DIR = attack_folder(MODEL_DIR, "{n}", reference=True)
TICKET_DIR = f"{RUN_DIR}/{{method}}/sparsity{{sparsity}}"
DENSE_DIR = f"{RUN_DIR}/sparsity0"
INIT = f"{RUN_DIR}/init.pt"
REFERENCE_KEEP = "results/{dataset}/reference_keep.parquet"
REFERENCE_STATISTICS = f"{MODEL_DIR}/reference_statistics.npz"
LOGS = "results/logs"
BENCHMARKS = "results/benchmarks"
FIGURES = "results/figures"
TABLES = "results/tables"
ATTACK_NAMES = tuple(ATTACKS)
ARCHITECTURES = schema_names("grid.archs")
PRUNING_METHODS = tuple(METHODS)
MODEL_PATTERN = (
    rf"sparsity0|(?:{'|'.join(PRUNING_METHODS)})/sparsity(?:{NONZERO_SPARSITY_PATTERN})"
)


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    arch="|".join(ARCHITECTURES),
    run=RUN_PATTERN,
    sparsity=SPARSITY_PATTERN,
    n=r"[1-9][0-9]*",
    attack="|".join(ATTACK_NAMES),
    method="|".join(PRUNING_METHODS),
    model=MODEL_PATTERN,


def sparsity_labels():
    return [canonical_sparsity(p) for p in config["grid"]["sparsities"]]


def model_variants():
    """(method, sparsity label, model folder) of every model of a run: the dense model once
    (method "dense", shared by every method), then each method's tickets."""
    variants = [("dense", "0", "sparsity0")] if "0" in sparsity_labels() else []
    return variants + [
        (method, p, f"{method}/sparsity{p}")
        for method in config["grid"]["pruning_methods"]
        for p in sparsity_labels()
        if p != "0"
    ]


def dataset_models(dataset):
    """Every model of a dataset, arch x seed x (method, sparsity) in a fixed order: folder, key."""
    return [
        {
            "dir": MODEL_DIR.format(
                dataset=dataset, arch=arch, run=f"seed{seed}", model=model
            ),
            "key": {"arch": arch, "method": method, "sparsity": float(p), "seed": seed},
        }
        for arch in config["grid"]["archs"]
        for seed in config["grid"]["seeds"]
        for method, p, model in model_variants()
    ]


def model_dirs(dataset):
    return [model["dir"] for model in dataset_models(dataset)]


def attack_dir(model_dir, attack, n):
    """The folder of the job that runs ``attack`` on a model at n: run_attacks or, for the attacks
    that read reference models, reference_attacks. One folder per job keeps the DAG at one output
    per attack job (two files per attack made the paper grid's dry run 30% slower)."""
    return attack_folder(model_dir, n, attack in REFERENCE_ATTACKS)


def attack_file(model_dir, attack, n, kind):
    """``kind`` "record" (the metrics JSON) or "scores" (the per-row scores) of one result."""
    return getattr(result_files(attack_dir(model_dir, attack, n), attack), kind)


def grid_results():
    """(model dir, attack, n) of every attack result: reference attacks only where the model has
    reference models."""
    return [
        (model["dir"], attack, n)
        for dataset in config["datasets"]
        for model in dataset_models(dataset)
        for attack in config["grid"]["attacks"]
        if attack not in REFERENCE_ATTACKS or has_references(model["key"])
        for n in sample_counts(config, dataset)
    ]


def attack_results():
    """Every attack result's metrics JSON (what summarize reads)."""
    return [attack_file(*result, "record") for result in grid_results()]


def attack_dirs(results):
    """The attack jobs' folders that hold ``results`` ((model dir, attack, n) each), once each:
    a consumer's (unnamed) input, so that Snakemake runs those jobs first; the files themselves
    reach the step as params."""
    return list(dict.fromkeys(attack_dir(*result) for result in results))


def scored_dirs(models):
    """The attack folders of ``scored_models(...)``, once each (an unnamed input, as above)."""
    return list(dict.fromkeys(model["dir"] for model in models))


def transfer_attacks():
    """Transfer matrices for the configured attacks plus the one Figure 4 shows."""
    wanted = set(config["transfer"]["attacks"]) | {transfer_figure_attack()}
    return [attack for attack in config["grid"]["attacks"] if attack in wanted]


def transfer_figure_attack():
    """The attack of Figure 4: figures.attack, unless it reads reference models (then it has no
    single source model), in which case the first of transfer.attacks."""
    shown = config["figures"]["attack"]
    return shown if shown not in REFERENCE_ATTACKS else config["transfer"]["attacks"][0]


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
    sample count), each with its key: the inputs of Table 1 and Figures 5 and 6. Only the dense
    models and the tickets of the figures' pruning method (`figure_method`)."""
    return [
        {
            "path": attack_file(model["dir"], attack, n, "scores"),
            "dir": attack_dir(model["dir"], attack, n),
            "key": {
                "dataset": dataset,
                **model["key"],
                "attack": attack,
                "n_samples": n,
            },
        }
        for dataset in config["datasets"]
        for model in dataset_models(dataset)
        if model["key"]["method"] in ("dense", figure_method())
        for attack in attacks
        if attack not in REFERENCE_ATTACKS or has_references(model["key"])
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


def table_attacks():
    """Table 1's attacks: `figures.table_attacks`, else the figures' attack, then every reference
    attack and the loss threshold that the grid runs (the attacks the field trusts)."""
    chosen = config["figures"]["table_attacks"]
    if chosen is None:
        wanted = [config["figures"]["attack"], *REFERENCE_ATTACKS, "loss_threshold"]
        chosen = [a for a in dict.fromkeys(wanted) if a in config["grid"]["attacks"]]
    return chosen


def roc_attacks():
    """Figure 5's attacks: the figures' attack, the loss attack and LiRA (online), those of them
    the grid runs (LiRA on the models with reference models)."""
    wanted = [config["figures"]["attack"], "loss_threshold", "lira_online"]
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
        *figure_paths("fig_forest"),
        *figure_paths("fig5_roc_curves"),
        *figure_paths("fig6_gap_vs_auc"),
        *figure_paths("fig7_per_class"),
        *figure_paths("fig7_per_class_frequency"),
        f"{TABLES}/per_class.csv",
        f"{TABLES}/per_class.md",
        # Per-example exposure (rules/exposure.smk), per dataset.
        *[path for dataset in config["datasets"] for path in exposure_files(dataset)],
        # Every pruning method side by side, when the grid has several.
        *(
            figure_paths("fig_methods")
            if len(config["grid"]["pruning_methods"]) > 1
            else []
        ),
    ]


# Parameters that shape a result reach rules through `params:`, so Snakemake reruns what they change.
def train_settings(wildcards):
    return {
        "data": data_settings(config, wildcards.dataset),
        "model": config["model"],
        "training": training_settings(config, wildcards.dataset),
        **reference_settings(wildcards),
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
    shared = {
        k: v for k, v in supervised_attack_settings().items() if k not in ATTACK_NAMES
    }
    own = config["attack"].get(wildcards.attack, {})
    return {"attack": {**shared, wildcards.attack: own}}


# Read once: gpu_request runs for every training and export job of the DAG.
LOCAL_GPU = int(local_gpu_present())


def gpu_request(wildcards):
    """1 for training, ticket and export jobs that will use a GPU: on a cluster whenever the
    device is not `cpu`; locally only when the machine shows a GPU (its device files, read
    without importing torch), so that a CPU-only laptop still runs several trainings side by
    side under the default profile's `gpu: 1` limit. A plan (`make plan`) and a dry run are for
    the cluster: they execute locally, but their jobs are sized as SLURM would get them. The
    rules ask through `shared_gpu_request` (resources.smk), which gives a bundle of
    compute.trainings_per_gpu > 1 jobs one GPU in all.
    """
    device = training_settings(config, wildcards.dataset)["device"]
    if device == "cpu":
        return 0
    if (
        device == "auto"
        and workflow.local_exec
        and not workflow.dryrun
        and not planning()
    ):
        return LOCAL_GPU
    return 1


def model_key(wildcards):
    """Identity of the model a job works on: from {method} and {sparsity}, or from {model}
    (sparsity0 | <method>/sparsity<p>); the dense model's method is "dense". A reference's key
    names it and carries its own training seed (never a target's)."""
    kind, number = parse_run(wildcards.run)
    identity = (
        {"seed": number}
        if kind == "seed"
        else {
            "reference": number,
            "seed": reference_training_seed(number),
        }
    )
    method, sparsity = wildcards.get("method", "dense"), wildcards.get("sparsity", "0")
    if "model" in wildcards.keys() and wildcards.model != "sparsity0":
        method, folder = Path(wildcards.model).parts
        sparsity = folder.removeprefix("sparsity")
    return {
        "dataset": wildcards.dataset,
        "arch": wildcards.arch,
        **identity,
        "method": method,
        "sparsity": float(sparsity),
    }


# ---- Reference models (issue 10): K per dataset x arch x referenced sparsity, made like targets.
# A reference's params name only what decides its training rows (its index, the keep seed and the
# export's selection), never K: growing K trains the new references and reruns nothing else.
def reference_settings(wildcards):
    kind, number = parse_run(wildcards.run)
    if kind == "seed":
        return {}
    return {
        "reference": {
            "index": number,
            "keep_seed": config["attack"]["reference_seed"],
            **config["outputs"],
        }
    }


def has_references(key):
    """Whether the model with ``key`` (arch, method, sparsity) gets reference models and
    reference attacks: the dense models and the figures' pruning method, at the configured
    architectures and sparsities."""
    attack = config["attack"]
    archs, sparsities = attack["reference_archs"], attack["reference_sparsities"]
    arch, sparsity = key["arch"], key["sparsity"]
    return (
        attack["reference_models"] > 0
        and key["method"] in ("dense", figure_method())
        and (archs is None or arch in archs)
        and (sparsities is None or float(sparsity) in [float(p) for p in sparsities])
    )


def reference_output_paths(wildcards):
    """The K references' outputs of the target's architecture, method and sparsity."""
    outputs = f"{MODEL_DIR}/outputs.parquet"
    return [
        outputs.format(
            dataset=wildcards.dataset,
            arch=wildcards.arch,
            run=f"ref{k}",
            model=wildcards.model,
        )
        for k in range(config["attack"]["reference_models"])
    ]


def reference_statistics_input(wildcards):
    """The target's reference statistics, when the grid runs an attack that reads them (LiRA or
    RMIA; shadow_mlp reads the K references' outputs themselves)."""
    if not set(config["grid"]["attacks"]) & set(SCORE_REFERENCE_ATTACKS):
        return {}
    return {"statistics_path": REFERENCE_STATISTICS.format(**wildcards)}


def supervised_attack_settings():
    """What the attacks trained on one model's outputs read (the registry's settings keys): not
    the reference keys, so that changing K or LiRA's settings does not rerun them."""
    read = settings_read_by(PER_MODEL_ATTACKS)
    return {key: value for key, value in config["attack"].items() if key in read}


def reference_attack_settings():
    """What the reference attacks read (the registry's settings keys): the shared and reference
    keys and the MLP (shadow_mlp)."""
    read = settings_read_by(REFERENCE_ATTACKS)
    return {key: value for key, value in config["attack"].items() if key in read}


# --- Pruning methods (issue 11): what each method's mask and ticket start from --------------


def init_settings(wildcards):
    """What w0 depends on: the data (classes, channels, image size) and the model shape."""
    return {k: v for k, v in train_settings(wildcards).items() if k != "training"}


def figure_method():
    """The pruning method of Figures 1-3 and Table 1 (tickets vs their dense model): magnitude,
    the paper's, when the grid has it; every method is compared in the methods figure.
    """
    methods = config["grid"]["pruning_methods"]
    return "magnitude" if "magnitude" in methods else methods[0]


def dense_rewind_epoch(dataset):
    """k of `pruning.rewind` (0 = init: no weights to keep from the dense run)."""
    return rewind_epoch(
        config["pruning"]["rewind"], training_settings(config, dataset)["epochs"]
    )


def dense_rewind_outputs():
    """train_dense keeps w_k only when some ticket rewinds to it (default: nothing extra)."""
    rewinds = any(METHODS[m].rewinds for m in config["grid"]["pruning_methods"])
    if config["pruning"]["rewind"] == "init" or not rewinds:
        return {}
    return {"rewind_path": f"{DENSE_DIR}/rewind_epoch{config['pruning']['rewind']}.pt"}


def prune_inputs(wildcards):
    """magnitude, random, reinit: the trained dense model; imp round r > 1: the round r - 1
    ticket and its mask; snip, grasp, synflow: w0 only (no dense training)."""
    method = METHODS[wildcards.method]
    if method.needs_init:
        return {"init_path": INIT}
    inputs = {
        "dense_model_path": f"{DENSE_DIR}/model.pt",
        "dense_record_path": f"{DENSE_DIR}/train.json",
    }
    if method.chained:
        round_ = imp_round(float(wildcards.sparsity), config["pruning"]["imp_rate"])
        if round_ > 1:
            previous = TICKET_DIR.replace(
                "{sparsity}",
                canonical_sparsity(
                    imp_sparsity(config["pruning"]["imp_rate"], round_ - 1)
                ),
            )
            inputs["previous_model_path"] = f"{previous}/model.pt"
            inputs["previous_mask_path"] = f"{previous}/mask.pt"
    return inputs


def prune_settings(wildcards):
    """Only what this method's mask depends on, so tuning one method reruns no other."""
    method = METHODS[wildcards.method]
    pruning = config["pruning"]
    training = training_settings(config, wildcards.dataset)
    settings = {"exclude": pruning["exclude"]}
    settings.update({key: pruning[key] for key in method.settings})
    settings.update({key: training[key] for key in method.training_settings})
    if method.needs_init:
        settings.update(init_settings(wildcards))
    return settings


def ticket_inputs(wildcards):
    """The mask, and the weights the ticket starts from: w0, the dense run's w_k (rewinding
    methods with `pruning.rewind: k`), or none (reinit builds a fresh initialisation).
    """
    method = METHODS[wildcards.method]
    inputs = {"mask_path": f"{TICKET_DIR}/mask.pt"}
    if method.reinitialises:
        return inputs
    if method.rewinds and dense_rewind_epoch(wildcards.dataset):
        return {**inputs, "start_path": dense_rewind_outputs()["rewind_path"]}
    return {**inputs, "start_path": INIT}
