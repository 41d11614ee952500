"""The attack registry: each name's family owns its behaviour; the registry imports nothing heavy."""

import subprocess
import sys
from pathlib import Path

import pytest

from lottery_mia.attack import ATTACKS, PER_MODEL_ATTACKS, REFERENCE_ATTACKS
from lottery_mia.attack.metric import METRIC_ATTACK_NAMES
from lottery_mia.attack.registry import FAMILY_MODULES, family_names

WORKFLOW_SCRIPTS = Path(__file__).resolve().parents[2] / "workflow_scripts"


def test_the_registry_parses_without_numpy_pandas_or_torch():
    """The config gate and the DAG read it at every Snakefile parse."""
    code = (
        "import sys, lottery_mia.attack.registry; "
        "assert not {'numpy', 'pandas', 'sklearn', 'torch'} & set(sys.modules), sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=WORKFLOW_SCRIPTS)


def test_attacks_split_into_per_model_and_reference_attacks():
    assert tuple(ATTACKS) == PER_MODEL_ATTACKS + REFERENCE_ATTACKS
    assert set(REFERENCE_ATTACKS) == {
        "shadow_mlp", "lira_online", "lira_offline", "rmia", "rmia_offline",
    }  # fmt: skip


def test_the_metric_family_is_every_signal_global_and_per_class():
    assert set(family_names("metric")) == set(METRIC_ATTACK_NAMES)


@pytest.mark.parametrize("family", sorted(FAMILY_MODULES))
def test_every_family_has_its_module(family):
    spec = ATTACKS[family_names(family)[0]]
    module = spec.implementation()
    if not spec.needs_references:
        assert callable(module.fit)


def test_only_learned_and_per_class_attacks_have_scores_that_depend_on_n():
    """Table 1 compares the others once: their AUC is the same at every sample count."""
    depends = {name for name, spec in ATTACKS.items() if spec.scores_depend_on_n}
    assert depends == {
        "mlp", "svm", "random_forest", "shadow_mlp",
        *(f"{signal}_per_class" for signal in ("loss_threshold", "confidence", "entropy", "modified_entropy")),
    }  # fmt: skip
