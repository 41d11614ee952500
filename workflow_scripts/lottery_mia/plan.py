"""What a config costs before a single job runs: jobs, GPU- and CPU-hours, memory, disk.

Everything is counted from the jobs of the DAG Snakemake builds (``plan_dag``), never from the
grid re-derived here. Per job:

- ``GPU-hours requested``: the job's ``runtime`` request (first attempt, minutes / 60) times its
  GPUs, as the SLURM profile evaluates it: the throughput table's compute time times
  ``resources.SAFETY`` plus ``resources.STARTUP_MINUTES``. What SLURM is asked to hold.
- ``GPU-hours at table rates``: the compute time alone at the throughput table's rate
  (``resources.train_seconds`` / ``export_seconds``), without margin or start-up: the table's
  own prediction of the GPU time used. A figure resting on an ``estimated`` rate says so.
- ``CPU-hours requested``: runtime request times threads, over the jobs without a GPU that go to
  SLURM (``localrules`` jobs run on the submitting machine and request nothing). GPU jobs hold
  ``cpus_per_gpu`` CPUs besides and are counted in GPU-hours only.
- Shared GPUs (``compute.trainings_per_gpu`` = G > 1): the training and export jobs of up to G
  models share one GPU, each running ``compute.sharing_slowdown`` (S) times slower than alone
  (rules/resources.smk). GPU-hours are counted per allocation (``gpu_allocations``): a bundle
  holds one GPU for its longest member, whose runtime request already carries S and whose
  table-rate time gets it here. A bundle short of G members (a stage of fewer models than G, or
  the last bundle of one) costs a whole allocation.

Stages: ``dense`` (w0 and dense training of the targets), ``tickets`` (masks and ticket
training), ``references`` (everything that builds reference models and their keep matrix),
``export`` (the targets' outputs), ``attacks`` (attack, reference-statistics and transfer jobs)
and ``figures`` (summary, figures, Table 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lottery_mia.config import export_queries, training_settings
from lottery_mia.plan_dag import SKIPPED_CHECKS, PlannedJob
from lottery_mia.plan_disk import disk_by_kind
from lottery_mia.resources import RATES, export_seconds, rate, train_seconds

STAGES = ("dense", "tickets", "references", "export", "attacks", "figures")
TRAINING_RULES = frozenset({"train_dense", "train_ticket"})
RATED_RULES = TRAINING_RULES | {"export_outputs"}
#: Rules whose jobs share a GPU when compute.trainings_per_gpu > 1 (rules/resources.smk).
SHARED_GPU_RULES = RATED_RULES
_STAGE_OF_RULE = {
    "initialise": "dense",
    "train_dense": "dense",
    "prune": "tickets",
    "train_ticket": "tickets",
    "export_outputs": "export",
    "reference_keep": "references",
    "run_attacks": "attacks",
    "reference_statistics": "attacks",
    "reference_attacks": "attacks",
    "transfer": "attacks",
}


def stage_of(job: PlannedJob) -> str:
    """The stage a job belongs to; any job of a reference model (run ref<k>) is ``references``."""
    if job.wildcards.get("run", "").startswith("ref"):
        return "references"
    return _STAGE_OF_RULE.get(job.rule, "figures")


def device_of(job: PlannedJob) -> str:
    """The throughput table's device of a training or export job: ``cuda`` with a GPU."""
    return "cuda" if job.gpus else "cpu"


def jobs_per_rule(jobs: Sequence[PlannedJob]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.rule] = counts.get(job.rule, 0) + 1
    return dict(sorted(counts.items()))


def table_rate_seconds(job: PlannedJob, config: Mapping[str, Any]) -> float:
    """Compute seconds of a training or export job at the table's rate (0 for other rules)."""
    if job.rule not in RATED_RULES:
        return 0.0
    dataset, arch = job.dataset, job.wildcards["arch"]
    width = config["model"]["width"]
    workers = config["datasets"][dataset].get("workers", 0) or 0
    if job.rule == "export_outputs":
        queries = export_queries(config, dataset)
        return export_seconds(device_of(job), dataset, arch, width, workers, queries)
    training = training_settings(config, dataset)
    max_samples = training.get("metrics_max_samples")
    return train_seconds(
        device_of(job), dataset, arch, width, training["epochs"], max_samples, workers
    )


@dataclass(frozen=True)
class RateUse:
    """One row of the throughput table that the plan's figures rest on."""

    device: str
    dataset: str
    arch: str
    train_images_per_second: float
    infer_images_per_second: float
    kind: str  # measured | published | estimated
    source: str
    capped_by_jpeg_decoding: bool

    @property
    def estimated(self) -> bool:
        """Whether a figure from this rate rests on an estimate (the JPEG cap is one too)."""
        return self.kind == "estimated" or self.capped_by_jpeg_decoding


