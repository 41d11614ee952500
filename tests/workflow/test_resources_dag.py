"""The rules' runtime and mem_mb are the throughput table's (lottery_mia.resources), per job."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO, TINY_CONFIG, run_snakemake
from lottery_mia import resources

JOB = re.compile(r"rule (\w+):\n(?:    .*\n)*?    wildcards: (.*)\n    resources: (.*)\n")


def planned_resources(text: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job printed by ``snakemake -n``."""
    jobs = []
    for rule, wildcards, found in JOB.findall(text):
        pairs = [item.split("=", 1) for item in wildcards.split(", ")]
        amounts = [item.split("=", 1) for item in found.split(", ")]
        jobs.append((rule, dict(pairs), dict(amounts)))
    return jobs


@pytest.mark.workflow
def test_dry_run_requests_the_tables_runtime_and_memory(tmp_path):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["training"].update({"epochs": 40, "device": "cpu"})
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path / "run", config_path, "-n")
    jobs = planned_resources(result.stdout + result.stderr)
    width, epochs = config["model"]["width"], 40
    checked = set()
    for rule, wildcards, amounts in jobs:
        if rule in ("train_dense", "train_ticket"):
            expected = resources.train_minutes("cpu", "digits", wildcards["arch"], width, epochs)
            assert int(amounts["runtime"]) == expected
            assert int(amounts["mem_mb"]) == resources.train_mem_mb("digits")
        elif rule == "export_outputs":
            expected = resources.export_minutes("cpu", "digits", wildcards["arch"], width)
            assert int(amounts["runtime"]) == expected
        elif rule == "transfer":
            rows = int(wildcards["n"]) + config["attack"]["eval_size"]
            cache_mb = resources.TRANSFER_EVAL_CACHE_MB
            assert int(amounts["mem_mb"]) == resources.attack_fit_mem_mb(
                "digits", rows, cache_mb=cache_mb
            )
        else:
            continue
        checked.add(rule)
    assert checked == {"train_dense", "train_ticket", "export_outputs", "transfer"}
    # 40 epochs of ResNet-50 take longer than of ResNet-18 (the table's rates differ).
    runtimes = {w["arch"]: int(a["runtime"]) for r, w, a in jobs if r == "train_dense"}
    assert runtimes["resnet50"] > runtimes["resnet18"]


@pytest.mark.workflow
def test_reference_jobs_request_memory_for_the_targets_rows_and_mirror_images(tmp_path):
    """tests/configs/tiny_references.yaml exports mirror images (query_flips: always): the
    statistics job holds digits' 2 x 898 exported rows twice."""
    config = REPO / "tests" / "configs" / "tiny_references.yaml"
    result = run_snakemake(tmp_path / "run", config, "-n")
    expected = resources.attack_fit_mem_mb("digits", 2 * 898 * 2)
    requested = {
        rule: int(amounts["mem_mb"])
        for rule, _, amounts in planned_resources(result.stdout + result.stderr)
        if rule in ("reference_statistics", "reference_attacks")
    }
    assert requested == {"reference_statistics": expected, "reference_attacks": expected}


@pytest.mark.workflow
def test_attack_time_limits_grow_with_the_rows_they_fit():
    """configs/paper.yaml under the SLURM profile: an ImageNet attack job fitting the SVM on
    98,000 rows of 1,000 probabilities asks for hours (the former fixed 2 h would have had it
    killed), a small CIFAR job keeps the former 2 h, and a transfer job counts its 18 fits."""
    from lottery_mia import attack_cost
    from lottery_mia.plan_dag import planned_workflow

    workflow = planned_workflow(REPO / "configs" / "paper.yaml")
    config = workflow.config

    def runtime(rule: str, **wildcards: str) -> int:
        (minutes,) = {
            job.runtime_minutes
            for job in workflow.jobs
            if job.rule == rule and wildcards.items() <= job.wildcards.items()
        }
        return minutes

    attacks = [a for a in config["grid"]["attacks"] if a in ("mlp", "svm", "random_forest")]
    imagenet = runtime("run_attacks", dataset="imagenet", n="98000")
    assert imagenet == attack_cost.attack_minutes("run_attacks", attacks, 98000, 1000) > 5 * 60
    assert runtime("run_attacks", dataset="cifar10", n="2000") == 120
    models = len(config["grid"]["archs"]) * len(config["grid"]["sparsities"])
    transfer = runtime("transfer", dataset="imagenet", n="98000")
    assert (
        transfer
        == attack_cost.transfer_minutes("mlp", models, 98000, 1000, config["attack"]["eval_size"])
        > 60
    )
