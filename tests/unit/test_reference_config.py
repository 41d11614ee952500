"""The config gate's checks of the reference-model keys, before any job runs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from conftest import REPO
from lottery_mia.config import ConfigError, load_schema, validate_config
from lottery_mia.config_checks import check_config
from lottery_mia.data import pool_sizes
from lottery_mia.reference_keep import PER_ROW_MIN_REFERENCES

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


@pytest.mark.parametrize("count", [4, 14])
def test_per_row_lira_variance_below_the_documented_minimum_is_refused(count: int) -> None:
    """2 IN and 2 OUT values per row give LiRA a per-row sigma too noisy to use (issue 19)."""
    with pytest.raises(ConfigError) as refusal:
        gate(attack__reference_models=count, attack__lira={"variance": "per_row"})
    header, *problems = str(refusal.value).splitlines()
    assert header == "invalid configuration:"
    assert len(problems) == 1, problems
    assert "config key 'attack.lira.variance': 'per_row'" in problems[0]
    assert f"attack.reference_models >= {PER_ROW_MIN_REFERENCES}" in problems[0]
    assert f"got {count}" in problems[0]


def test_per_row_lira_variance_passes_from_the_minimum_on() -> None:
    gate(attack__reference_models=PER_ROW_MIN_REFERENCES, attack__lira={"variance": "per_row"})
    gate(attack__reference_models=4, attack__lira={"variance": "global"})


def test_the_schema_states_the_minimum_for_per_row_variance() -> None:
    variance = SCHEMA["properties"]["attack"]["properties"]["lira"]["properties"]["variance"]
    assert f"{PER_ROW_MIN_REFERENCES} references" in variance["description"]


def test_a_reference_attack_in_the_figures_passes_with_references_where_shown() -> None:
    gate(attack__reference_sparsities=[0, 0.5], figures__attack="lira_online")
