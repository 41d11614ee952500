# The config gate (before any job runs), path templates, wildcard constraints, and the names the
# rules call: the grid (lottery_mia.grid), the inputs per pruning method (lottery_mia.model_inputs)
# and the rules' params (lottery_mia.rule_params), each bound here to this run's config (the
# exposure rules' inputs, lottery_mia.exposure_grid, in rules/exposure_inputs.smk). Unit tests of
# them all: tests/unit/test_grid.py.
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow_scripts"))

from lottery_mia import exposure_grid, grid, model_inputs, rule_params
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
from lottery_mia.data import pool_sizes
from lottery_mia.data.pool_cache import cached_pool_sizes
from lottery_mia.grid import attack_dir, attack_dirs, scored_dirs
from lottery_mia.prune import METHODS
from lottery_mia.attack.registry import ATTACKS, REFERENCE_ATTACKS
from lottery_mia.reference_keep import RUN_PATTERN
from lottery_mia.resources import local_gpu_present, official_pool_sizes, planning
from lottery_mia.result_paths import (
    ATTACK_DIR,
    BENCHMARKS,
    CLASS_COUNTS,
    DENSE_DIR,
    FIGURES,
    INIT,
    LOGS,
    MODEL_DIR,
    REFERENCE_ATTACK_DIR,
    REFERENCE_KEEP,
    REFERENCE_STATISTICS,
    RESULTS,
    TABLES,
    TICKET_DIR,
)

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


# The grid of this config: its models, every result, the scores the figures read, the final
# targets (lottery_mia.grid), and what train_dense keeps for rewinding (lottery_mia.model_inputs).
dataset_models = partial(grid.dataset_models, config)
figure_method = partial(grid.figure_method, config)
grid_results = partial(grid.grid_results, config)
attack_results = partial(grid.attack_results, config)
scored_models = partial(grid.scored_models, config)
figure_sample_count = partial(grid.figure_sample_count, config)
figure2_sample_count = partial(grid.figure2_sample_count, config)
table_attacks = partial(grid.table_attacks, config)
roc_attacks = partial(grid.roc_attacks, config)
transfer_figure_attack = partial(grid.transfer_figure_attack, config)
final_targets = partial(grid.final_targets, config)
dense_rewind_epoch = partial(model_inputs.dense_rewind_epoch, config)
dense_rewind_outputs = partial(model_inputs.dense_rewind_outputs, config)
# Params that are the same for every job of a rule.
supervised_attack_settings = partial(rule_params.supervised_attack_settings, config)
reference_attack_settings = partial(rule_params.reference_attack_settings, config)
bootstrap_settings = partial(rule_params.bootstrap_settings, config)
figure_look = partial(rule_params.figure_look, config)


# Parameters that shape a result reach rules through `params:`, so Snakemake reruns what they
# change; each rule gets only the slice of the config its step reads (lottery_mia.rule_params).
def train_settings(wildcards):
    return rule_params.train_settings(config, wildcards.dataset, wildcards.run)


def export_settings(wildcards):
    return rule_params.export_settings(config, wildcards.dataset, wildcards.run)


def init_settings(wildcards):
    return rule_params.init_settings(config, wildcards.dataset, wildcards.run)


def prune_settings(wildcards):
    w = wildcards
    return rule_params.prune_settings(config, w.method, w.dataset, w.run)


def attack_settings(wildcards):
    return rule_params.attack_settings(config, wildcards.attack)


def model_key(wildcards):
    return rule_params.model_key(dict(wildcards.items()))


# Inputs that depend on the pruning method or the grid's attacks (lottery_mia.model_inputs).
def prune_inputs(wildcards):
    return model_inputs.prune_inputs(config, wildcards.method, wildcards.sparsity)


def ticket_inputs(wildcards):
    return model_inputs.ticket_inputs(config, wildcards.method, wildcards.dataset)


def reference_output_paths(wildcards):
    w = wildcards
    return model_inputs.reference_output_paths(config, w.dataset, w.arch, w.model)


def reference_statistics_input(wildcards):
    return model_inputs.reference_statistics_input(config, dict(wildcards.items()))


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
