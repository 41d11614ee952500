"""`snakemake --profile slurm` on a real single-node SLURM cluster.

tests/slurm/start-local-slurm.sh brings up munged, slurmctld and slurmd on 127.0.0.1 (installing
Debian's packages when missing) with two partitions for this test, ``cpu`` and ``gpu``, besides
the default ``debug``, and fake GPUs. The tiny grid then runs in a copy of what a fresh clone
holds, through the command users are told to type, ``snakemake --profile slurm`` (the top-level
``slurm`` links to profiles/slurm), plus tests/slurm/profile-overlay. The checks read what
SLURM itself recorded (``scontrol show job``) and what each training job saw in its own
environment, not what Snakemake meant to submit. A dry run, without the cluster, checks that
``--profile slurm`` and ``--profile profiles/slurm`` plan the same jobs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, relative_files, write_config

START_SCRIPT = REPO / "tests" / "slurm" / "start-local-slurm.sh"
STOP_SCRIPT = REPO / "tests" / "slurm" / "stop-local-slurm.sh"
SLURM_BASE = Path(os.environ.get("LMIA_SLURM_BASE", "/tmp/lottery-mia-slurm"))
#: Exit statuses of the start script that mean "this machine cannot host the cluster".
START_CANNOT_RUN = {3: "Debian's SLURM packages could not be installed", 4: "foreign SLURM"}
#: The default partition comes first; jobs land in cpu/gpu only if the profile asked for them.
PARTITIONS = ("debug", "cpu", "gpu")
CPU_PARTITION, GPU_PARTITION = "cpu", "gpu"
#: Pid files (relative to SLURM_BASE) of the daemons the start script runs.
DAEMON_PID_FILES = {
    "munged": "munge/run/munged.pid",
    "slurmctld": "run/slurmctld.pid",
    "slurmd": "run/slurmd.pid",
}
#: The profile as users name it (the top-level link) and as its path in the repository.
PROFILE_NAME, PROFILE_PATH = "slurm", "profiles/slurm"
GPU_RULES = {"train_dense", "train_ticket", "export_outputs"}
TRAINING_RULES = {"train_dense", "train_ticket"}
#: Rules whose every job must run on the cluster (run_attacks only inside group jobs).
CLUSTER_RULES = {*GPU_RULES, "initialise", "prune", "transfer", "run_attacks"}
#: Attack bundles are the rules' own groups attacks_<k> (compute.attacks_per_job, default 4).
ATTACK_GROUP = "attacks"
ATTACK_BUNDLE = re.compile(rf"^{ATTACK_GROUP}_\d+$")
ATTACKS_PER_JOB = 4
#: The profile's request of one attack job (set-resources: run_attacks).
ATTACK_MB, ATTACK_MINUTES = 8000, 120
RUN_TIMEOUT_S = 1800
SIGINT_GRACE_S = 90


def user_environment(config_home: Path) -> dict[str, str]:
    """A user's shell after the README's set-up: the venv's ``snakemake`` first on PATH (as after
    ``source .venv/bin/activate``), the test partitions, and no profile of the user's own:
    ``config_home`` stands for an empty ~/.config, so only the repository can resolve a name."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LMIA_SLURM_") and key != "SNAKEMAKE_PROFILE"
    }
    environment.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        XDG_CONFIG_HOME=str(config_home),
        LMIA_SLURM_PARTITION=CPU_PARTITION,
        LMIA_SLURM_GPU_PARTITION=GPU_PARTITION,
        PYTHONHASHSEED="0",
    )
    return environment


@dataclass(frozen=True)
class LocalSlurm:
    """A running loopback cluster and the environment that reaches it."""

    slurm_conf: Path

    def environment(self, config_home: Path) -> dict[str, str]:
        """A user's environment (``user_environment``) pointed at this cluster."""
        return {**user_environment(config_home), "SLURM_CONF": str(self.slurm_conf)}


