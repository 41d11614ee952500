"""Config validation and the views of the config that rules need.

The JSON schema (``rules/schemas/config.schema.yaml``) checks types, ranges and unknown keys and fills
in defaults; ``check_config`` adds the checks a schema cannot express (data on disk and pool sizes,
per-dataset training overrides, keys that must agree with each other).
Both run when the workflow is parsed, before any job starts.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

from lottery_mia.architectures import prunable_layer_names
from lottery_mia.attack.registry import REFERENCE_ATTACKS
from lottery_mia.pruning_plan import check_exclude_patterns, imp_round, rewind_epoch
from lottery_mia.reference_keep import per_row_variance_problem, reference_count_problem
from lottery_mia.selection import max_sample_count, samples_per_pool

#: Keys of a ``datasets.<name>`` entry that configure the pipeline rather than the data loader.
PIPELINE_DATASET_KEYS = ("sample_counts", "training")


class ConfigError(ValueError):
    """A configuration that the pipeline refuses, with one line per problem."""


#: The one description of the config: keys, types, ranges, defaults and the lists of names.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "rules" / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


@functools.cache
def _study_schema() -> dict[str, Any]:
    return load_schema()


def _resolved(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """``node`` with its local ``$ref`` (``#/$defs/...``) merged in, its own keys winning."""
    while "$ref" in node:
        target = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return dict(node)


def schema_node(dotted: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The schema of config key ``dotted`` (``"attack.mlp"``), local ``$ref``s resolved."""
    root = schema if schema is not None else _study_schema()
    node = _resolved(root, root)
    for part in filter(None, dotted.split(".")):
        node = _resolved(node["properties"][part], root)
    return node


def schema_defaults(dotted: str) -> dict[str, Any]:
    """The defaults the schema gives the keys of section ``dotted``."""
    properties = schema_node(dotted).get("properties", {})
    return {
        key: copy.deepcopy(sub["default"])
        for key in properties
        if "default" in (sub := schema_node(f"{dotted}.{key}"))
    }


def schema_names(dotted: str) -> tuple[str, ...]:
    """The allowed values of a string key, or of the items of a list key (an ``enum``)."""
    node = schema_node(dotted)
    if "items" in node:
        node = _resolved(node["items"], _study_schema())
    return tuple(node["enum"])


def _filling_validator(schema: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator that writes each missing property's ``default`` into the instance."""
    base = jsonschema.Draft202012Validator
    validate_properties = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    filling = jsonschema.validators.extend(base, {"properties": set_defaults})
    return filling(schema)


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed keys: {allowed}"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f"{error.message}" + (f" (expected: {description})" if description else "")


def validate_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``config`` with defaults filled in, or raise ``ConfigError`` naming each key."""
    filled = copy.deepcopy(dict(config))
    errors = sorted(_filling_validator(schema).iter_errors(filled), key=lambda e: list(e.path))
    if errors:
        lines = [f"config key '{_key_path(error)}': {_describe(error)}" for error in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return filled


def canonical_config(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` in one canonical form: keys sorted at every level, and an integer where the
    schema asks for a number written as a float (``lr: 1`` is ``lr: 1.0``).

    Snakemake compares a job's params as written, dict order included, so without this a config
    re-dumped with sorted keys (or reformatted by a tool) would rerun every job.
    """

    def canonical(value: Any, node: Mapping[str, Any]) -> Any:
        node = _resolved(node, schema)
        if isinstance(value, Mapping):
            properties = node.get("properties", {})
            return {key: canonical(value[key], properties.get(key, {})) for key in sorted(value)}
        if isinstance(value, list | tuple):
            return [canonical(item, node.get("items", {})) for item in value]
        if node.get("type") == "number" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    return canonical(config, schema)


def canonical_sparsity(sparsity: float) -> str:
    """The one spelling of a sparsity in paths: ``0``, ``0.5``, ``0.85`` (never ``0.50``)."""
    return np.format_float_positional(float(sparsity), trim="-")


#: Regex of canonical non-zero sparsities, for wildcard constraints.
NONZERO_SPARSITY_PATTERN = r"0\.[0-9]*[1-9]"
SPARSITY_PATTERN = rf"0|{NONZERO_SPARSITY_PATTERN}"


def sample_counts(config: Mapping[str, Any], dataset: str) -> list[int]:
    return list(config["datasets"][dataset].get("sample_counts") or config["grid"]["sample_counts"])


def training_settings(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The ``training`` section with the dataset's overrides applied."""
    return {**config["training"], **config["datasets"][dataset].get("training", {})}


def data_settings(config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The ``datasets.<name>`` entry without the pipeline keys: what the data loader reads."""
    entry = config["datasets"][dataset]
    return {key: value for key, value in entry.items() if key not in PIPELINE_DATASET_KEYS}


#: Training augmentations that mirror images: a model trained with them has seen both views.
MIRRORING_AUGMENTATIONS = frozenset({"flip_crop", "random_resized_crop"})


def queries_flipped(query_flips: str, augmentation: str) -> bool:
    """Whether exports carry ``logits_flipped``: ``outputs.query_flips`` (auto | always | never),
    auto meaning "when training mirrored images" (querying a view the model never trained on
    would add noise, not evidence)."""
    if query_flips == "auto":
        return augmentation in MIRRORING_AUGMENTATIONS
    return query_flips == "always"


def export_queries(config: Mapping[str, Any], dataset: str) -> int:
    """Forward passes per exported row: 2 with the mirror image, else 1."""
    augmentation = config["datasets"][dataset].get("augmentation", "none")
    return 2 if queries_flipped(config["outputs"]["query_flips"], augmentation) else 1


def check_config(
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    pool_sizes: Callable[[str, Mapping[str, Any]], tuple[int, int]] | None,
) -> None:
    """Checks beyond the schema, all before any job runs: per-dataset training overrides, the
    settings the figures and Table 1 need from the grid, and data that is there and large enough
    for every sample count (unless ``pool_sizes`` is None: a cluster job, whose data the main
    process has checked)."""
    problems = [
        *_grid_problems(config),
        *_reference_problems(config),
        *_pruning_problems(config),
    ]
    for dataset in config["datasets"]:
        problems.extend(_override_problems(config, dataset, schema))
        problems.extend(_warmup_problems(config, dataset))
        problems.extend(_rewind_problems(config, dataset))
        if pool_sizes is not None:
            problems.extend(_pool_problems(config, dataset, pool_sizes))
    if problems:
        # One message per key: a shared section's problem is found once per dataset.
        unique = dict.fromkeys(problems)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(unique))


def _grid_problems(config: Mapping[str, Any]) -> list[str]:
    """Keys whose values only fail at the last, figure-drawing jobs unless checked here."""
    problems = []
    attacks = config["grid"]["attacks"]
    if config["figures"]["attack"] not in attacks:
        problems.append(
            f"config key 'figures.attack': {config['figures']['attack']!r} is not in "
            f"grid.attacks {attacks}; expected one of the attacks the grid runs"
        )
    sparsities = config["grid"]["sparsities"]
    if 0 not in sparsities or all(p == 0 for p in sparsities):
        problems.append(
            f"config key 'grid.sparsities': {sparsities}; expected 0 (the dense baseline) and at "
            "least one sparsity > 0 (a ticket), which Figure 3 and Table 1 compare"
        )
    table_attacks = config["figures"]["table_attacks"] or []
    unknown_in_table = [a for a in table_attacks if a not in attacks]
    if unknown_in_table:
        problems.append(
            f"config key 'figures.table_attacks': {unknown_in_table} not in grid.attacks "
            f"{attacks}; expected attacks the grid runs (or null for the default)"
        )
    unknown_transfers = [a for a in config["transfer"]["attacks"] if a not in attacks]
    if unknown_transfers:
        problems.append(
            f"config key 'transfer.attacks': {unknown_transfers} not in grid.attacks {attacks}; "
            "expected attacks the grid runs (a transfer matrix needs the attack's settings and "
            "every model's attack results)"
        )
    palette_problem = _palette_problem(config["figures"]["palette"])
    if palette_problem:
        problems.append(palette_problem)
    if config["figures"]["sparsity"] == 0:
        problems.append(
            "config key 'figures.sparsity': 0; expected the sparsity of a ticket (> 0), which "
            "Figure 3 and Table 1 show"
        )
    return problems


def _reference_problems(config: Mapping[str, Any]) -> list[str]:
    """Reference models: a balanced keep matrix, and references wherever their attacks run."""
    attack, grid = config["attack"], config["grid"]
    count = attack["reference_models"]
    problems = []
    count_problem = reference_count_problem(count)
    if count and count_problem:
        problems.append(
            f"config key 'attack.reference_models': {count}; expected 0 (none) or {count_problem}"
        )
    variance_problem = per_row_variance_problem(attack["lira"]["variance"], count)
    if count and variance_problem:
        problems.append(variance_problem)
    wanted = [name for name in grid["attacks"] if name in REFERENCE_ATTACKS]
    if wanted and not count:
        problems.append(
            f"config key 'attack.reference_models': 0, but grid.attacks has {wanted}; expected "
            "an even number >= 4 of reference models for them"
        )
    for key, grid_key in (("reference_sparsities", "sparsities"), ("reference_archs", "archs")):
        chosen = attack[key]
        if chosen is not None and not set(chosen) <= set(grid[grid_key]):
            problems.append(
                f"config key 'attack.{key}': {chosen}; expected values of grid.{grid_key} "
                f"{grid[grid_key]} (or null = all)"
            )
    shown = config["figures"]["attack"]
    sparsities, archs = attack["reference_sparsities"], attack["reference_archs"]
    missing_sparsity = sparsities is not None and not {0, config["figures"]["sparsity"]} <= set(
        sparsities
    )
    missing_arch = archs is not None and not set(grid["archs"]) <= set(archs)
    if shown in REFERENCE_ATTACKS and (missing_sparsity or missing_arch):
        problems.append(
            f"config key 'figures.attack': {shown!r} needs reference models at sparsities 0 and "
            f"figures.sparsity for every architecture; attack.reference_sparsities is "
            f"{sparsities}, attack.reference_archs {archs}"
        )
    not_transferable = [a for a in config["transfer"]["attacks"] if a in REFERENCE_ATTACKS]
    if not_transferable:
        problems.append(
            f"config key 'transfer.attacks': {not_transferable} read reference models, not one "
            "model's outputs; expected attacks trained on one model's outputs"
        )
    return problems


def _pruning_problems(config: Mapping[str, Any]) -> list[str]:
    """Exclusion patterns that match no layer, and sparsities IMP cannot reach."""
    problems = []
    pruning = config["pruning"]
    for pattern in pruning["exclude"]:
        refusals = {}
        for arch in config["grid"]["archs"]:
            try:
                check_exclude_patterns(prunable_layer_names(arch), [pattern])
            except ValueError as err:
                refusals[arch] = _after_key(err)
        if refusals:
            archs = ", ".join(refusals)
            message = next(iter(refusals.values()))
            problems.append(f"config key 'pruning.exclude' ({archs}): {message}")
    if "imp" in config["grid"]["pruning_methods"]:
        for sparsity in config["grid"]["sparsities"]:
            if sparsity == 0:
                continue
            try:
                imp_round(sparsity, pruning["imp_rate"])
            except ValueError as err:
                problems.append(f"config key 'grid.sparsities' (method imp): {err}")
    return problems


def _after_key(error: ValueError) -> str:
    """The library's message without its leading ``<key>: `` (the gate names the key itself)."""
    message = str(error)
    return message.split(": ", 1)[1] if message.startswith(("pruning.", "training.")) else message


def _rewind_problems(config: Mapping[str, Any], dataset: str) -> list[str]:
    """A rewind epoch the dataset's dense run never reaches."""
    epochs = training_settings(config, dataset)["epochs"]
    try:
        rewind_epoch(config["pruning"]["rewind"], epochs)
    except ValueError as err:
        return [f"config key 'pruning.rewind' (dataset {dataset}): {_after_key(err)}"]
    return []


# Palettes seaborn always has (its own and matplotlib's qualitative maps): naming one skips
# importing seaborn, a second of every Snakefile parse.
KNOWN_PALETTES = frozenset(
    {f"{name}{six}" for name in ("deep", "muted", "pastel", "bright", "dark", "colorblind")
     for six in ("", "6")}
    | {"tab10", "tab20", "tab20b", "tab20c", "Set1", "Set2", "Set3", "Accent", "Paired",
       "Pastel1", "Pastel2", "Dark2", "husl", "hls"}
)  # fmt: skip


def _palette_problem(palette: str) -> str | None:
    """A palette seaborn cannot draw fails the figure jobs at the very end: check it now."""
    if palette in KNOWN_PALETTES:
        return None
    import seaborn  # here, not at the top: only an unusual palette needs it

    try:
        seaborn.color_palette(palette)
    except ValueError as err:
        return f"config key 'figures.palette': {palette!r} is not a seaborn palette ({err})"
    return None


def _override_problems(
    config: Mapping[str, Any], dataset: str, schema: Mapping[str, Any]
) -> list[str]:
    """``datasets.<name>.training`` must obey the ``training`` schema (keys, types, ranges)."""
    override = config["datasets"][dataset].get("training", {})
    validator = jsonschema.Draft202012Validator(schema["$defs"]["training"])
    errors = sorted(validator.iter_errors(override), key=lambda e: list(e.path))
    return [
        f"config key 'datasets.{dataset}.training"
        f"{'.' + _key_path(error) if error.absolute_path else ''}': {_describe(error)}"
        for error in errors
    ]


def _warmup_problems(config: Mapping[str, Any], dataset: str) -> list[str]:
    """The warm-up must end before training does: the schedule after it needs epochs to run in."""
    training = training_settings(config, dataset)
    epochs, warmup = training["epochs"], training["warmup_epochs"]
    if not isinstance(epochs, int) or epochs < 1 or not isinstance(warmup, int) or warmup < epochs:
        return []  # a bad epochs or warmup_epochs value is reported by the schema checks
    override = config["datasets"][dataset].get("training", {})
    overridden = "epochs" in override or "warmup_epochs" in override
    key = f"datasets.{dataset}.training.warmup_epochs" if overridden else "training.warmup_epochs"
    return [
        f"config key '{key}': {warmup} with {epochs} training epochs; "
        "expected fewer warm-up epochs than training epochs"
    ]


def _pool_problems(
    config: Mapping[str, Any],
    dataset: str,
    pool_sizes: Callable[[str, Mapping[str, Any]], tuple[int, int]],
) -> list[str]:
    settings = data_settings(config, dataset)
    try:
        train_size, test_size = pool_sizes(dataset, settings)
    except (OSError, ValueError) as err:  # missing or unreadable data, settings the loader refuses
        missing_root = isinstance(err, OSError) and "root" in settings
        return [f"config key 'datasets.{dataset}{'.root' if missing_root else ''}': {err}"]
    per_pool = samples_per_pool(train_size, test_size, config["outputs"]["max_per_pool"])
    eval_size = config["attack"]["eval_size"]
    largest = max_sample_count(per_pool, eval_size)
    too_large = [n for n in sample_counts(config, dataset) if n > largest]
    if not too_large:
        return []
    own_counts = bool(config["datasets"][dataset].get("sample_counts"))
    key = f"datasets.{dataset}.sample_counts" if own_counts else "grid.sample_counts"
    return [
        f"config key '{key}' (dataset {dataset}): sample count(s) {too_large} need "
        f"n/2 members and n/2 non-members plus attack.eval_size/2 = {eval_size // 2} of each, but "
        f"{dataset} has {train_size} training (member) and {test_size} test (non-member) samples, "
        f"{per_pool} exported per pool: the largest allowed sample count is {largest}"
    ]
