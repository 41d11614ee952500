"""Disk the results of a plan take, from shapes alone (no file, no torch): per job of the DAG, the
files its rule writes, sized from the datasets' official pool shapes, the model's parameter count
and the config.

Sizes are raw bytes of the stored values (float32 weights, float32 logits, float64 statistics)
plus a small fixed amount per file; parquet compresses little of them (logits are noisy floats).
Epoch checkpoints (weights + momentum) exist only while a training job runs and are not counted;
nor are logs, figures and tables (kilobytes to a few megabytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lottery_mia.architectures import LAYOUTS
from lottery_mia.attack.registry import REFERENCE_ATTACKS, SCORE_REFERENCE_ATTACKS
from lottery_mia.config import export_queries, sample_counts
from lottery_mia.plan_dag import PlannedJob
from lottery_mia.prune import METHODS
from lottery_mia.resources import DATASETS
from lottery_mia.selection import samples_per_pool

#: Inputs up to this side get the 3x3 stem without max-pool (as ``models.SMALL_IMAGE_MAX_SIZE``).
SMALL_IMAGE_MAX_SIZE = 64
#: torch.save's zip record per tensor (about 310 bytes in the demo's init.pt and model.pt files),
#: and a small file's own size (a JSON record, a parquet footer).
TENSOR_OVERHEAD_BYTES = 310
FILE_OVERHEAD_BYTES = 4_000
#: One exported row besides its logits: sample_id, label, loss, member, pool, correct and
#: attack_eval after parquet's encoding (about 30 bytes in the demo's outputs.parquet files).
OUTPUT_ROW_BYTES = 30
#: One scored row of an attack (keys, member, label, score, prediction) after parquet's encoding,
#: and a scores file's footer (about 20 and 2,000 bytes in the demo's files).
SCORE_ROW_BYTES = 20
SCORE_FILE_BYTES = 2_000
#: One metrics JSON record, and one cell of a transfer matrix with its intervals (the demo's).
RECORD_BYTES = 1_600
TRANSFER_CELL_BYTES = 200


@dataclass(frozen=True)
class StateShape:
    """What a model's state dict holds: float values, tensors, and the prunable weights."""

    values: int
    tensors: int
    prunable_weights: int
    prunable_tensors: int


def _conv(inputs: int, outputs: int, kernel: int) -> int:
    return inputs * outputs * kernel * kernel


def _batchnorm(channels: int) -> tuple[int, int]:
    """(values, tensors): weight, bias, running mean and var, and num_batches_tracked."""
    return 4 * channels + 1, 5


def _block_convs(kind: str, inputs: int, planes: int, stride: int) -> list[tuple[int, int]]:
    """(weights, output channels) of each conv of one torchvision block, shortcut included."""
    expansion = 4 if kind == "bottleneck" else 1
    if kind == "basic":
        convs = [(_conv(inputs, planes, 3), planes), (_conv(planes, planes, 3), planes)]
    else:
        convs = [
            (_conv(inputs, planes, 1), planes),
            (_conv(planes, planes, 3), planes),
            (_conv(planes, planes * expansion, 1), planes * expansion),
        ]
    if stride != 1 or inputs != planes * expansion:
        convs.append((_conv(inputs, planes * expansion, 1), planes * expansion))
    return convs


def state_shape(arch: str, width: int, classes: int, channels: int, side: int) -> StateShape:
    """The state dict of ``models.ScalableResNet`` counted without building it: every conv (each
    followed by a BatchNorm), the classifier and its bias."""
    kind, stages = LAYOUTS[arch]
    stem = 3 if side <= SMALL_IMAGE_MAX_SIZE else 7
    convs = [(_conv(channels, width, stem), width)]
    inputs = width
    for stage, blocks in enumerate(stages):
        planes = width * 2**stage
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            convs += _block_convs(kind, inputs, planes, stride)
            inputs = planes * (4 if kind == "bottleneck" else 1)
    fc_weights = inputs * classes
    conv_weights = sum(weights for weights, _ in convs)
    norms = [_batchnorm(out) for _, out in convs]
    values = conv_weights + fc_weights + classes + sum(v for v, _ in norms)
    tensors = len(convs) + 2 + sum(t for _, t in norms)
    return StateShape(values, tensors, conv_weights + fc_weights, len(convs) + 1)


def _model_shape(config: Mapping[str, Any], dataset: str, arch: str) -> StateShape:
    pools = DATASETS[dataset]
    side = int(config["datasets"][dataset].get("image_size") or pools.side)
    width = config["model"]["width"]
    return state_shape(arch, width, pools.classes, pools.channels, side)


def _state_bytes(shape: StateShape) -> int:
    return 4 * shape.values + TENSOR_OVERHEAD_BYTES * shape.tensors


