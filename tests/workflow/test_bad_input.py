"""Bad input is refused before any expensive job, with one message that names the key or file, what
was found and what was expected, and without leaving a partial output.

Config: rules/common.smk runs ``validate_config`` (the JSON schema) and then ``check_config``
(overrides, keys that must agree, data on disk, pool sizes) while Snakemake parses the workflow.
Every case is unit-tested through exactly those two calls; one case per kind of check also goes
through ``snakemake -n`` to show that the workflow stops at parse time and creates no results/.
Data: damaged outputs tables, weight files and pickles are refused by the readers every rule uses.
"""

from __future__ import annotations

import copy
import os
import pickle
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml

from conftest import REPO, TINY_CONFIG, run_snakemake
from lottery_mia import attack_steps, job_inputs, pruning_steps
from lottery_mia.atomic import write_json
from lottery_mia.config import ConfigError, load_schema, validate_config
from lottery_mia.config_checks import check_config
from lottery_mia.data import load_dataset, pool_sizes
from lottery_mia.models import ModelSpec, build_model, load_state_dict, save_state_dict
from lottery_mia.outputs_table import OUTPUT_SCHEMA, read_outputs
from lottery_mia.training import TrainSettings, train

SCHEMA = load_schema(REPO / "rules" / "schemas" / "config.schema.yaml")
TINY: dict[str, Any] = yaml.safe_load(TINY_CONFIG.read_text())
MISSING_ROOT = "/nonexistent/lottery-mia/cifar10"


@dataclass(frozen=True)
class BadConfig:
    """tiny.yaml with ``path`` (dotted) set to ``value``, and what the refusal must say."""

    name: str
    path: str
    value: Any
    key: str  # as named in the message: config key '<key>'
    found: str
    expected: str

    def config(self) -> dict[str, Any]:
        config = copy.deepcopy(TINY)
        *parents, last = self.path.split(".")
        section = config
        for part in parents:
            section = section.setdefault(part, {})
        section[last] = self.value
        return config


