"""The grid of a config (``lottery_mia.grid``), the inputs per pruning method
(``lottery_mia.model_inputs``) and the rules' params (``lottery_mia.rule_params``), on small
validated config dicts: what ``rules/common.smk`` hands Snakemake."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from conftest import REPO
from lottery_mia import exposure_grid, grid, model_inputs, rule_params
from lottery_mia.config import canonical_config, load_schema, validate_config

SCHEMA = load_schema(REPO / "rules" / "schemas" / "config.schema.yaml")
BASE: dict[str, Any] = yaml.safe_load((REPO / "config.yaml").read_text())


def make_config(**sections: dict[str, Any]) -> dict[str, Any]:
    """config.yaml with ``sections``' keys replaced, through the config gate's schema."""
    raw = copy.deepcopy(BASE)
    for section, changes in sections.items():
        raw.setdefault(section, {}).update(changes)
    return canonical_config(validate_config(raw, SCHEMA), SCHEMA)


def small(**sections: dict[str, Any]) -> dict[str, Any]:
    """One arch, one seed, dense + 50%, two sample counts, no references."""
    base = {
        "grid": {
            "archs": ["resnet18"],
            "seeds": [0],
            "sparsities": [0, 0.5],
            "sample_counts": [400, 1200],
            "attacks": ["mlp", "loss_threshold"],
            "pruning_methods": ["magnitude"],
        },
        "attack": {"reference_models": 0},
    }
    for section, changes in sections.items():
        base.setdefault(section, {}).update(changes)
    return make_config(**base)


def test_a_two_sparsity_grid_has_the_dense_model_and_one_ticket_per_seed() -> None:
    config = small(grid={"seeds": [0, 1]})
    models = grid.dataset_models(config, "digits")
    assert [m["dir"] for m in models] == [
        "results/digits/resnet18/seed0/sparsity0",
        "results/digits/resnet18/seed0/magnitude/sparsity0.5",
        "results/digits/resnet18/seed1/sparsity0",
        "results/digits/resnet18/seed1/magnitude/sparsity0.5",
    ]
    assert models[1]["key"] == {
        "arch": "resnet18",
        "method": "magnitude",
        "sparsity": 0.5,
        "seed": 0,
    }


def test_the_dense_model_is_shared_by_every_method() -> None:
    config = small(grid={"pruning_methods": ["magnitude", "random"]})
    assert grid.model_variants(config) == [
        ("dense", "0", "sparsity0"),
        ("magnitude", "0.5", "magnitude/sparsity0.5"),
        ("random", "0.5", "random/sparsity0.5"),
    ]
    assert grid.figure_method(config) == "magnitude"
    assert grid.figure_method(small(grid={"pruning_methods": ["snip", "random"]})) == "snip"


def test_every_attack_result_is_one_per_model_attack_and_sample_count() -> None:
    config = small()
    results = grid.grid_results(config)
    assert len(results) == 2 * 2 * 2  # models x attacks x sample counts
    assert results[0] == ("results/digits/resnet18/seed0/sparsity0", "mlp", 400)
    assert grid.attack_results(config)[0] == (
        "results/digits/resnet18/seed0/sparsity0/attack/n400/mlp.json"
    )
    # One run_attacks job per (model, n), whatever the number of attacks.
    assert len(grid.attack_dirs(results)) == 2 * 2


def test_references_go_to_the_dense_model_and_the_figures_method_at_the_chosen_sparsities() -> None:
    config = small(
        grid={"pruning_methods": ["magnitude", "random"], "attacks": ["mlp", "lira_online"]},
        attack={"reference_models": 4, "reference_sparsities": [0.5], "reference_archs": None},
    )
    key = {"arch": "resnet18", "sparsity": 0.5}
    assert grid.has_references(config, {**key, "method": "magnitude"})
    assert not grid.has_references(config, {**key, "method": "random"})
    assert not grid.has_references(config, {**key, "method": "dense", "sparsity": 0.0})
    referenced = {(d, a) for d, a, _ in grid.grid_results(config) if a == "lira_online"}
    assert referenced == {("results/digits/resnet18/seed0/magnitude/sparsity0.5", "lira_online")}
    lira = grid.attack_file("m", "lira_online", 400, "scores")
    assert lira == "m/reference_attack/n400/lira_online.scores.parquet"
    assert not grid.has_references(
        small(attack={"reference_models": 0}), {**key, "method": "magnitude"}
    )


def test_scored_models_are_the_dense_models_and_the_figures_method_at_the_figures_count() -> None:
    config = small(grid={"pruning_methods": ["random", "magnitude"]})
    scored = grid.scored_models(config, ["mlp"])
    assert [m["key"]["method"] for m in scored] == ["dense", "magnitude"]
    assert {m["key"]["n_samples"] for m in scored} == {1200}  # the largest: sample_count null
    every = grid.scored_models(config, ["mlp"], every_count=True)
    assert len(every) == 4
    assert grid.scored_dirs(every + every) == [m["dir"] for m in every]


def test_figure_sample_counts_prefer_the_configured_one() -> None:
    assert grid.figure_sample_count(small(figures={"sample_count": 400}), "digits") == 400
    assert grid.figure_sample_count(small(), "digits") == 1200
    assert grid.figure2_sample_count(small()) == 1200


def test_table_and_roc_attacks_are_those_the_grid_runs() -> None:
    config = small(grid={"attacks": ["mlp", "loss_threshold", "rmia", "svm"]})
    assert grid.table_attacks(config) == ["mlp", "rmia", "loss_threshold"]
    assert grid.roc_attacks(config) == ["mlp", "loss_threshold"]
    chosen = small(grid={"attacks": ["mlp", "svm"]}, figures={"table_attacks": ["svm"]})
    assert grid.table_attacks(chosen) == ["svm"]


def test_figure4_never_shows_a_reference_attack() -> None:
    config = small(
        grid={"attacks": ["mlp", "svm", "rmia"]},
        figures={"attack": "rmia", "table_attacks": None},
        transfer={"attacks": ["svm"]},
    )
    assert grid.transfer_figure_attack(config) == "svm"
    assert grid.transfer_attacks(config) == ["svm"]
    assert grid.transfer_matrices(config, "digits") == [
        "results/digits/transfer/svm_n400.parquet",
        "results/digits/transfer/svm_n1200.parquet",
    ]


def test_final_targets_follow_the_config() -> None:
    one = grid.final_targets(small())
    assert one[0] == "results/summary.parquet"
    assert "results/tables/exposure_digits.parquet" in one
    assert {
        "results/tables/table1.csv",
        "results/tables/per_class.md",
        "results/tables/exposure_agreement_digits.csv",
        "results/tables/exposure_memorisation_digits.csv",
    } <= set(one)
    # The figures are their rules' targets (figure_output; tests/unit/test_figure_rules.py).
    assert [path for path in one if path.startswith("results/figures/")] == []
    two = grid.final_targets(small(grid={"pruning_methods": ["magnitude", "random"]}))
    assert two == one  # the methods figure, the one it adds, comes from its rule
    more = grid.final_targets(small(grid={"sample_counts": [400, 800, 1200]}))
    assert "results/digits/transfer/mlp_n800.parquet" in set(more) - set(one)


def test_imp_rounds_chain_on_the_previous_ticket() -> None:
    config = small(grid={"pruning_methods": ["imp"]}, pruning={"imp_rate": 0.5})
    first = model_inputs.prune_inputs(config, "imp", "0.5")
    assert set(first) == {"dense_model_path", "dense_record_path"}
    third = model_inputs.prune_inputs(config, "imp", "0.875")
    assert (
        third["previous_model_path"]
        == "results/{dataset}/{arch}/{run}/{method}/sparsity0.75/model.pt"
    )
    assert third["previous_mask_path"].endswith("{method}/sparsity0.75/mask.pt")


def test_pruning_at_initialisation_reads_w0_only() -> None:
    config = small(grid={"pruning_methods": ["snip"]})
    assert model_inputs.prune_inputs(config, "snip", "0.5") == {
        "init_path": "results/{dataset}/{arch}/{run}/init.pt"
    }
    settings = rule_params.prune_settings(config, "snip", "digits", "seed0")
    assert {"exclude", "data", "model"} <= set(settings)
    assert "training" not in settings
    assert "data" not in rule_params.prune_settings(config, "magnitude", "digits", "seed0")


@pytest.mark.parametrize(
    ("method", "rewind", "start"),
    [
        ("magnitude", "init", "results/{dataset}/{arch}/{run}/init.pt"),
        ("magnitude", 2, "results/{dataset}/{arch}/{run}/sparsity0/rewind_epoch2.pt"),
        ("reinit", 2, None),
    ],
)
def test_a_ticket_starts_from_w0_w_k_or_a_fresh_init(method: str, rewind: Any, start: str) -> None:
    config = small(grid={"pruning_methods": [method]}, pruning={"rewind": rewind})
    inputs = model_inputs.ticket_inputs(config, method, "digits")
    assert (
        inputs["mask_path"] == "results/{dataset}/{arch}/{run}/{method}/sparsity{sparsity}/mask.pt"
    )
    assert inputs.get("start_path") == start
    keeps_w_k = rewind != "init" and method == "magnitude"
    assert bool(model_inputs.dense_rewind_outputs(config)) == keeps_w_k


def test_reference_inputs() -> None:
    config = small(grid={"attacks": ["mlp", "shadow_mlp"]}, attack={"reference_models": 4})
    paths = model_inputs.reference_output_paths(config, "digits", "resnet18", "sparsity0")
    assert paths[3] == "results/digits/resnet18/ref3/sparsity0/outputs.parquet"
    wildcards = {"dataset": "d", "arch": "a", "run": "seed0", "model": "sparsity0"}
    assert model_inputs.reference_statistics_input(config, wildcards) == {}  # shadow_mlp only
    lira = small(grid={"attacks": ["mlp", "lira_online"]}, attack={"reference_models": 4})
    assert model_inputs.reference_statistics_input(lira, wildcards) == {
        "statistics_path": "results/d/a/seed0/sparsity0/reference_statistics.npz"
    }


def test_a_reference_trains_like_a_target_on_its_own_rows_whatever_k() -> None:
    config = small(attack={"reference_models": 4})
    target = rule_params.train_settings(config, "digits", "seed0")
    reference = rule_params.train_settings(config, "digits", "ref2")
    assert list(target) == ["data", "model", "training"]
    assert {k: v for k, v in reference.items() if k != "reference"} == target
    assert reference["reference"]["index"] == 2
    grown = small(attack={"reference_models": 8})
    assert rule_params.train_settings(grown, "digits", "ref2") == reference
    export = rule_params.export_settings(config, "digits", "seed0")
    assert list(export) == ["data", "model", "training", "outputs", "eval_size"]


def test_attack_settings_hold_only_the_attacks_own_model() -> None:
    config = small(grid={"attacks": ["mlp", "svm"]})
    settings = rule_params.attack_settings(config, "svm")["attack"]
    assert "svm" in settings and "mlp" not in settings
    assert "reference_models" not in rule_params.supervised_attack_settings(config)
    assert "reference_models" in rule_params.reference_attack_settings(config)


def test_model_keys_from_wildcards() -> None:
    ticket = {"dataset": "d", "arch": "a", "run": "seed3", "model": "imp/sparsity0.75"}
    assert rule_params.model_key(ticket) == {
        "dataset": "d",
        "arch": "a",
        "seed": 3,
        "method": "imp",
        "sparsity": 0.75,
    }
    dense_reference = {"dataset": "d", "arch": "a", "run": "ref1", "model": "sparsity0"}
    key = rule_params.model_key(dense_reference)
    assert (key["reference"], key["method"], key["sparsity"]) == (1, "dense", 0.0)
    assert key["seed"] != 1
    mask = {"dataset": "d", "arch": "a", "run": "seed0", "method": "random", "sparsity": "0.5"}
    assert rule_params.model_key(mask)["method"] == "random"


def test_exposure_reads_the_strongest_reference_attack_on_the_referenced_models() -> None:
    config = small(
        grid={"attacks": ["mlp", "rmia", "lira_online"]},
        attack={"reference_models": 4, "reference_sparsities": [0], "reference_archs": None},
    )
    assert exposure_grid.exposure_reference_attack(config) == "lira_online"
    scores = exposure_grid.exposure_scores(config, "digits")
    assert [(s["key"]["model"], s["key"]["attack"]) for s in scores] == [
        ("sparsity0", "mlp"),
        ("sparsity0", "lira_online"),
        ("magnitude/sparsity0.5", "mlp"),
    ]
    references = exposure_grid.exposure_references(config, "digits")
    assert [r["key"]["reference"] for r in references] == [0, 1, 2, 3]
    assert exposure_grid.exposure_keep_input(config, "digits") == {
        "keep_path": "results/digits/reference_keep.parquet"
    }


def test_exposure_without_references_reads_the_figures_attack_only() -> None:
    config = small()
    assert exposure_grid.exposure_reference_attack(config) is None
    assert {s["key"]["attack"] for s in exposure_grid.exposure_scores(config, "digits")} == {"mlp"}
    assert exposure_grid.exposure_references(config, "digits") == []
    assert exposure_grid.exposure_keep_input(config, "digits") == {}
