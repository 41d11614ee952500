"""The pruning method as a grid dimension in the DAG: what each method's tickets depend on, and
that adding a method to a finished run trains nothing of the other methods or the dense model."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import (
    FIGURE_JOBS,
    SCORE_FIGURE_JOBS,
    copy_run,
    parse_job_counts,
    run_snakemake,
    write_config,
)

pytestmark = [pytest.mark.workflow]

TICKET = "results/digits/resnet18/seed0/{method}/sparsity{p}/model.pt"


def planned_jobs(workdir: Path, config: Path, *targets: str) -> dict[str, int]:
    """Rule -> jobs that ``snakemake -n`` would run now for ``targets`` (default: all)."""
    result = run_snakemake(workdir, config, "-n", *targets, "--quiet", "rules")
    return parse_job_counts(result.stdout + result.stderr)


def methods_config(tmp_path: Path, methods: list[str], **pruning: object) -> Path:
    return write_config(
        tmp_path / "methods.yaml", grid={"pruning_methods": methods}, pruning=pruning
    )


@pytest.mark.parametrize("method", ["snip", "grasp", "synflow"])
def test_pruning_at_initialisation_needs_no_dense_training(tmp_path, method):
    config = methods_config(tmp_path, [method])
    plan = planned_jobs(tmp_path, config, TICKET.format(method=method, p="0.5"))
    assert plan == {"initialise": 1, "prune": 1, "train_ticket": 1}


@pytest.mark.parametrize("method", ["magnitude", "random", "reinit"])
def test_dense_based_methods_prune_the_trained_dense_model(tmp_path, method):
    config = methods_config(tmp_path, [method])
    plan = planned_jobs(tmp_path, config, TICKET.format(method=method, p="0.5"))
    assert plan == {"initialise": 1, "train_dense": 1, "prune": 1, "train_ticket": 1}


def test_imp_is_a_chain_of_rounds(tmp_path):
    """At rate 0.5, sparsity 0.875 is round 3: three masks, each from the previous ticket."""
    config = write_config(
        tmp_path / "imp.yaml",
        grid={"pruning_methods": ["imp"], "sparsities": [0, 0.5, 0.75, 0.875]},
        pruning={"imp_rate": 0.5},
    )
    plan = planned_jobs(tmp_path, config, TICKET.format(method="imp", p="0.875"))
    assert plan == {"initialise": 1, "train_dense": 1, "prune": 3, "train_ticket": 3}


def test_late_rewinding_keeps_w_k_from_the_dense_run(tmp_path):
    config = methods_config(tmp_path, ["magnitude"], rewind=1)
    target = "results/digits/resnet18/seed0/sparsity0/rewind_epoch1.pt"
    assert planned_jobs(tmp_path, config, target) == {"initialise": 1, "train_dense": 1}


@pytest.mark.slow
def test_adding_methods_trains_nothing_of_the_other_methods_or_the_dense_model(tiny_run, tmp_path):
    finished = copy_run(tiny_run, tmp_path / "run")
    config = methods_config(tmp_path, ["magnitude", "snip", "random"])
    plan = planned_jobs(finished, config)
    # 2 architectures x 2 new methods at sparsity 0.5; the dense models and magnitude tickets stay.
    # Figures that read only the scores of the figures' method (magnitude) stay too; the methods
    # figure is new.
    summary_figures = {k: n for k, n in FIGURE_JOBS.items() if k not in SCORE_FIGURE_JOBS}
    assert plan == {
        "prune": 4,
        "train_ticket": 4,
        "export_outputs": 4,
        "run_attacks": 4,
        "transfer": 1,
        "summarize": 1,
        "fig_methods": 1,
        # The exposure table compares every method's tickets with the dense model.
        "exposure": 1,
        "fig_exposure": 1,
        **summary_figures,
    }