def rate_use(job: PlannedJob, config: Mapping[str, Any]) -> RateUse:
    dataset, arch, device = job.dataset, job.wildcards["arch"], device_of(job)
    width = config["model"]["width"]
    workers = config["datasets"][dataset].get("workers", 0) or 0
    used = rate(device, dataset, arch, width, workers)
    table = RATES[(device, dataset, arch)]
    slowdown = max(1.0, (width / table.width) ** 2)
    capped = used.train < table.train / slowdown or used.infer < table.infer / slowdown
    return RateUse(device, dataset, arch, used.train, used.infer, used.kind, used.source, capped)


def rates_used(jobs: Sequence[PlannedJob], config: Mapping[str, Any]) -> list[RateUse]:
    """Each (device, dataset, arch) rate behind a training or export job, once."""
    seen: dict[tuple[str, str, str], RateUse] = {}
    for job in jobs:
        if job.rule in RATED_RULES:
            key = (device_of(job), job.dataset, job.wildcards["arch"])
            if key not in seen:
                seen[key] = rate_use(job, config)
    return list(seen.values())


def gpu_allocations(jobs: Sequence[PlannedJob]) -> list[list[int]]:
    """The GPU jobs (indices into ``jobs``) as SLURM holds GPUs for them: each job alone, except
    the training (or the export) jobs of one bundle of models that share a GPU (one job group and
    rule), which run side by side in one allocation. Snakemake's group job stacks a bundle's
    layers (its trainings, then its exports) and holds each for its longest member, so a bundle of
    one rule is one allocation whatever its number of members: a bundle short of G costs as much
    as a full one."""
    allocations: dict[tuple[object, ...], list[int]] = {}
    for index, job in enumerate(jobs):
        if not job.gpus or job.local:
            continue
        bundled = job.group is not None and job.rule in SHARED_GPU_RULES
        key = (job.group, job.rule) if bundled else (index,)
        allocations.setdefault(key, []).append(index)
    return list(allocations.values())


def gpu_hours_requested(allocation: Sequence[PlannedJob]) -> float:
    """GPU-hours SLURM is asked to hold for one allocation (``gpu_allocations``): its longest
    member's GPUs x runtime request. A member of a bundle asks for its runtime alone x S already
    (``resources.shared_minutes``)."""
    return max(job.gpus * job.runtime_minutes for job in allocation) / 60


def gpu_hours_at_table_rates(allocation: Sequence[PlannedJob], config: Mapping[str, Any]) -> float:
    """GPU-hours of one allocation's compute time at the table's rates: its longest member's,
    times the contention factor S (``compute.sharing_slowdown``) when members share the GPU."""
    hours = max(job.gpus * table_rate_seconds(job, config) for job in allocation) / 3600
    return hours * config["compute"]["sharing_slowdown"] if len(allocation) > 1 else hours


def gpu_hour_shares(
    jobs: Sequence[PlannedJob], config: Mapping[str, Any]
) -> list[tuple[float, float]]:
    """(GPU-hours requested, at table rates) of each job: a job alone has its allocation's, the
    members of a bundle share theirs equally (a bundle may hold models of several stages, such as
    a target and its references). Jobs without a GPU have none."""
    shares = [(0.0, 0.0)] * len(jobs)
    for allocation in gpu_allocations(jobs):
        members = [jobs[index] for index in allocation]
        requested = gpu_hours_requested(members) / len(members)
        at_table_rates = gpu_hours_at_table_rates(members, config) / len(members)
        for index in allocation:
            shares[index] = (requested, at_table_rates)
    return shares


@dataclass(frozen=True)
class StageHours:
    """GPU- and CPU-hours of one dataset and stage (see the module's note for each figure)."""

    dataset: str
    stage: str
    jobs: int
    gpu_jobs: int
    gpu_hours_requested: float
    gpu_hours_at_table_rates: float
    cpu_hours_requested: float
    rate_kinds: tuple[str, ...]  # the kinds of the rates behind the GPU figures
    estimated: bool  # a GPU figure rests on an estimated rate (or the JPEG-decoding cap)


def hours_by_dataset_stage(
    jobs: Sequence[PlannedJob], config: Mapping[str, Any]
) -> list[StageHours]:
    """One ``StageHours`` per dataset and stage that has jobs, datasets in config order."""
    datasets = [*config["datasets"], "all"]
    shares = gpu_hour_shares(jobs, config)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, job in enumerate(jobs):
        groups.setdefault((job.dataset, stage_of(job)), []).append(index)
    ordered = sorted(groups, key=lambda key: (datasets.index(key[0]), STAGES.index(key[1])))
    return [
        _stage_hours(key, [jobs[i] for i in groups[key]], [shares[i] for i in groups[key]], config)
        for key in ordered
    ]