# fmt: off
CONFIG_CASES = [
    BadConfig("unknown_key", "trainig", {"epochs": 1}, "(top level)",
              "'trainig' was unexpected", "allowed keys: ['attack', 'compute', 'datasets'"),
    BadConfig("unknown_nested_key", "training.learning_rate", 0.1, "training",
              "'learning_rate' was unexpected", "'lr'"),
    BadConfig("wrong_type", "training.epochs", "ten", "training.epochs",
              "'ten' is not of type 'integer'", "Epochs of dense training"),
    BadConfig("sparsity_one", "grid.sparsities", [0, 0.5, 1.0], "grid.sparsities[2]",
              "1.0 is greater than or equal to the maximum of 1", "0 <= p < 1"),
    BadConfig("sparsity_negative", "grid.sparsities", [-0.1, 0, 0.5], "grid.sparsities[0]",
              "-0.1 is less than the minimum of 0", "0 <= p < 1"),
    BadConfig("duplicate_sparsities", "grid.sparsities", [0, 0.5, 0.5], "grid.sparsities",
              "[0, 0.5, 0.5] has non-unique elements", "each listed once"),
    BadConfig("odd_sample_count", "grid.sample_counts", [201], "grid.sample_counts[0]",
              "201 is not a multiple of 2", "an even number >= 2"),
    BadConfig("zero_sample_count", "grid.sample_counts", [0], "grid.sample_counts[0]",
              "0 is less than the minimum of 2", "an even number >= 2"),
    BadConfig("sample_count_too_large", "grid.sample_counts", [200, 2000], "grid.sample_counts",
              "sample count(s) [2000]", "the largest allowed sample count is 1596"),
    BadConfig("unknown_architecture", "grid.archs", ["resnet18", "resnet34"], "grid.archs[1]",
              "'resnet34' is not one of", "['resnet18', 'resnet50']"),
    BadConfig("unknown_dataset", "datasets.mnist", {}, "datasets",
              "'mnist' was unexpected", "allowed keys: ['cifar10', 'cifar100', 'digits', 'imagenet', 'imagenet32', 'imagenet64']"),
    BadConfig("unknown_attack", "grid.attacks", ["mlp", "lira"], "grid.attacks[1]",
              "'lira' is not one of", "'random_forest', 'loss_threshold'"),
    BadConfig("zero_width", "model.width", 0, "model.width",
              "0 is less than the minimum of 1", "Base channels"),
    BadConfig("negative_width", "model.width", -16, "model.width",
              "-16 is less than the minimum of 1", "Base channels"),
    BadConfig("zero_epochs", "training.epochs", 0, "training.epochs",
              "0 is less than the minimum of 1", "Epochs of dense training"),
    BadConfig("zero_epochs_in_dataset_override", "datasets.digits.training", {"epochs": 0},
              "datasets.digits.training.epochs", "0 is less than the minimum of 1",
              "Epochs of dense training"),
    BadConfig("unknown_key_in_dataset_override", "datasets.digits.training", {"learning_rate": 1},
              "datasets.digits.training", "'learning_rate' was unexpected", "'lr'"),
    BadConfig("missing_dataset_root", "datasets.cifar10", {"root": MISSING_ROOT},
              "datasets.cifar10.root", f"{MISSING_ROOT} does not exist",
              "Expected files: data_batch_1"),
    BadConfig("figure_attack_not_in_grid", "grid.attacks", ["svm"], "figures.attack",
              "'mlp' is not in grid.attacks ['svm']", "one of the attacks the grid runs"),
    BadConfig("table_attack_not_in_grid", "figures.table_attacks", ["mlp", "rmia"],
              "figures.table_attacks", "['rmia'] not in grid.attacks", "attacks the grid runs"),
    BadConfig("no_dense_baseline", "grid.sparsities", [0.5, 0.8], "grid.sparsities",
              "[0.5, 0.8]", "expected 0 (the dense baseline)"),
    BadConfig("dense_figure_ticket", "figures.sparsity", 0, "figures.sparsity",
              "0", "expected the sparsity of a ticket (> 0)"),
    # Data settings: checked here once, not again by the loaders.
    BadConfig("misspelt_data_key", "datasets.digits.test_fration", 0.5, "datasets.digits",
              "'test_fration' was unexpected", "allowed keys: ['augmentation', 'class_profile', 'crop_padding'"),
    BadConfig("augmentation_of_another_dataset", "datasets.digits.augmentation", "flip_crop",
              "datasets.digits.augmentation", "'flip_crop' is not one of ['none', 'crop']",
              "a mirrored digit is another symbol"),
    BadConfig("test_fraction_one", "datasets.digits.test_fraction", 1.0,
              "datasets.digits.test_fraction", "1.0 is greater than or equal to the maximum of 1",
              "non-member (test) pool"),
    BadConfig("download_not_boolean", "datasets.cifar10", {"root": MISSING_ROOT, "download": "yes"},
              "datasets.cifar10.download", "'yes' is not of type 'boolean'", "Download"),
    BadConfig("negative_workers", "datasets.imagenet", {"root": MISSING_ROOT, "workers": -1},
              "datasets.imagenet.workers", "-1 is less than the minimum of 0", "worker processes"),
    BadConfig("boolean_image_size", "datasets.imagenet", {"root": MISSING_ROOT, "image_size": True},
              "datasets.imagenet.image_size", "True is not of type 'integer'", "Side of the square"),
    # Attack settings.
    BadConfig("unknown_features", "attack.features", "logits", "attack.features",
              "'logits' is not one of ['probabilities', 'sorted_topk', 'logit_scaled']", "Features of learned"),
    BadConfig("odd_eval_size", "attack.eval_size", 201, "attack.eval_size",
              "201 is not a multiple of 2", "balanced attack evaluation rows"),
    BadConfig("zero_eval_size", "attack.eval_size", 0, "attack.eval_size",
              "0 is less than the minimum of 2", "balanced attack evaluation rows"),
    BadConfig("zero_top_k", "attack.top_k", 0, "attack.top_k",
              "0 is less than the minimum of 1", "k for sorted_topk"),
    BadConfig("text_attack_seed", "attack.seed", "zero", "attack.seed",
              "'zero' is not of type 'integer'", "Seed of the attack models"),
    BadConfig("misspelt_mlp_key", "attack.mlp.hidden_layers", [8], "attack.mlp",
              "'hidden_layers' was unexpected", "allowed keys: ['hidden_layer_sizes', 'max_iter']"),
    BadConfig("no_mlp_layers", "attack.mlp.hidden_layer_sizes", [], "attack.mlp.hidden_layer_sizes",
              "[] should be non-empty", "[]"),
    BadConfig("negative_svm_c", "attack.svm", {"C": -1}, "attack.svm.C",
              "-1 is less than or equal to the minimum of 0", "-1"),
    BadConfig("unknown_svm_kernel", "attack.svm", {"kernel": "cubic"}, "attack.svm.kernel",
              "'cubic' is not one of", "'rbf', 'linear', 'poly', 'sigmoid'"),
    BadConfig("zero_forest_depth", "attack.random_forest.max_depth", 0,
              "attack.random_forest.max_depth", "0 is less than the minimum of 1", "0"),
    # Training and figure settings.
    BadConfig("unknown_schedule", "training.schedule", "linear", "training.schedule",
              "'linear' is not one of ['cosine', 'step', 'constant']", "Learning-rate schedule"),
    BadConfig("unknown_plotting_context", "figures.context", "poster-xl", "figures.context",
              "'poster-xl' is not one of", "seaborn plotting context"),
    BadConfig("zero_dpi", "figures.dpi", 0, "figures.dpi",
              "0 is less than the minimum of 50", "PNG resolution"),
    BadConfig("fractional_dpi", "figures.dpi", 72.5, "figures.dpi",
              "72.5 is not of type 'integer'", "PNG resolution"),
    BadConfig("unknown_palette", "figures.palette", "no-such-palette", "figures.palette",
              "'no-such-palette' is not a seaborn palette", "no-such-palette"),
    BadConfig("unknown_query_flips", "outputs.query_flips", "yes", "outputs.query_flips",
              "'yes' is not one of ['auto', 'always', 'never']", "mirrors images"),
    # Pruning (issue 9: a pattern that matches nothing used to exclude nothing, silently).
    BadConfig("exclude_parameter_name", "pruning.exclude", ["fc.weight"], "pruning.exclude",
              "'fc.weight' matches no prunable layer", "did you mean 'fc'"),
    BadConfig("exclude_module_without_star", "pruning.exclude", ["fc", "layer4"],
              "pruning.exclude", "'layer4' matches no prunable layer", "'layer4.*'"),
    BadConfig("unknown_pruning_method", "grid.pruning_methods", ["magnitude", "lottery"],
              "grid.pruning_methods[1]", "'lottery' is not one of", "'snip', 'grasp', 'synflow'"),
    BadConfig("imp_unreachable_sparsity", "grid.pruning_methods", ["magnitude", "imp"],
              "grid.sparsities", "sparsity 0.5 is not reachable by IMP at pruning.imp_rate 0.2",
              "nearest reachable: 0.488 (round 3), 0.5904 (round 4)"),
    BadConfig("rewind_past_training", "pruning.rewind", 2, "pruning.rewind",
              "2; expected 'init' or an epoch k", "1 <= k < training.epochs (2)"),
]
# fmt: on
CASES = {case.name: case for case in CONFIG_CASES}
#: One case per kind of check, also run through `snakemake -n` (each run parses the workflow).
WORKFLOW_CASES = [
    "unknown_key",  # schema: unknown keys
    "wrong_type",  # schema: types and ranges
    "zero_epochs_in_dataset_override",  # check_config: per-dataset overrides
    "figure_attack_not_in_grid",  # check_config: keys that must agree
    "missing_dataset_root",  # check_config: data on disk
    "sample_count_too_large",  # check_config: pool sizes
]


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """What rules/common.smk does before any job: the schema, then the checks beyond it."""
    validated = validate_config(config, SCHEMA)
    check_config(validated, SCHEMA, pool_sizes)
    return validated


