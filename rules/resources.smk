# Cluster resources from measured or published throughput (lottery_mia/resources.py), one small
# function per resource. A retry gets `attempt` times as much and resumes from the epoch
# checkpoint. Locally Snakemake only enforces what `--resources` limits.
from lottery_mia import attack_cost
from lottery_mia import resources as throughput


def _device_kind(wildcards):
    return "cuda" if gpu_request(wildcards) else "cpu"


def _workers(dataset):
    return config["datasets"][dataset].get("workers", 0) or 0


# ---- Small trainings share a GPU (compute.trainings_per_gpu = G > 1; docs/slurm.md).
# On a cluster the training and export jobs of up to G models go to SLURM as one job group (a
# bundle): one allocation with one GPU, G x the members' CPUs and memory (Snakemake adds up the
# requests of members that run side by side), and the slowest member's runtime x the contention
# factor compute.sharing_slowdown. G = 1: no groups, every job its own allocation, as before.
TRAININGS_PER_GPU = config["compute"]["trainings_per_gpu"]
SHARING_SLOWDOWN = config["compute"]["sharing_slowdown"]
GPU_BUNDLES = throughput.GpuBundles(TRAININGS_PER_GPU)


def _gpu_bundle_place(wildcards):
    """(group id, slot) of the model of a training or export job. A stage holds models that
    never wait for each other through a job outside the group: dense models (targets and
    references), tickets, and each round of a chained method (IMP round r prunes round r - 1).
    """
    key = model_key(wildcards)
    method = key["method"]
    if method == "dense":
        stage = "dense"
    elif METHODS[method].chained:
        stage = f"{method}_{canonical_sparsity(key['sparsity'])}".replace(".", "p")
    else:
        stage = "tickets"
    model = (wildcards.dataset, wildcards.arch, wildcards.run, method, key["sparsity"])
    return GPU_BUNDLES.place(f"gpu_{wildcards.dataset}_{wildcards.arch}_{stage}", model)


def _bundle(group, size):
    """Return `group`, a bundle of up to `size` jobs (`group:` of its members). Snakemake bundles
    a group's unconnected parts only up to --group-components, which the profile cannot know and
    which cluster jobs are not passed: set it here for every bundle (before Snakemake reads it,
    after the groups). The SLURM plugin passes neither --groups nor --group-components to the
    Snakemake inside an allocation, which runs the members of a profile-made group one after the
    other; a rule's own `group:` it sees, and runs the bundle's members side by side."""
    settings = workflow.group_settings
    if settings.group_components.get(group) != size:
        settings.group_components = {**settings.group_components, group: size}
    return group


def gpu_bundle(wildcards):
    """`group:` of training and export jobs when G > 1."""
    group, _ = _gpu_bundle_place(wildcards)
    return _bundle(group, TRAININGS_PER_GPU)


GPU_GROUP = gpu_bundle if TRAININGS_PER_GPU > 1 else None


# ---- Attack jobs go to SLURM in bundles (compute.attacks_per_job = A > 1; docs/slurm.md).
# A grid has one run_attacks job per model and sample count, hundreds at paper scale and seconds
# to minutes each: A of them are one allocation, which asks for the sum of the CPUs and memory of
# the members that run side by side and for the runtimes of its rounds added up (one round when
# --cores holds all A). Local runs have no groups.
ATTACKS_PER_JOB = config["compute"]["attacks_per_job"]
ATTACK_BUNDLES = throughput.AttackBundles(ATTACKS_PER_JOB)


def attack_bundle(wildcards):
    """`group:` of run_attacks jobs when A > 1: `attacks_<k>`, filled in the order Snakemake asks."""
    member = (
        wildcards.dataset,
        wildcards.arch,
        wildcards.run,
        wildcards.model,
        wildcards.n,
    )
    group, _ = ATTACK_BUNDLES.place("attacks", member)
    return _bundle(group, ATTACKS_PER_JOB)


ATTACK_GROUP = attack_bundle if ATTACKS_PER_JOB > 1 else None


