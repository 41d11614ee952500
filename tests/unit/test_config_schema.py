"""The schema is the one source of keys, defaults and names: the library agrees with it.

The config gate (tests/workflow/test_bad_input.py) checks every value once; the library's settings
objects then trust it. These tests fail when the library and the schema drift apart: a new attack,
architecture, dataset, augmentation or schedule added on one side only, or a default changed in
one place.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from lottery_mia import attack, data, models, prune, training
from lottery_mia.attack.base import FEATURE_KINDS, AttackSettings, MlpSettings, SvmSettings
from lottery_mia.config import schema_defaults, schema_names, schema_node
from lottery_mia.data.image_folders import FOLDER_AUGMENTATIONS
from lottery_mia.data.tensor_pool import MEMORY_AUGMENTATIONS
from lottery_mia.figures import FigureStyle


def as_config(value: Any) -> Any:
    """A settings value as YAML would spell it (tuples are lists)."""
    if dataclasses.is_dataclass(value):
        return {f.name: as_config(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize(
    ("key", "implemented"),
    [
        ("grid.attacks", attack.ATTACK_NAMES),
        ("transfer.attacks", attack.ATTACK_NAMES),
        ("figures.attack", attack.ATTACK_NAMES),
        ("grid.archs", tuple(models.ARCHITECTURES)),
        ("attack.features", FEATURE_KINDS),
        ("training.schedule", training.SCHEDULES),
        ("grid.pruning_methods", tuple(prune.METHODS)),
    ],
)
def test_every_list_of_names_matches_the_implementation(key, implemented):
    assert schema_names(key) == tuple(implemented)


def test_the_datasets_of_the_schema_are_the_registered_loaders():
    assert tuple(schema_node("datasets")["properties"]) == data.DATASET_NAMES


@pytest.mark.parametrize(
    ("dataset", "pool_augmentations"),
    [
        ("digits", MEMORY_AUGMENTATIONS),
        ("cifar10", MEMORY_AUGMENTATIONS),
        ("cifar100", MEMORY_AUGMENTATIONS),
        ("imagenet32", MEMORY_AUGMENTATIONS),
        ("imagenet64", MEMORY_AUGMENTATIONS),
        ("imagenet", FOLDER_AUGMENTATIONS),
    ],
)
def test_every_augmentation_the_schema_allows_is_implemented(dataset, pool_augmentations):
    assert set(schema_names(f"datasets.{dataset}.augmentation")) <= set(pool_augmentations)


@pytest.mark.parametrize(
    ("section", "settings"),
    [
        ("attack", AttackSettings()),
        ("figures", FigureStyle()),
        ("training", training.TrainSettings(epochs=10, batch_size=64, lr=0.1)),
    ],
    ids=["attack", "figures", "training"],
)
def test_library_defaults_equal_the_schema_defaults(section, settings):
    library = as_config(settings)
    schema = schema_defaults(section)
    for sub in ("mlp", "svm", "random_forest"):
        if sub in schema:
            schema[sub] = schema_defaults(f"{section}.{sub}")
    shared = set(library) & set(schema)
    assert shared, "no key in common: the comparison would prove nothing"
    assert {key: library[key] for key in shared} == {key: schema[key] for key in shared}


def test_settings_are_built_from_the_gate_output_without_rechecking():
    section = schema_defaults("attack") | {"mlp": {"hidden_layer_sizes": [16, 8], "max_iter": 5}}
    settings = AttackSettings.from_config(section)
    assert settings.mlp == MlpSettings(hidden_layer_sizes=(16, 8), max_iter=5)
    assert settings.svm == SvmSettings()  # a job gets only its own attack's sub-section


def test_palettes_accepted_without_seaborn_are_seaborn_palettes():
    """The gate skips importing seaborn for these names: each must really draw."""
    import seaborn

    from lottery_mia.config_checks import KNOWN_PALETTES

    for palette in sorted(KNOWN_PALETTES):
        assert len(seaborn.color_palette(palette)) >= 6, palette


def test_the_registries_read_only_settings_the_schema_defines():
    """Each attack's and pruning method's settings keys (their registry entries) exist."""
    attack_keys = set(schema_node("attack")["properties"])
    for spec in attack.ATTACKS.values():
        assert set(spec.settings) <= attack_keys, spec.name
    assert set(attack.registry.SHARED_SETTINGS) <= attack_keys
    pruning_keys = set(schema_node("pruning")["properties"])
    training_keys = set(schema_node("training")["properties"])
    for method in prune.METHODS.values():
        assert {"exclude", *method.settings} <= pruning_keys, method.name
        assert set(method.training_settings) <= training_keys, method.name
