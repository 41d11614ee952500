# Cluster resources from measured or published throughput (lottery_mia/resources.py), one small
# function per resource. A retry gets `attempt` times as much and resumes from the epoch
# checkpoint. Locally Snakemake only enforces what `--resources` limits.
from lottery_mia import resources as throughput


def _device_kind(wildcards):
    return "cuda" if gpu_request(wildcards) else "cpu"


def _workers(dataset):
    return config["datasets"][dataset].get("workers", 0) or 0


def train_runtime(wildcards, attempt):
    """Minutes of a dense or ticket training job (sbatch -t)."""
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
    """Minutes of an output export job."""
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