def _stage_hours(
    key: tuple[str, str],
    jobs: Sequence[PlannedJob],
    gpu_shares: Sequence[tuple[float, float]],
    config: Mapping[str, Any],
) -> StageHours:
    gpu_jobs = [job for job in jobs if job.gpus and not job.local]
    cpu_jobs = [job for job in jobs if not job.gpus and not job.local]
    rates = [rate_use(job, config) for job in gpu_jobs if job.rule in RATED_RULES]
    return StageHours(
        dataset=key[0],
        stage=key[1],
        jobs=len(jobs),
        gpu_jobs=len(gpu_jobs),
        gpu_hours_requested=sum(requested for requested, _ in gpu_shares),
        gpu_hours_at_table_rates=sum(at_table_rates for _, at_table_rates in gpu_shares),
        cpu_hours_requested=sum(job.threads * job.runtime_minutes for job in cpu_jobs) / 60,
        rate_kinds=tuple(sorted({r.kind for r in rates})),
        estimated=any(r.estimated for r in rates),
    )


def _peak_per_rule(
    jobs: Sequence[PlannedJob], request: Callable[[PlannedJob], int]
) -> dict[str, int]:
    peaks: dict[str, int] = {}
    for job in jobs:
        peaks[job.rule] = max(peaks.get(job.rule, 0), request(job))
    return dict(sorted(peaks.items()))


def peak_memory_per_rule(jobs: Sequence[PlannedJob]) -> dict[str, int]:
    """The largest first-attempt ``mem_mb`` any job of each rule requests."""
    return _peak_per_rule(jobs, lambda job: job.mem_mb)


def peak_runtime_per_rule(jobs: Sequence[PlannedJob]) -> dict[str, int]:
    """The longest first-attempt ``runtime`` (minutes) any job of each rule requests: what to
    hold against the cluster's largest time limit."""
    return _peak_per_rule(jobs, lambda job: job.runtime_minutes)


@dataclass(frozen=True)
class CostPlan:
    """The cost side of ``make plan``: every number of the printed tables."""

    jobs_per_rule: dict[str, int]
    hours: list[StageHours]
    peak_mem_mb: dict[str, int]
    peak_runtime_minutes: dict[str, int]
    disk_bytes: dict[str, int]
    rates: list[RateUse]
    skipped_checks: tuple[str, ...]
    local_rules: tuple[str, ...]  # run on the submitting machine (`localrules`)
    trainings_per_gpu: int = 1  # compute.trainings_per_gpu: G jobs share one GPU
    sharing_slowdown: float = 1.0  # compute.sharing_slowdown, applied when G > 1

    @property
    def total_jobs(self) -> int:
        return sum(self.jobs_per_rule.values())

    def total(self, figure: str) -> float:
        return sum(getattr(row, figure) for row in self.hours)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_jobs": self.total_jobs,
            "jobs_per_rule": self.jobs_per_rule,
            "hours": [asdict(row) for row in self.hours],
            "total_gpu_hours_requested": self.total("gpu_hours_requested"),
            "total_gpu_hours_at_table_rates": self.total("gpu_hours_at_table_rates"),
            "total_cpu_hours_requested": self.total("cpu_hours_requested"),
            "peak_mem_mb_per_rule": self.peak_mem_mb,
            "peak_runtime_minutes_per_rule": self.peak_runtime_minutes,
            "disk_bytes": self.disk_bytes,
            "total_disk_bytes": sum(self.disk_bytes.values()),
            "rates": [asdict(r) for r in self.rates],
            "skipped_checks": list(self.skipped_checks),
            "local_rules": list(self.local_rules),
            "trainings_per_gpu": self.trainings_per_gpu,
            "sharing_slowdown": self.sharing_slowdown,
        }


def cost_plan(jobs: Sequence[PlannedJob], config: Mapping[str, Any]) -> CostPlan:
    return CostPlan(
        jobs_per_rule=jobs_per_rule(jobs),
        hours=hours_by_dataset_stage(jobs, config),
        peak_mem_mb=peak_memory_per_rule(jobs),
        peak_runtime_minutes=peak_runtime_per_rule(jobs),
        disk_bytes=disk_by_kind(jobs, config),
        rates=rates_used(jobs, config),
        skipped_checks=SKIPPED_CHECKS,
        local_rules=tuple(sorted({job.rule for job in jobs if job.local})),
        trainings_per_gpu=config["compute"]["trainings_per_gpu"],
        sharing_slowdown=config["compute"]["sharing_slowdown"],
    )