def _process_alive(pid_file: Path, name: str) -> bool:
    """The pid file names a running process called ``name`` (not a zombie, not a recycled pid)."""
    try:
        pid = int(pid_file.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return False
    return comm.startswith(name) and state != "Z"


def _daemons_running(base: Path) -> bool:
    return all(_process_alive(base / path, name) for name, path in DAEMON_PID_FILES.items())


def _reason_cluster_cannot_start() -> str | None:
    """Why this machine cannot host the test cluster, or None when it can (or may, via apt)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root on Linux to run munged, slurmctld and slurmd"
    installed = all(shutil.which(tool) for tool in ("munged", "slurmctld", "slurmd", "sbatch"))
    if not installed and shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install Debian's packages"
    return None


@pytest.fixture(scope="session")
def local_slurm() -> Iterator[LocalSlurm]:
    """Start the loopback cluster (idempotent); stop it afterwards only if this session started it."""
    reason = _reason_cluster_cannot_start()
    if reason:
        pytest.skip(reason)
    environment = {
        **os.environ,
        "LMIA_SLURM_BASE": str(SLURM_BASE),
        "LMIA_SLURM_PARTITIONS": " ".join(PARTITIONS),
        "LMIA_SLURM_GPUS": "2",
    }
    started_here = not _daemons_running(SLURM_BASE)
    start = subprocess.run(
        ["bash", str(START_SCRIPT)], env=environment, capture_output=True, text=True, timeout=900
    )
    if start.returncode in START_CANNOT_RUN:
        pytest.skip(f"{START_CANNOT_RUN[start.returncode]}: {start.stderr.strip()[-1500:]}")
    assert start.returncode == 0, f"{START_SCRIPT.name} failed:\n{start.stderr}"
    try:
        yield LocalSlurm(slurm_conf=SLURM_BASE / "etc" / "slurm.conf")
    finally:
        if started_here:
            subprocess.run(["bash", str(STOP_SCRIPT)], env=environment, timeout=300, check=False)


def copy_fresh_clone(destination: Path) -> Path:
    """What a clone of this checkout holds once committed: tracked files and new files git does
    not ignore, symlinks kept as symlinks (as git stores them), no caches, venv or results. The
    run happens there, so it cannot touch the repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the working tree, not yet committed
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return destination


@dataclass(frozen=True)
class SnakemakeRun:
    returncode: int
    log: str
    seconds: float


def run_snakemake_interruptible(
    command: list[str], workdir: Path, environment: dict[str, str], log_path: Path
) -> SnakemakeRun:
    """Run Snakemake; past RUN_TIMEOUT_S stop it with SIGINT, which (unlike SIGTERM) makes the
    SLURM executor cancel its jobs and return instead of waiting for them."""
    started = time.monotonic()
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=workdir, env=environment, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            returncode = process.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=SIGINT_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            returncode = -signal.SIGINT
    return SnakemakeRun(returncode, log_path.read_text(), time.monotonic() - started)


@dataclass(frozen=True)
class PlannedJob:
    """One job block of Snakemake's log: ``rule X:`` (submitted) or ``localrule X:`` (local)."""

    jobid: str
    rule: str
    local: bool
    group: str | None


JOB_HEADER = re.compile(r"^(?P<indent>\s*)(?P<kind>localrule|rule) (?P<rule>\w+):$")
JOB_ID = re.compile(r"^\s*jobid: (?P<jobid>\d+)$")
GROUP_HEADER = re.compile(r"Group job (?P<group>\w+) \(jobs in lexicogr\. order\):$")
SUBMITTED = re.compile(
    r"^Job (?P<jobid>\S+) has been submitted with SLURM jobid (?P<slurm_id>\d+) "
    r"\(log: (?P<log>.+)\)\.$"
)


def parse_planned_jobs(log: str) -> list[PlannedJob]:
    """Job blocks in the order Snakemake started them; indented blocks belong to the group above."""
    jobs: list[PlannedJob] = []
    header: re.Match[str] | None = None
    group: str | None = None
    for line in log.splitlines():
        if match := GROUP_HEADER.search(line):
            group = match["group"]
        elif match := JOB_HEADER.match(line):
            header = match
            if not match["indent"]:
                group = None
        elif (match := JOB_ID.match(line)) and header is not None:
            jobs.append(
                PlannedJob(
                    jobid=match["jobid"],
                    rule=header["rule"],
                    local=header["kind"] == "localrule",
                    group=group if header["indent"] else None,
                )
            )
            header = None
    return jobs


def parse_submissions(log: str) -> dict[str, tuple[str, str]]:
    """Snakemake job id (a uuid for group jobs) -> (SLURM job id, SLURM log path)."""
    return {
        match["jobid"]: (match["slurm_id"], match["log"])
        for line in log.splitlines()
        if (match := SUBMITTED.match(line.strip()))
    }


GPU_TRES = re.compile(r"gres[:/]gpu(?::[\w.]+)?[:=](?P<count>\d+)")


def gpu_tres_count(tres: str | None) -> int:
    """The GPU count in a TRES string of ``scontrol show job``: ``gres:gpu:1`` (SLURM 22.05),
    ``gres/gpu:1`` or ``gres/gpu=1`` (later releases), with an optional GPU type; 0 without GPUs."""
    match = GPU_TRES.search(tres or "")
    return int(match["count"]) if match else 0


def scontrol_job(slurm_id: str, environment: dict[str, str]) -> dict[str, str]:
    """SLURM's own record of a job (kept for MinJobAge=3600 s after it ends)."""
    result = subprocess.run(
        ["scontrol", "--oneliner", "show", "job", slurm_id],
        env=environment, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return dict(re.findall(r"(\w+)=(\S*)", result.stdout))


@pytest.mark.slurm
@pytest.mark.workflow
@pytest.mark.slow
def test_tiny_grid_runs_through_the_slurm_profile(
    local_slurm: LocalSlurm, tiny_run: Path, tmp_path: Path
) -> None:
    workdir = copy_fresh_clone(tmp_path / "clone")
    environment = local_slurm.environment(config_home=tmp_path / "config")
    # The documented command, typed in the clone's root; the overlay only adapts it to this cluster.
    command = [
        "snakemake",
        "--profile", PROFILE_NAME,
        "--profile", "tests/slurm/profile-overlay",
        "--configfile", str(TINY_CONFIG.relative_to(REPO)),
    ]  # fmt: skip
    run = run_snakemake_interruptible(command, workdir, environment, tmp_path / "snakemake.log")
    assert run.returncode == 0, f"snakemake on SLURM failed ({run.returncode}):\n{run.log[-8000:]}"

    planned = parse_planned_jobs(run.log)
    submissions = parse_submissions(run.log)
    print(f"\nSLURM run: {len(submissions)} SLURM jobs, {run.seconds:.0f} s wall time")

    # Every job outside a group that Snakemake did not run locally was submitted to SLURM ...
    single_jobs = [job for job in planned if job.group is None and not job.local]
    unsubmitted = [job for job in single_jobs if job.jobid not in submissions]
    assert not unsubmitted, f"jobs never submitted to SLURM: {unsubmitted}"
    # ... the cluster rules never ran on the submitting machine ...
    local_rules = {job.rule for job in planned if job.local and job.group is None}
    assert not local_rules & CLUSTER_RULES, f"cluster rules ran locally: {local_rules}"
    assert {job.rule for job in planned} >= CLUSTER_RULES, "the tiny grid lost a stage"
    # ... and the attacks went out bundled: fewer group jobs than attacks, each one submitted.
    attacks = [job for job in planned if job.rule == "run_attacks"]
    assert all(ATTACK_BUNDLE.match(job.group or "") for job in attacks), "an attack ran alone"
    group_submissions = {
        slurm_id: log for slurm_id, log in submissions.values() if f"/group_{ATTACK_GROUP}_" in log
    }
    group_headers = len(re.findall(rf"Group job {ATTACK_GROUP}_\d+ \(", run.log))
    assert len(group_submissions) == group_headers == math.ceil(len(attacks) / ATTACKS_PER_JOB)

    # SLURM's record of each job: finished, in the partition the profile chose, with a GPU
    # exactly for the GPU rules. Comment carries the rule name (rule_<name>_wildcards_...).
    singles = {job.jobid: job for job in single_jobs}
    rule_of_slurm_job: dict[str, str] = {}
    for jobid, (slurm_id, _) in submissions.items():
        record = scontrol_job(slurm_id, environment)
        rule = singles[jobid].rule if jobid in singles else "run_attacks"
        rule_of_slurm_job[slurm_id] = rule
        assert record["JobState"] == "COMPLETED", (rule, record)
        assert record["Comment"].startswith(f"rule_{rule if jobid in singles else ATTACK_GROUP}")
        if rule in GPU_RULES:
            assert record["Partition"] == GPU_PARTITION, (rule, record)
            assert gpu_tres_count(record.get("TresPerJob")) == 1, (rule, record)
            assert gpu_tres_count(record.get("CpusPerTres")) == 4, (rule, record)
        else:
            assert record["Partition"] == CPU_PARTITION, (rule, record)
            assert gpu_tres_count(record.get("TresPerJob")) == 0, (rule, record)

    # Inside the job, SLURM handed the training process a GPU (CUDA_VISIBLE_DEVICES; the
    # device falls back to the CPU where no CUDA stands behind it) and its own job id.
    training_jobs = {job for job, rule in rule_of_slurm_job.items() if rule in TRAINING_RULES}
    seen_by_training: set[str] = set()
    for record_path in sorted((workdir / "results").rglob("sparsity*/train.json")):
        device = json.loads(record_path.read_text())["device"]
        assert device.get("CUDA_VISIBLE_DEVICES"), (record_path, device)
        seen_by_training.add(device["SLURM_JOB_ID"])
    assert seen_by_training == training_jobs

    # Each attack bundle is one allocation whose members run side by side, as many at once as
    # the submitting machine's cores (profiles/default: cores: all) allow: it asks for their
    # summed CPUs and memory and for the runtimes of its rounds added up, so -t covers them.
    check_attack_bundles(workdir, group_submissions, environment)

    # The same files as the local run of the same configuration, logs and benchmarks included,
    # and every table byte for byte.
    assert relative_files(workdir, skip=()) == relative_files(tiny_run, skip=())
    tables = {
        name: digest for name, digest in model_files(workdir).items() if name.endswith(".parquet")
    }
    local = {
        name: digest for name, digest in model_files(tiny_run).items() if name.endswith(".parquet")
    }
    assert tables == local


STAMP = re.compile(r"^\[(?P<stamp>\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
FINISHED = re.compile(r"^Finished jobid: (?P<jobid>\d+) \(Rule: (?P<rule>\w+)\)$")


def jobs_inside_allocation(slurm_log: str) -> dict[str, tuple[float, float]]:
    """Benchmark file -> (start, end) of every job the Snakemake inside an allocation ran itself
    (``localrule`` blocks after ``Provided cores``, ended by the first ``Finished jobid``), from
    the allocation's SLURM log: when each member of a bundle ran, to the second."""
    lines = slurm_log.splitlines()
    inner = next(i for i, line in enumerate(lines) if line.startswith("Provided cores:"))
    stamp = 0.0
    started: dict[str, tuple[str, float]] = {}  # jobid -> (benchmark, start)
    spans: dict[str, tuple[float, float]] = {}
    block: dict[str, str] | None = None
    for line in lines[inner:]:
        if match := STAMP.match(line.strip()):
            stamp = time.mktime(time.strptime(match["stamp"], "%a %b %d %H:%M:%S %Y"))
        elif line.startswith("localrule "):
            block = {"start": str(stamp)}
        elif block is not None and (match := JOB_ID.match(line)):
            block["jobid"] = match["jobid"]
        elif block is not None and line.strip().startswith("benchmark: "):
            started[block["jobid"]] = (line.split(": ", 1)[1], float(block["start"]))
            block = None
        elif (match := FINISHED.match(line.strip())) and match["jobid"] in started:
            benchmark, begin = started.pop(match["jobid"])
            spans[benchmark] = (begin, stamp)
    return spans


def check_attack_bundles(
    workdir: Path, group_submissions: dict[str, str], environment: dict[str, str]
) -> None:
    """Every attack bundle's allocation: its members and when they ran (the allocation's own
    SLURM log), and its request as SLURM recorded it."""
    from snakemake.utils import available_cpu_count

    benchmarks = workdir / "results" / "benchmarks" / "run_attacks"
    attacks = {str(path.relative_to(workdir)) for path in benchmarks.rglob("*.tsv")}
    seen: set[str] = set()
    for slurm_id, slurm_log in group_submissions.items():
        record = scontrol_job(slurm_id, environment)
        spans = jobs_inside_allocation(Path(slurm_log).read_text())
        assert 0 < len(spans) <= ATTACKS_PER_JOB and set(spans) <= attacks, (slurm_id, spans)
        assert not seen & set(spans), "an attack job ran in two allocations"
        seen.update(spans)
        width = min(len(spans), available_cpu_count())
        rounds = math.ceil(len(spans) / width)
        at_once = most_at_once(list(spans.values()))
        print(
            f"attack bundle {slurm_id}: {len(spans)} jobs, NumCPUs={record['NumCPUs']}, "
            f"MinMemoryNode={record['MinMemoryNode']}, TimeLimit={record['TimeLimit']}, "
            f"at most {at_once} at once: {sorted(spans.values())}"
        )
        assert int(record["NumCPUs"]) == width, record
        assert record["MinMemoryNode"] == f"{width * ATTACK_MB}M", record
        assert minutes(record["TimeLimit"]) == rounds * ATTACK_MINUTES, record
        assert at_once == width, spans
    assert seen == attacks, "an attack job ran outside the bundles' allocations"


# ---- Small trainings share a GPU (compute.trainings_per_gpu = G, docs/slurm.md).
#: Reference models are K more trainings per target: the grid where bundling pays most.
TINY_REFERENCES = REPO / "tests" / "configs" / "tiny_references.yaml"
#: 5 dense models (the target and K = 4 references) and 1 ticket, each trained and exported:
#: 12 GPU jobs at G = 1; at G = 4 bundles of dense models (4 + 1) and of tickets (1).
SHARED_G = 4
#: The submitting machine must let a bundle's members run side by side (Snakemake sizes a group
#: by the members that fit in --cores at once): G trainings x 1 thread (the overlay's).
SHARED_CORES = SHARED_G
#: schema default of compute.sharing_slowdown
SHARING_SLOWDOWN = 2.0
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def allocation_kind(slurm_log: str) -> str:
    """``rule_<rule>`` or ``group_<group id>_<rules>`` from a SLURM log path of the plugin."""
    folder = slurm_log.split("/slurm_logs/", 1)[1].split("/", 1)[0]
    return folder


def gpu_allocations(submissions: dict[str, tuple[str, str]]) -> dict[str, str]:
    """SLURM job id -> kind, for the allocations that ran training or export jobs: one per job
    (``rule_train_dense``, ...) or one per bundle (``group_gpu_<dataset>_<arch>_<stage>_<n>...``)."""
    kinds = {slurm_id: allocation_kind(log) for slurm_id, log in submissions.values()}
    return {
        slurm_id: kind
        for slurm_id, kind in kinds.items()
        if kind.startswith("group_gpu_") or kind.removeprefix("rule_") in GPU_RULES
    }


def minutes(limit: str) -> int:
    """SLURM's TimeLimit (``[D-]HH:MM:SS``) in minutes."""
    days, _, clock = limit.rpartition("-")
    hours, mins, secs = (int(part) for part in clock.split(":"))
    return (int(days or 0) * 24 + hours) * 60 + mins + math.ceil(secs / 60)


def log_interval(path: Path) -> tuple[float, float]:
    """First and last timestamp of a rule's log (lottery_mia.logs): when the job ran."""
    stamps = [
        time.mktime(time.strptime(match[1].split(",")[0], "%Y-%m-%d %H:%M:%S"))
        + int(match[1].split(",")[1]) / 1000
        for line in path.read_text().splitlines()
        if (match := LOG_TIME.match(line))
    ]
    return min(stamps), max(stamps)


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of ``intervals`` that share one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = best = 0
    for _, step in events:
        running += step
        best = max(best, running)
    return best


def _digest(value: object, digest: hashlib._Hash) -> None:
    """Feed a loaded checkpoint's content (tensors by dtype, shape and bytes) into ``digest``."""
    import torch

    if isinstance(value, dict):
        for key in sorted(value, key=str):
            digest.update(repr(key).encode())
            _digest(value[key], digest)
    elif isinstance(value, list | tuple):
        for item in value:
            _digest(item, digest)
    elif torch.is_tensor(value):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
        raw = tensor.view(torch.int16) if tensor.dtype == torch.bfloat16 else tensor
        digest.update(raw.numpy().tobytes())
    else:
        digest.update(repr(value).encode())


def model_files(root: Path) -> dict[str, str]:
    """sha256 of every parquet table (outputs, scores, summary) under results/, byte for byte,
    and of the content of every saved model and mask (torch.save writes a random serialization
    id into each file, so two saves of equal tensors differ in bytes)."""
    import torch

    hashes = {}
    for path in sorted((root / "results").rglob("*")):
        if path.suffix == ".parquet":
            hashes[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.suffix == ".pt" and "checkpoint" not in path.name:
            digest = hashlib.sha256()
            _digest(torch.load(path, map_location="cpu", weights_only=False), digest)
            hashes[str(path.relative_to(root))] = digest.hexdigest()
    return hashes


def run_shared(
    local_slurm: LocalSlurm, tmp_path: Path, trainings_per_gpu: int
) -> tuple[Path, SnakemakeRun, dict[str, dict[str, str]]]:
    """The reference grid on the cluster with G = ``trainings_per_gpu``: its clone, its run and
    SLURM's record of every allocation that trained or exported."""
    workdir = copy_fresh_clone(tmp_path / f"g{trainings_per_gpu}")
    environment = local_slurm.environment(config_home=tmp_path / "config")
    config = write_config(
        workdir / f"g{trainings_per_gpu}.yaml",
        base=TINY_REFERENCES,
        compute={"trainings_per_gpu": trainings_per_gpu},
    )
    command = [
        "snakemake",
        "--profile", PROFILE_NAME,
        "--profile", "tests/slurm/profile-overlay",
        "--configfile", config.name,
        "--cores", str(SHARED_CORES),
    ]  # fmt: skip
    log = tmp_path / f"snakemake_g{trainings_per_gpu}.log"
    run = run_snakemake_interruptible(command, workdir, environment, log)
    assert run.returncode == 0, (
        f"G = {trainings_per_gpu} failed ({run.returncode}):\n{run.log[-8000:]}"
    )
    allocations = gpu_allocations(parse_submissions(run.log))
    records = {slurm_id: scontrol_job(slurm_id, environment) for slurm_id in allocations}
    for slurm_id, record in records.items():
        record["kind"] = allocations[slurm_id]
        assert record["JobState"] == "COMPLETED", record
        assert record["Partition"] == GPU_PARTITION, record
        assert gpu_tres_count(record.get("TresPerJob")) == 1, record
    return workdir, run, records


def planned_gpu_hours(config: Path) -> float:
    """GPU-hours requested by ``make plan`` for ``config`` (its DAG under profiles/slurm)."""
    from lottery_mia.plan import cost_plan
    from lottery_mia.plan_dag import planned_workflow

    workflow = planned_workflow(config)
    return cost_plan(workflow.jobs, workflow.config).total("gpu_hours_requested")


@pytest.mark.slurm
@pytest.mark.workflow
@pytest.mark.slow
def test_trainings_share_one_gpu_per_bundle_with_the_same_results(
    local_slurm: LocalSlurm, tmp_path: Path
) -> None:
    single_dir, single_run, single = run_shared(local_slurm, tmp_path, 1)
    shared_dir, shared_run, shared = run_shared(local_slurm, tmp_path, SHARED_G)
    print(
        f"\nG = 1: {len(single)} training/export allocations, {single_run.seconds:.0f} s; "
        f"G = {SHARED_G}: {len(shared)} allocations, {shared_run.seconds:.0f} s"
    )

    # G = 1: one allocation per job, as without the key; G = 4: only bundles, a quarter as many.
    assert not [kind for kind in map(lambda r: r["kind"], single.values()) if "group" in kind]
    assert len(single) == 12
    assert all(record["kind"].startswith("group_gpu_") for record in shared.values())
    assert len(shared) == 3 == len(single) // SHARED_G

    # Each bundle: one GPU (checked above), 4 CPUs and the memory of one job per member, and its
    # slowest members' runtimes (one training, then one export) x the contention factor.
    def alone(rule: str) -> tuple[int, int]:
        (record,) = {
            (minutes(r["TimeLimit"]), int(r["MinMemoryNode"].rstrip("M")))
            for r in single.values()
            if r["kind"] == f"rule_{rule}"
        }
        return record

    train_minutes, job_mb = alone("train_dense")
    export_minutes, _ = alone("export_outputs")
    expected_limit = math.ceil(train_minutes * SHARING_SLOWDOWN) + math.ceil(
        export_minutes * SHARING_SLOWDOWN
    )
    members: dict[str, list[Path]] = {slurm_id: [] for slurm_id in shared}
    for record_path in sorted((shared_dir / "results").rglob("train.json")):
        slurm_id = json.loads(record_path.read_text())["device"]["SLURM_JOB_ID"]
        members[slurm_id].append(record_path.parent)
    assert sorted(len(models) for models in members.values()) == [1, 1, 4]
    for slurm_id, record in shared.items():
        count = len(members[slurm_id])
        assert gpu_tres_count(record.get("CpusPerTres")) == 4 * count, record
        assert record["MinMemoryNode"] == f"{count * job_mb}M", record
        assert minutes(record["TimeLimit"]) == expected_limit, record

    # `make plan` counts what SLURM was asked for: one GPU for each allocation's time limit.
    for workdir, records, g in ((single_dir, single, 1), (shared_dir, shared, SHARED_G)):
        asked = sum(minutes(record["TimeLimit"]) for record in records.values()) / 60
        assert planned_gpu_hours(workdir / f"g{g}.yaml") == pytest.approx(asked), records

    # Members of a bundle ran side by side in its allocation: their training logs overlap (as
    # many at once as the node's real cores allow; the test node may have only 2).
    logs = shared_dir / "results" / "logs" / "train_dense"
    (bundle,) = [models for models in members.values() if len(models) == SHARED_G]
    intervals = [
        log_interval(logs / f"digits_resnet18_{model.parent.name}.log") for model in bundle
    ]
    at_once = most_at_once(intervals)
    print(f"G = {SHARED_G}: at most {at_once} trainings of one bundle at once, {intervals}")
    assert at_once >= min(2, os.cpu_count() or 1)

    # The same results: every table byte for byte, every model and mask tensor for tensor, and
    # the same files.
    assert model_files(shared_dir) == model_files(single_dir)
    assert relative_files(shared_dir, skip=()) == relative_files(single_dir, skip=())


SETTING_KEYS = ("wildcards", "threads", "resources")
JOB_SETTING = re.compile(rf"^\s+(?P<key>{'|'.join(SETTING_KEYS)}): (?P<value>.*)$")


def planned_job_settings(log: str) -> list[tuple[str, ...]]:
    """Rule, group, wildcards, threads and resources of every job a dry run printed, sorted (the
    order of independent jobs is not part of the plan)."""
    settings: dict[str, dict[str, str]] = {}
    for line in log.splitlines():
        if match := JOB_ID.match(line):
            settings[match["jobid"]] = {}
        elif (match := JOB_SETTING.match(line)) and settings:
            settings[next(reversed(settings))][match["key"]] = match["value"]
    jobs = {job.jobid: job for job in parse_planned_jobs(log)}
    return sorted(
        (jobs[jobid].rule, jobs[jobid].group or "", *(found.get(key, "") for key in SETTING_KEYS))
        for jobid, found in settings.items()
    )


@pytest.mark.workflow
def test_profile_name_slurm_plans_what_the_path_profiles_slurm_plans(tmp_path: Path) -> None:
    """From a fresh clone's root, ``--profile slurm`` resolves to the repository's profile and
    plans the same jobs, groups, threads and SLURM resources as ``--profile profiles/slurm``."""
    workdir = copy_fresh_clone(tmp_path / "clone")
    environment = user_environment(config_home=tmp_path / "config")
    plans = {}
    for profile in (PROFILE_NAME, PROFILE_PATH):
        command = [
            "snakemake",
            "-n",
            "--profile",
            profile,
            "--configfile",
            "tests/configs/tiny.yaml",
        ]
        result = subprocess.run(
            command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=300
        )
        log = result.stdout + result.stderr
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{log[-4000:]}"
        assert f"Using profiles {profile} and workflow specific profile profiles/default" in log
        plans[profile] = planned_job_settings(log)
    assert plans[PROFILE_NAME] == plans[PROFILE_PATH]
    # The plan is the SLURM profile's: its partitions, GPU requests and attack groups.
    rules = {rule: resources for rule, _, _, _, resources in plans[PROFILE_NAME]}
    assert set(rules) >= CLUSTER_RULES, "the tiny grid lost a stage"
    for rule in CLUSTER_RULES:
        partition = GPU_PARTITION if rule in GPU_RULES else CPU_PARTITION
        assert f"slurm_partition={partition}" in rules[rule], (rule, rules[rule])
        assert ("cpus_per_gpu=4" in rules[rule]) == (rule in GPU_RULES), (rule, rules[rule])
    groups = [group for rule, group, *_ in plans[PROFILE_NAME] if rule == "run_attacks"]
    assert all(ATTACK_BUNDLE.match(group) for group in groups), groups
    assert len(set(groups)) == math.ceil(len(groups) / ATTACKS_PER_JOB)


# The parsers above decide what the SLURM test checks; these excerpts are real log lines.
SNAKEMAKE_LOG = """\
[Sat Nov 28 17:58:01 2026]
rule train_dense:
    output: results/digits/resnet18/seed0/init.pt
    jobid: 4
    threads: 1
Job 4 has been submitted with SLURM jobid 41 (log: /w/.snakemake/slurm_logs/rule_train_dense/digits_resnet18_0/41.log).
[Sat Nov 28 17:59:10 2026] Group job attacks (jobs in lexicogr. order):

    [Sat Nov 28 17:59:10 2026]
    rule run_attacks:
        jobid: 9
    [Sat Nov 28 17:59:10 2026]
    rule run_attacks:
        jobid: 12
Job 490957d5-37f9-5a0a-a6d6-ddc081a03981 has been submitted with SLURM jobid 51 (log: /w/.snakemake/slurm_logs/group_attacks_run_attacks/51.log).
[Sat Nov 28 17:59:10 2026]
rule transfer:
    jobid: 16
[Sat Nov 28 18:01:00 2026]
localrule summarize:
    jobid: 1
"""


def test_log_parser_tells_submitted_grouped_and_local_jobs_apart() -> None:
    assert parse_planned_jobs(SNAKEMAKE_LOG) == [
        PlannedJob(jobid="4", rule="train_dense", local=False, group=None),
        PlannedJob(jobid="9", rule="run_attacks", local=False, group="attacks"),
        PlannedJob(jobid="12", rule="run_attacks", local=False, group="attacks"),
        PlannedJob(jobid="16", rule="transfer", local=False, group=None),
        PlannedJob(jobid="1", rule="summarize", local=True, group=None),
    ]
    submissions = parse_submissions(SNAKEMAKE_LOG)
    assert {jobid: slurm_id for jobid, (slurm_id, _) in submissions.items()} == {
        "4": "41",
        "490957d5-37f9-5a0a-a6d6-ddc081a03981": "51",
    }
    assert submissions["4"][1].endswith("/rule_train_dense/digits_resnet18_0/41.log")


@pytest.mark.parametrize(
    ("tres", "count"),
    [
        ("gres:gpu:1", 1),
        ("gres/gpu:2", 2),
        ("gres/gpu=1", 1),
        ("gres:gpu:a100:4", 4),
        ("cpu=2,mem=8000M", 0),
        (None, 0),
    ],
)
def test_gpu_tres_count_reads_every_slurm_spelling(tres: str | None, count: int) -> None:
    assert gpu_tres_count(tres) == count


# Excerpt of an attack bundle's SLURM log (the loopback cluster, 2 real cores): the Snakemake
# inside the allocation runs the members itself, two at a time.
ALLOCATION_LOG = """\
[Sat Dec  5 12:00:51 2026] Group job attacks_0 (jobs in lexicogr. order):

    [Sat Dec  5 12:00:51 2026]
    rule run_attacks:
        jobid: 0
        benchmark: results/benchmarks/run_attacks/a.tsv
Provided cores: 2
Select jobs to execute...
Execute 2 jobs...

[Sat Dec  5 12:00:52 2026]
localrule run_attacks:
    jobid: 3
    benchmark: results/benchmarks/run_attacks/c.tsv
[Sat Dec  5 12:00:52 2026]
localrule run_attacks:
    jobid: 1
    benchmark: results/benchmarks/run_attacks/b.tsv
Select jobs to execute...
[Sat Dec  5 12:00:55 2026]
Finished jobid: 1 (Rule: run_attacks)
Execute 1 jobs...

[Sat Dec  5 12:00:55 2026]
localrule run_attacks:
    jobid: 0
    benchmark: results/benchmarks/run_attacks/a.tsv
[Sat Dec  5 12:00:55 2026]
Finished jobid: 3 (Rule: run_attacks)
[Sat Dec  5 12:00:58 2026]
Finished jobid: 0 (Rule: run_attacks)
[Sat Dec  5 12:00:59 2026]
Finished jobid: 3 (Rule: run_attacks)
"""


def test_allocation_log_parser_reads_when_each_member_ran() -> None:
    spans = jobs_inside_allocation(ALLOCATION_LOG)
    start = time.mktime(time.strptime("Sat Dec  5 12:00:52 2026", "%a %b %d %H:%M:%S %Y"))
    assert {
        Path(name).stem: (begin - start, end - start) for name, (begin, end) in spans.items()
    } == {
        "c": (0, 3),
        "b": (0, 3),
        "a": (3, 6),
    }
    assert most_at_once(list(spans.values())) == 2
