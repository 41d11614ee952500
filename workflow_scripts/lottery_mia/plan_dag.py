"""The DAG Snakemake builds for a config, read through Snakemake's Python API (``make plan``).

The workflow is parsed and its DAG built exactly as ``snakemake --profile profiles/slurm -n``
does (the profile's resource expressions, the rules' job groups), in an empty working
directory with every job forced, so the plan is the whole grid whatever ``results/`` already
holds. Each job is read with its rule, wildcards and first-attempt resources. The config gate
runs as in any run, but in planning mode (``resources.PLANNING_ENV``): pool sizes are the
datasets' official ones and no data is read. Imports Snakemake, never torch.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lottery_mia.resources import PLANNING_ENV

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"
SLURM_PROFILE = REPO / "profiles" / "slurm"
#: Cores Snakemake may give one job: a cluster node's, not this machine's (Snakemake caps every
#: job's threads at --cores, which profiles/default sets to the local core count).
PLAN_CORES = 64
#: What planning mode does not check, said with every plan.
SKIPPED_CHECKS = (
    "data on disk: each dataset's root, files and layout are not read (the run checks them)",
    "pool sizes: the official sizes (resources.DATASETS) stand in for the counted ones, so a "
    "config that subsamples a dataset (digits' test_fraction, a partial ImageNet) is checked "
    "against the full pools",
)


@dataclass(frozen=True)
class PlannedJob:
    """One job of the DAG with what it asks SLURM for on its first attempt."""

    rule: str
    wildcards: Mapping[str, str]
    gpus: int
    threads: int
    runtime_minutes: int
    mem_mb: int
    local: bool  # a `localrules` job: runs on the submitting machine, asks SLURM for nothing
    group: str | None = None  # the job group (a bundle of jobs in one SLURM allocation)

    @property
    def dataset(self) -> str:
        """The job's dataset, or ``all`` for jobs across datasets (summary, figures)."""
        return self.wildcards.get("dataset", "all")


@dataclass(frozen=True)
class WorkflowPlan:
    """The jobs of a config's DAG, its validated config, and Table 1's scores keys and pruning
    method (the table job's params)."""

    jobs: tuple[PlannedJob, ...]
    config: Mapping[str, Any]
    table1_keys: tuple[Mapping[str, Any], ...] = field(default=())
    table1_method: str = "magnitude"


class PlanError(RuntimeError):
    """Snakemake could not parse the workflow or build its DAG; the message is its own."""


def planned_workflow(
    configfile: Path, snakefile: Path = SNAKEFILE, profile: Path = SLURM_PROFILE
) -> WorkflowPlan:
    """The DAG of ``configfile`` (every job, as with ``-F``) under ``profile``. The config
    gate's ``ConfigError`` propagates unchanged; other Snakemake failures raise ``PlanError``."""
    from lottery_mia.config import ConfigError

    with _planning_mode(), tempfile.TemporaryDirectory() as workdir, _kept_cwd():
        args = _profile_args(configfile.resolve(), snakefile, profile)
        try:
            workflow = _dry_run(args, Path(workdir))
        except ConfigError:
            raise
        except Exception as err:  # Snakemake's WorkflowError, SyntaxError in a rule, ...
            raise PlanError(str(err)) from err
        return _read_plan(workflow)


@contextlib.contextmanager
def _planning_mode() -> Iterator[None]:
    previous = os.environ.get(PLANNING_ENV)
    os.environ[PLANNING_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[PLANNING_ENV]
        else:
            os.environ[PLANNING_ENV] = previous


@contextlib.contextmanager
def _kept_cwd() -> Iterator[None]:
    """Snakemake's workflow API changes into its working directory; come back afterwards."""
    cwd = Path.cwd()
    try:
        yield
    finally:
        os.chdir(cwd)


def _profile_args(configfile: Path, snakefile: Path, profile: Path) -> Any:
    """Snakemake's own command-line parsing of ``-n --profile <profile>``: the profile's
    set-resources, default-resources, set-threads and groups, as a run would read them."""
    from snakemake import cli

    argv = ["--snakefile", str(snakefile), "--profile", str(profile), "-n"]
    with contextlib.redirect_stderr(io.StringIO()):  # "Using profiles ..." is no plan's business
        _, args = cli.parse_args([*argv, "--configfile", str(configfile)])
    return args


def _dry_run(args: Any, workdir: Path) -> Any:
    """Build the DAG with ``forceall`` and run it through the dry-run executor, validated against
    the profile's executor; returns Snakemake's ``Workflow`` holding the DAG."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings import types

    resource_settings = types.ResourceSettings(
        cores=PLAN_CORES,
        nodes=args.jobs,
        resources=args.resources,
        overwrite_threads=args.set_threads,
        overwrite_resources=args.set_resources,
        overwrite_resource_scopes=args.set_resource_scopes,
        default_resources=args.default_resources,
    )
    quiet = types.OutputSettings(quiet={types.Quietness.ALL})
    with SnakemakeApi(quiet) as api:
        workflow_api = api.workflow(
            resource_settings=resource_settings,
            config_settings=types.ConfigSettings(configfiles=args.configfile),
            snakefile=args.snakefile,
            workdir=workdir,
        )
        dag_api = workflow_api.dag(types.DAGSettings(forceall=True))
        dag_api.execute_workflow(
            executor=args.executor,
            pseudo_executor="dryrun",
            execution_settings=types.ExecutionSettings(lock=False),
            group_settings=types.GroupSettings(
                group_components=args.group_components, overwrite_groups=args.groups
            ),
        )
        # The API hands out no DAG; the Workflow it built holds it (as `--summary` reads it).
        return workflow_api._workflow


def _read_plan(workflow: Any) -> WorkflowPlan:
    jobs = tuple(_planned_job(workflow, job) for job in workflow.dag.jobs)
    table1 = next(job for job in workflow.dag.jobs if job.rule.name == "table1")
    return WorkflowPlan(
        jobs=jobs,
        config=dict(workflow.globals["config"]),
        table1_keys=tuple(table1.params.score_keys),
        table1_method=str(table1.params.method),
    )


def _planned_job(workflow: Any, job: Any) -> PlannedJob:
    resources = job.resources
    rule = job.rule
    # Workflow.is_local would say "local" for every job of a dry run: its executor is local.
    local = rule.group is None and (rule.name in workflow._localrules or rule.norun)
    return PlannedJob(
        rule=rule.name,
        wildcards=dict(job.wildcards.items()),
        gpus=int(resources.get("gpu", 0)),
        threads=int(job.threads),
        runtime_minutes=int(resources.get("runtime", 0)),
        mem_mb=int(resources.get("mem_mb", 0)),
        local=bool(local),
        group=job.group,
    )