def shared_gpu_request(wildcards):
    """`gpu` of training and export jobs: `gpu_request` (common.smk), except that in a bundle
    only the first model's jobs ask for the GPU, so that the bundle's sum is one GPU (and the
    members, under profiles/default's `gpu: 1`, run side by side in its allocation). Local runs,
    dry runs and plans have no bundles."""
    gpus = gpu_request(wildcards)
    in_bundle = workflow.non_local_exec or workflow.remote_exec
    if not gpus or TRAININGS_PER_GPU == 1 or planning() or not in_bundle:
        return gpus
    _, slot = _gpu_bundle_place(wildcards)
    return gpus if slot == 0 else 0


def _shared(minutes):
    return (
        minutes
        if TRAININGS_PER_GPU == 1
        else throughput.shared_minutes(minutes, SHARING_SLOWDOWN)
    )


def train_runtime(wildcards, attempt):
    """Minutes of a dense or ticket training job (sbatch -t); x sharing_slowdown when G > 1."""
    return _shared(_train_minutes(wildcards, attempt))


def _train_minutes(wildcards, attempt):
    training = training_settings(config, wildcards.dataset)
    return throughput.train_minutes(
        _device_kind(wildcards),
        wildcards.dataset,
        wildcards.arch,
        config["model"]["width"],
        training["epochs"],
        training.get("metrics_max_samples"),
        _workers(wildcards.dataset),
        attempt,
    )


def export_runtime(wildcards, attempt):
    """Minutes of an output export job; x sharing_slowdown when G > 1."""
    return _shared(_export_minutes(wildcards, attempt))


def _export_minutes(wildcards, attempt):
    return throughput.export_minutes(
        _device_kind(wildcards),
        wildcards.dataset,
        wildcards.arch,
        config["model"]["width"],
        _workers(wildcards.dataset),
        attempt,
        export_queries(config, wildcards.dataset),
    )


def torch_mem_mb(wildcards, attempt):
    """Host memory of a training, ticket or export job."""
    return throughput.train_mem_mb(
        wildcards.dataset, _workers(wildcards.dataset), attempt
    )


def transfer_mem_mb(wildcards, attempt):
    """Memory of a transfer job: n training rows of one model at a time and the evaluation rows
    it keeps, at most TRANSFER_EVAL_CACHE_MB (benchmarks/transfer_memory.py)."""
    rows = int(wildcards.n) + config["attack"]["eval_size"]
    cache_mb = throughput.TRANSFER_EVAL_CACHE_MB
    return throughput.attack_fit_mem_mb(wildcards.dataset, rows, attempt, cache_mb)


def reference_mem_mb(wildcards, attempt):
    """Memory of a reference statistics or attack job: the target's exported rows (with their
    mirror images) at the attack rate; the K references are streamed one block at a time.
    """
    pools = throughput.DATASETS[wildcards.dataset]
    rows = 2 * min(pools.train, pools.test) * export_queries(config, wildcards.dataset)
    return throughput.attack_fit_mem_mb(wildcards.dataset, rows, attempt)


# ---- Attack and transfer time limits grow with the rows they fit (lottery_mia/attack_cost.py):
# an SVM on ImageNet's 98,000 rows of 1,000 probabilities takes hours, not the 2 h the profile
# used to ask for every attack job.
def _attack_features(dataset):
    attack = config["attack"]
    if attack["features"] == "sorted_topk":
        return attack["top_k"]
    return throughput.DATASETS[dataset].classes


def _attack_job_minutes(job_rule, references, wildcards, attempt):
    return attack_cost.attack_minutes(
        job_rule,
        rule_params.job_attacks(config, references),
        int(wildcards.n),
        _attack_features(wildcards.dataset),
        attempt,
        config["attack"]["mlp"]["max_iter"],
    )


def attack_runtime(wildcards, attempt):
    """Minutes of a run_attacks job: its classifiers' fits on n rows."""
    return _attack_job_minutes("run_attacks", False, wildcards, attempt)


def reference_attack_runtime(wildcards, attempt):
    """Minutes of a reference_attacks job: the shadow MLP's fit on n rows (LiRA, RMIA: none)."""
    return _attack_job_minutes("reference_attacks", True, wildcards, attempt)


def transfer_runtime(wildcards, attempt):
    """Minutes of a transfer job: one fit per model of the dataset, every pair bootstrapped."""
    return attack_cost.transfer_minutes(
        wildcards.attack,
        len(dataset_models(wildcards.dataset)),
        int(wildcards.n),
        _attack_features(wildcards.dataset),
        config["attack"]["eval_size"],
        attempt,
        config["attack"]["mlp"]["max_iter"],
    )
