"""Incremental reruns: an edit of the config schedules exactly the jobs whose results it changes.

Each test copies the finished tiny run (results and Snakemake's metadata, modification times kept),
edits one setting of tests/configs/tiny.yaml and dry-runs the workflow with the default
``--rerun-triggers`` (mtime, params, input, code, software-env). The tiny grid is 1 dataset x
2 architectures x 1 seed x sparsities {0, 0.5} x 1 sample count (200) x 4 attacks, with transfer
matrices for the mlp attack only: 2 dense trainings, 2 masks, 2 tickets, 4 exports, 4 attack jobs
(one per model and sample count, each running the 4 attacks), 1 transfer matrix, 1 summary,
4 figures, 1 table.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import (
    FIGURE_JOBS,
    SCORE_FIGURE_JOBS,
    TINY_CONFIG,
    copy_run,
    parse_job_counts,
    run_snakemake,
    write_config,
)

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

TINY = yaml.safe_load(TINY_CONFIG.read_text())
ARCHS = {"resnet18", "resnet50"}
#: What every change of an attack result reruns: the mlp transfer matrix, the summary, the figures.
AGGREGATES = {"transfer": 1, "summarize": 1, **FIGURE_JOBS}
JOB_HEADER = re.compile(r"^\s*(?:local)?rule (\w+):\s*$")


@dataclass
class Job:
    """One planned job as ``snakemake -n`` prints it."""

    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    """What ``snakemake -n`` would run: jobs per rule, and each job's wildcards and reason."""

    counts: dict[str, int]
    jobs: list[Job]
    text: str

    def values(self, rule: str, wildcard: str) -> set[str]:
        """Every value ``wildcard`` takes among the planned jobs of ``rule``."""
        return {job.wildcards[wildcard] for job in self.jobs if job.rule == rule}

    def reasons(self, rule: str) -> list[str]:
        return [job.reason for job in self.jobs if job.rule == rule]


def dry_run(workdir: Path, config: Path) -> Plan:
    """Parse the job table and the per-job ``wildcards:``/``reason:`` lines of ``snakemake -n``."""
    result = run_snakemake(workdir, config, "-n")
    text = result.stdout + result.stderr
    jobs: list[Job] = []
    for line in text.splitlines():
        header = JOB_HEADER.match(line)
        field_name, _, value = line.strip().partition(": ")
        if header:
            jobs.append(Job(header[1]))
        elif jobs and field_name == "wildcards":
            jobs[-1].wildcards.update(pair.strip().split("=", 1) for pair in value.split(","))
        elif jobs and field_name == "reason":
            jobs[-1].reason = value
    counts = parse_job_counts(text)
    assert Counter(job.rule for job in jobs) == Counter(counts), "job table and job list disagree"
    return Plan(counts, jobs, text)


@pytest.fixture
def finished(tiny_run: Path, tmp_path: Path) -> Path:
    """A private copy of the finished tiny run, safe to dry-run with edited configs."""
    return copy_run(tiny_run, tmp_path / "run")


def edited(tmp_path: Path, **sections: object) -> Path:
    """tiny.yaml with top-level sections merged one level deep (see conftest.write_config)."""
    return write_config(tmp_path / "edited.yaml", **sections)


def test_a_copy_of_the_finished_run_has_nothing_to_do(finished):
    plan = dry_run(finished, TINY_CONFIG)
    assert plan.counts == {}
    assert "Nothing to be done" in plan.text