def exported_rows(config: Mapping[str, Any], dataset: str) -> int:
    """Rows of one outputs.parquet: ``per_pool`` members and as many non-members."""
    pools = DATASETS[dataset]
    return 2 * samples_per_pool(pools.train, pools.test, config["outputs"]["max_per_pool"])


def job_bytes(job: PlannedJob, config: Mapping[str, Any]) -> int:
    """Bytes of the files ``job`` leaves in results/ (0 for the rules not counted)."""
    dataset = job.wildcards.get("dataset")
    if dataset is None or job.rule not in _RULE_BYTES:
        return 0
    return _RULE_BYTES[job.rule](job, config, dataset)


def _weights(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """init.pt or model.pt (+ train.json); a dense job may keep w_k for rewinding too."""
    state = _state_bytes(_model_shape(config, dataset, job.wildcards["arch"]))
    rewinds = (
        job.rule == "train_dense"
        and config["pruning"]["rewind"] != "init"
        and any(METHODS[m].rewinds for m in config["grid"]["pruning_methods"])
    )
    return state * (2 if rewinds else 1) + (FILE_OVERHEAD_BYTES if job.rule != "initialise" else 0)


def _mask(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """mask.pt: one bool per prunable weight."""
    shape = _model_shape(config, dataset, job.wildcards["arch"])
    return shape.prunable_weights + TENSOR_OVERHEAD_BYTES * shape.prunable_tensors


def _outputs(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """outputs.parquet: float32 logits per query (2 with the mirror images) and the row's keys."""
    per_row = 4 * DATASETS[dataset].classes * export_queries(config, dataset) + OUTPUT_ROW_BYTES
    return exported_rows(config, dataset) * per_row + FILE_OVERHEAD_BYTES


def _reference_keep(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """reference_keep.parquet: one bool per reference and exported row."""
    return config["attack"]["reference_models"] * exported_rows(config, dataset)


def _reference_statistics(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """reference_statistics.npz on every exported row: the target's phi (per query) and log p in
    float64, the K references' in float32, and the K x rows keep matrix."""
    references = config["attack"]["reference_models"]
    values = export_queries(config, dataset) + 1
    per_row = 8 * values + references * (4 * values + 1)
    return exported_rows(config, dataset) * per_row + FILE_OVERHEAD_BYTES


def scored_rows(config: Mapping[str, Any], dataset: str, attack: str, eval_size: int) -> int:
    """Rows one model is scored on: the evaluation rows, or for LiRA and RMIA every exported row
    outside the largest sample count's attack-training rows
    (``reference_scoring.reference_attack_rows``), which ``eval_size`` does not change."""
    if attack in SCORE_REFERENCE_ATTACKS:
        return exported_rows(config, dataset) - max(sample_counts(config, dataset))
    return eval_size


def _attack_folder(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """One scores parquet and one metrics JSON per attack the job runs."""
    reference = job.rule == "reference_attacks"
    attacks = [a for a in config["grid"]["attacks"] if (a in REFERENCE_ATTACKS) == reference]
    eval_size = config["attack"]["eval_size"]
    return sum(
        scored_rows(config, dataset, attack, eval_size) * SCORE_ROW_BYTES
        + SCORE_FILE_BYTES
        + RECORD_BYTES
        for attack in attacks
    )


def _transfer(job: PlannedJob, config: Mapping[str, Any], dataset: str) -> int:
    """A models x models matrix of a few metrics."""
    grid = config["grid"]
    variants = 1 + len(grid["pruning_methods"]) * (len(grid["sparsities"]) - 1)
    models = len(grid["archs"]) * len(grid["seeds"]) * variants
    return models * models * TRANSFER_CELL_BYTES + FILE_OVERHEAD_BYTES


_RULE_BYTES = {
    "initialise": _weights,
    "train_dense": _weights,
    "train_ticket": _weights,
    "prune": _mask,
    "export_outputs": _outputs,
    "reference_keep": _reference_keep,
    "reference_statistics": _reference_statistics,
    "run_attacks": _attack_folder,
    "reference_attacks": _attack_folder,
    "transfer": _transfer,
}

#: What each counted rule writes, for the plan's table.
DISK_KINDS = {
    "initialise": "checkpoints",
    "train_dense": "checkpoints",
    "train_ticket": "checkpoints",
    "prune": "checkpoints",
    "export_outputs": "outputs parquet",
    "reference_keep": "reference statistics",
    "reference_statistics": "reference statistics",
    "run_attacks": "attack scores",
    "reference_attacks": "attack scores",
    "transfer": "attack scores",
}


def disk_by_kind(jobs: Sequence[PlannedJob], config: Mapping[str, Any]) -> dict[str, int]:
    """Bytes per kind of result (``DISK_KINDS``) over every job of the plan."""
    totals = dict.fromkeys(dict.fromkeys(DISK_KINDS.values()), 0)
    for job in jobs:
        if job.rule in DISK_KINDS:
            totals[DISK_KINDS[job.rule]] += job_bytes(job, config)
    return totals
