"""The config gate's checks of the reference-model keys, before any job runs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from conftest import REPO
from lottery_mia.config import ConfigError, check_config, load_schema, validate_config
from lottery_mia.data import pool_sizes

SCHEMA = load_schema(REPO / "rules" / "schemas" / "config.schema.yaml")
BASE: dict[str, Any] = yaml.safe_load((REPO / "tests/configs/tiny_references.yaml").read_text())


def gate(**attack: Any) -> None:
    config = copy.deepcopy(BASE)
    for key, value in attack.items():
        section, _, name = key.partition("__")
        config[section][name] = value
    check_config(validate_config(config, SCHEMA), SCHEMA, pool_sizes)


def test_the_reference_test_config_passes() -> None:
    gate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"attack__reference_models": 2},
            r"'attack\.reference_models': 2; expected 0 \(none\) or an even",
        ),
        ({"attack__reference_models": 5}, r"'attack\.reference_models': 5"),
        ({"attack__reference_models": 0}, r"0, but grid\.attacks has \['shadow_mlp'"),
        ({"attack__reference_sparsities": [0.8]}, r"'attack\.reference_sparsities': \[0\.8\]"),
        ({"attack__reference_archs": ["resnet50"]}, r"'attack\.reference_archs'"),
        (
            {"figures__attack": "lira_online"},
            r"'figures\.attack': 'lira_online' needs reference models at",
        ),
        (
            {"transfer__attacks": ["lira_online"]},
            r"'transfer\.attacks': \['lira_online'\] read reference",
        ),
    ],
)
def test_reference_keys_that_cannot_work_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gate(**changes)


def test_a_reference_attack_in_the_figures_passes_with_references_where_shown() -> None:
    gate(attack__reference_sparsities=[0, 0.5], figures__attack="lira_online")