def reordered(value: object) -> object:
    """``value`` with the keys of every mapping in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    return value


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_a_redumped_config_reruns_nothing(finished, tmp_path, order):
    """Snakemake compares params as written, dict order included: the config gate hands rules a
    canonical form, so the same settings in another key order or spelling plan nothing."""
    if order == "sorted":
        text = yaml.safe_dump(TINY, sort_keys=True)
    else:  # keys reversed at every level, and the default C = 1.0 written as the integer 1
        config = reordered(TINY)
        config["attack"]["svm"] = {"C": 1}
        text = yaml.safe_dump(config, sort_keys=False)
    assert text != TINY_CONFIG.read_text()
    redumped = tmp_path / "redumped.yaml"
    redumped.write_text(text)
    plan = dry_run(finished, redumped)
    assert plan.counts == {}, plan.text


@pytest.mark.parametrize(
    ("sparsities", "branch"),
    [([0, 0.5, 0.8], "0.8"), ([0, 0.6], "0.6")],
    ids=["added_0.8", "changed_0.5_to_0.6"],
)
def test_a_new_or_changed_sparsity_reruns_only_its_branch(finished, tmp_path, sparsities, branch):
    plan = dry_run(finished, edited(tmp_path, grid={"sparsities": sparsities}))
    # No dense training: the new tickets start from the finished dense models and w0.
    assert plan.counts == {
        "prune": 2,
        "train_ticket": 2,
        "export_outputs": 2,
        "run_attacks": 2,
        **AGGREGATES,
    }
    for rule in ("prune", "train_ticket"):
        assert plan.values(rule, "sparsity") == {branch}, rule
    for rule in ("export_outputs", "run_attacks"):  # {model} = <method>/sparsity<p>
        assert plan.values(rule, "model") == {f"magnitude/sparsity{branch}"}, rule
    for rule in ("prune", "train_ticket", "export_outputs", "run_attacks"):
        assert plan.values(rule, "arch") == ARCHS, rule


def test_a_training_hyperparameter_reruns_training_and_everything_downstream(finished, tmp_path):
    plan = dry_run(finished, edited(tmp_path, training={"lr": 0.05}))
    assert plan.counts == {
        "train_dense": 2,
        "prune": 2,
        "train_ticket": 2,
        "export_outputs": 4,
        "run_attacks": 4,
        **AGGREGATES,
    }
    assert all(reason.startswith("Params have changed") for reason in plan.reasons("train_dense"))


@pytest.mark.parametrize(
    ("attack_section", "reruns_transfer"),
    [
        ({"mlp": {**TINY["attack"]["mlp"], "max_iter": 40}}, True),
        ({"svm": {"C": 2.0}}, False),
        ({"seed": 1}, True),
    ],
    ids=["mlp.max_iter", "svm.C", "seed"],
)
def test_an_attack_setting_reruns_only_attacks_and_aggregates(
    finished, tmp_path, attack_section, reruns_transfer
):
    plan = dry_run(finished, edited(tmp_path, attack=attack_section))
    expected = {"run_attacks": 4, **AGGREGATES}
    if not reruns_transfer:
        # Transfer matrices are computed for mlp only and see only the mlp settings, so the
        # matrix and Figure 4 stay.
        del expected["transfer"], expected["fig_transfer"]
    assert plan.counts == expected
    assert all(reason.startswith("Params have changed") for reason in plan.reasons("run_attacks"))


def test_a_new_sample_count_adds_only_attacks_and_aggregates(finished, tmp_path):
    plan = dry_run(finished, edited(tmp_path, grid={"sample_counts": [200, 400]}))
    figures_without_heatmap = {
        name: count
        for name, count in FIGURE_JOBS.items()
        if name not in ("fig_transfer", *SCORE_FIGURE_JOBS)
    }
    # Figures 4, 5 and the per-class figure show figures.sample_count = 200, whose transfer
    # matrix and scores files are unchanged.
    assert plan.counts == {
        "run_attacks": 4,
        "transfer": 1,
        "summarize": 1,
        **figures_without_heatmap,
    }
    assert plan.values("run_attacks", "n") == {"400"}
    assert plan.values("transfer", "n") == {"400"}


def test_a_figure_style_key_reruns_only_figures(finished, tmp_path):
    plan = dry_run(finished, edited(tmp_path, figures={"dpi": 72}))
    # Table 1 and the exposure table have no style: only their figures are redrawn.
    restyled = {rule: n for rule, n in FIGURE_JOBS.items() if rule not in ("table1", "exposure")}
    assert plan.counts == restyled


def test_the_exposure_fraction_reruns_only_the_exposure_jobs(finished, tmp_path):
    # Everything the exposure table reads (outputs, scores) is already on disk: a change of what
    # it computes reruns it and its figures, and nothing upstream.
    plan = dry_run(finished, edited(tmp_path, figures={"exposure_top_fraction": 0.05}))
    assert plan.counts == {"exposure": 1, "fig_exposure": 1, "all": 1}
    assert all(reason.startswith("Params have changed") for reason in plan.reasons("exposure"))