def test_the_unedited_tiny_config_is_accepted():
    # The control for every case below: each refusal comes from its one edit.
    assert validate(TINY)["grid"]["sparsities"] == [0, 0.5]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda case: case.name)
def test_bad_config_is_refused_with_one_message(case):
    with pytest.raises(ConfigError) as refusal:
        validate(case.config())
    header, *problems = str(refusal.value).splitlines()
    assert header == "invalid configuration:"
    assert len(problems) == 1, problems
    assert f"config key '{case.key}'" in problems[0]
    assert case.found in problems[0]
    assert case.expected in problems[0]


def test_a_transfer_attack_the_grid_does_not_run_is_refused():
    config = copy.deepcopy(TINY)
    config["grid"]["attacks"] = ["mlp", "loss_threshold"]
    config["transfer"] = {"attacks": ["mlp", "svm"]}
    with pytest.raises(ConfigError) as refusal:
        validate(config)
    header, *problems = str(refusal.value).splitlines()
    assert header == "invalid configuration:"
    assert [problem.strip() for problem in problems] == [
        "config key 'transfer.attacks': ['svm'] not in grid.attacks ['mlp', 'loss_threshold']; "
        "expected attacks the grid runs (a transfer matrix needs the attack's settings and "
        "every model's attack results)"
    ]


