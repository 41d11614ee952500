"""A figure is its module, its rule and its caption: the rule alone makes its files final targets
(``figure_output``, rules/figure_files.smk), and the one entry script of figure rules finds the
module's ``draw`` by the rule's name (``figures.drawing``). Checked on the DAG Snakemake builds."""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Any

import pytest
from snakemake.io import expand, strip_wildcard_constraints

from conftest import REPO
from lottery_mia import figures, grid, plan_dag
from lottery_mia.result_paths import FIGURES


def built_workflow(configfile: Path) -> Any:
    """Snakemake's ``Workflow`` with the DAG of ``configfile`` (every job), as `make plan` builds it."""
    with plan_dag._planning_mode(), tempfile.TemporaryDirectory() as workdir, plan_dag._kept_cwd():
        args = plan_dag._profile_args(configfile, plan_dag.SNAKEFILE, plan_dag.SLURM_PROFILE)
        return plan_dag._dry_run(args, Path(workdir))


@pytest.fixture(scope="module", params=["config.yaml", "configs/methods.yaml"])
def workflow(request: pytest.FixtureRequest) -> Any:
    return built_workflow(REPO / request.param)


def figure_rules(workflow: Any) -> list[Any]:
    """The rules with a file under results/figures/."""
    return [
        rule
        for rule in workflow.rules
        if any(str(f).startswith(f"{FIGURES}/") for f in rule.output)
    ]


def test_the_final_targets_are_the_grids_and_every_figure_rules_files(workflow: Any) -> None:
    config = workflow.config
    (everything,) = [job for job in workflow.dag.jobs if job.rule.name == "all"]
    targets = [str(path) for path in everything.input]
    assert len(targets) == len(set(targets))
    drawn = {
        path
        for rule in figure_rules(workflow)
        for template in rule.output
        if str(template).startswith(f"{FIGURES}/")
        for path in expand(strip_wildcard_constraints(str(template)), dataset=config["datasets"])
    }
    if len(config["grid"]["pruning_methods"]) == 1:  # a grid of one method draws no comparison
        drawn -= {f"{FIGURES}/fig_methods.png", f"{FIGURES}/fig_methods.pdf"}
    else:
        assert f"{FIGURES}/fig_methods.png" in drawn
    assert {path for path in targets if path.startswith(f"{FIGURES}/")} == drawn
    assert [path for path in targets if not path.startswith(f"{FIGURES}/")] == grid.final_targets(
        config
    )


def test_every_figure_rule_of_the_entry_script_has_its_drawing(workflow: Any) -> None:
    drawn = [rule for rule in workflow.rules if str(rule.script).endswith("draw_figure.py")]
    assert {rule.name for rule in drawn} == set(figures.drawings())
    assert {
        "fig_test_accuracy",
        "fig_attack_vs_sparsity",
        "fig_attack_vs_samples",
        "fig_transfer",
        "fig_forest",
        "fig_roc_curves",
        "fig_gap_vs_auc",
        "fig_methods",
        "fig_exposure",
    } <= set(figures.drawings())
    # Every other rule with a figure keeps its own script (per_class also writes a table).
    assert {rule.name for rule in figure_rules(workflow)} - {r.name for r in drawn} == {"per_class"}
    for rule in drawn:
        names = [*rule.input.keys(), *rule.output.keys(), *rule.params.keys()]
        inspect.signature(figures.drawing(rule.name)).bind(**dict.fromkeys(names))


def test_a_rule_without_a_figure_module_fails_naming_it() -> None:
    with pytest.raises(LookupError, match="fig_nothing"):
        figures.drawing("fig_nothing")
