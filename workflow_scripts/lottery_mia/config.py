"""Config validation and the views of the config that rules need.

The JSON schema (``rules/schemas/config.schema.yaml``) checks types, ranges and unknown keys and fills
in defaults; ``config_checks.check_config`` adds the checks a schema cannot express (data on disk and
pool sizes, per-dataset training overrides, keys that must agree with each other).
Both run when the workflow is parsed, before any job starts.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

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


def schema_error_key(error: jsonschema.ValidationError) -> str:
    """The dotted key a schema error is about (``grid.seeds[0]``), as every config message names it."""
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def describe_schema_error(error: jsonschema.ValidationError) -> str:
    """A schema error in words, with the allowed keys or the schema's description of the value:
    the message alone rarely says what to write instead."""
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
        lines = [
            f"config key '{schema_error_key(error)}': {describe_schema_error(error)}"
            for error in errors
        ]
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