def test_every_problem_of_a_config_is_reported_at_once():
    config = CASES["zero_width"].config()
    config["training"]["epochs"] = 0
    config["grid"]["archs"] = ["vgg11"]
    with pytest.raises(ConfigError) as refusal:
        validate(config)
    message = str(refusal.value)
    for key in ("model.width", "training.epochs", "grid.archs[0]"):
        assert f"config key '{key}'" in message


@pytest.mark.workflow
@pytest.mark.slow
@pytest.mark.parametrize("name", WORKFLOW_CASES)
def test_snakemake_stops_at_parse_time_on_a_bad_config(tmp_path, name):
    case = CASES[name]
    config_path = tmp_path / "bad.yaml"
    config_path.write_text(yaml.safe_dump(case.config(), sort_keys=False))
    workdir = tmp_path / "run"
    result = run_snakemake(workdir, config_path, "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ConfigError" in output
    assert f"config key '{case.key}'" in output
    assert case.found in output and case.expected in output
    assert not (workdir / "results").exists()


# ---- data ---------------------------------------------------------------------------------------


def outputs_columns(n_classes: int = 3, rows_per_pool: int = 4) -> dict[str, list[Any]]:
    """Columns of a small valid outputs.parquet (train-pool rows first)."""
    columns: dict[str, list[Any]] = {name: [] for name in OUTPUT_SCHEMA.names}
    for pool in ("train", "test"):
        for sample_id in range(rows_per_pool):
            label = sample_id % n_classes
            columns["sample_id"].append(sample_id)
            columns["pool"].append(pool)
            columns["member"].append(pool == "train")
            columns["label"].append(label)
            columns["logits"].append([2.0 if c == label else 0.0 for c in range(n_classes)])
            columns["loss"].append(0.24)
            columns["correct"].append(True)
            columns["attack_eval"].append(sample_id < rows_per_pool // 2)
    return columns


def write_outputs(path: Path, columns: dict[str, list[Any]]) -> Path:
    schema = pa.schema([field for field in OUTPUT_SCHEMA if field.name in columns])
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), path)
    return path


def test_a_valid_outputs_table_is_read(tmp_path):
    # The control for the damaged tables below.
    assert len(read_outputs(write_outputs(tmp_path / "outputs.parquet", outputs_columns()))) == 8


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_parquet_is_named(tmp_path, damage):
    path = write_outputs(tmp_path / "outputs.parquet", outputs_columns())
    data = path.read_bytes()
    path.write_bytes(b"this is not parquet" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"^{path}: not a readable parquet file"):
        read_outputs(path)


def test_outputs_missing_a_column_are_named(tmp_path):
    columns = outputs_columns()
    del columns["loss"]
    path = write_outputs(tmp_path / "outputs.parquet", columns)
    with pytest.raises(ValueError) as refusal:
        read_outputs(path)
    assert str(refusal.value) == (
        f"{path}: missing column(s) ['loss']; expected columns {OUTPUT_SCHEMA.names}"
    )


@pytest.mark.parametrize(
    ("lengths", "found"),
    [((3, 2), "logits lengths range from 2 to 3"), ((1, 1), "logits lengths range from 1 to 1")],
    ids=["ragged", "single_class"],
)
def test_outputs_with_wrong_logits_lengths_are_named(tmp_path, lengths, found):
    columns = outputs_columns()
    columns["logits"] = [[0.5] * lengths[i % 2] for i in range(len(columns["logits"]))]
    path = write_outputs(tmp_path / "outputs.parquet", columns)
    with pytest.raises(ValueError) as refusal:
        read_outputs(path)
    message = str(refusal.value)
    assert message.startswith(f"{path}: {found}")
    assert "expected the same number of classes (>= 2) in every row" in message


def test_outputs_with_a_label_beyond_the_logits_are_named(tmp_path):
    columns = outputs_columns(n_classes=3)
    columns["label"][0] = 3
    path = write_outputs(tmp_path / "outputs.parquet", columns)
    with pytest.raises(ValueError, match=r"labels range from 0 to 3; expected 0\.\.2"):
        read_outputs(path)


def test_a_damaged_outputs_table_stops_the_transfer_job_without_a_matrix(tmp_path):
    good = write_outputs(tmp_path / "good.parquet", outputs_columns())
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 but not really")
    matrix = tmp_path / "transfer" / "mlp_n4.parquet"
    cells = tmp_path / "transfer" / "mlp_n4.cells.parquet"
    params = {"attack": validate(TINY)["attack"]}
    keys = [{"arch": "resnet18", "sparsity": p, "seed": 0} for p in (0.0, 0.5)]
    with pytest.raises(ValueError, match=rf"^{bad}: not a readable parquet file"):
        attack_steps.transfer(keys, [good, bad], "mlp", 4, params, matrix, cells)
    assert not matrix.exists() and not cells.exists()
    assert not matrix.parent.exists() or list(matrix.parent.iterdir()) == []


TINY_SPEC = ModelSpec("resnet18", num_classes=10, in_channels=1, image_size=8, width=4)


def dense_record(path: Path, spec: ModelSpec = TINY_SPEC) -> Path:
    write_json(path, {"model_spec": asdict(spec)})
    return path


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"not a pickle at all", "not a loadable weights-only state dict"),
        ({"conv1.weight": 3}, "expected a state dict (parameter name -> tensor), found dict"),
        ([torch.zeros(2)], "expected a state dict (parameter name -> tensor), found list"),
    ],
    ids=["garbage", "non_tensor_values", "list"],
)
def test_a_pt_file_that_is_not_a_state_dict_is_named_and_no_mask_is_written(
    tmp_path, content, found
):
    weights = tmp_path / "model.pt"
    if isinstance(content, bytes):
        weights.write_bytes(content)
    else:
        torch.save(content, weights)
    with pytest.raises(ValueError) as refusal:
        load_state_dict(weights)
    assert str(refusal.value).startswith(f"{weights}: {found}")
    mask = tmp_path / "sparsity0.5" / "mask.pt"
    with pytest.raises(ValueError, match=f"^{weights}: "):
        pruning_steps.prune(
            "magnitude", 0.5, {"exclude": ["fc"]}, {"seed": 0}, mask,
            dense_model_path=weights, dense_record_path=dense_record(tmp_path / "train.json"),
        )  # fmt: skip
    assert not mask.parent.exists() or list(mask.parent.iterdir()) == []


def test_weights_of_another_model_are_named_and_no_mask_is_written(tmp_path):
    wider = build_model(ModelSpec("resnet18", num_classes=10, in_channels=1, image_size=8, width=8))
    weights = tmp_path / "model.pt"
    save_state_dict(wider.state_dict(), weights)
    mask = tmp_path / "mask.pt"
    with pytest.raises(ValueError, match=rf"^{weights}: does not fit the model"):
        pruning_steps.prune(
            "magnitude", 0.5, {"exclude": ["fc"]}, {"seed": 0}, mask,
            dense_model_path=weights, dense_record_path=dense_record(tmp_path / "train.json"),
        )  # fmt: skip
    assert not mask.exists()


class RunsCode:
    """Unpickles into ``os.system("touch <marker>")``: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def crafted_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"conv1.weight": torch.zeros(1), "payload": RunsCode(marker)}, path)
    return path


def test_the_crafted_pickle_really_runs_code_when_unpickled_unsafely(tmp_path):
    # The control for the next tests: their file is a live exploit, not a merely broken one.
    marker = tmp_path / "pwned"
    torch.load(crafted_checkpoint(tmp_path / "evil.pt", marker), weights_only=False)
    assert marker.exists()


def test_a_crafted_pickle_is_refused_and_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = crafted_checkpoint(tmp_path / "evil.pt", marker)
    with pytest.raises(ValueError, match=rf"^{evil}: not a loadable weights-only state dict"):
        load_state_dict(evil)
    model = build_model(TINY_SPEC)
    with pytest.raises(ValueError, match=rf"^{evil}: not a loadable weights-only state dict"):
        job_inputs.load_mask(evil, model)
    assert not marker.exists()


def test_a_crafted_training_checkpoint_is_refused_before_training(tmp_path):
    marker = tmp_path / "pwned"
    checkpoint = crafted_checkpoint(tmp_path / "train_checkpoint.pt", marker)
    settings = TrainSettings(epochs=1, batch_size=128, lr=0.1, device="cpu")
    digits = load_dataset("digits", TINY["datasets"]["digits"])
    with pytest.raises(
        ValueError, match=r"train_checkpoint\.pt: not a loadable weights-only"
    ) as caught:
        train(build_model(TINY_SPEC), digits, settings, seed=0, checkpoint=checkpoint)
    assert isinstance(caught.value.__cause__, pickle.UnpicklingError)
    assert not marker.exists()
