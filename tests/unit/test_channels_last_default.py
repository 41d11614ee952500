"""channels_last defaults to CUDA only: narrow models crash oneDNN's AVX2 path on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

from lottery_mia.config import ConfigError, load_schema, validate_config
from lottery_mia.training import TrainSettings

SCRIPTS = Path(__file__).resolve().parents[2] / "workflow_scripts"
TINY = {"epochs": 1, "batch_size": 128, "lr": 0.1, "device": "cpu"}

# Two same-seed trainings of ResNet-18 at width 4 under the default settings; prints whether the
# weights agree. Under the old default (channels_last on the CPU) this died with SIGABRT/SIGSEGV
# in 5 of 5 runs with ONEDNN_MAX_CPU_ISA=AVX2 (benchmarks/avx2_crash_repro.py).
CHILD = textwrap.dedent(
    f"""
    import torch
    from lottery_mia.data import load_dataset
    from lottery_mia.models import ModelSpec, build_model
    from lottery_mia.training import TrainSettings, train

    torch.set_num_threads(1)
    digits = load_dataset("digits", {{"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"}})
    settings = TrainSettings.from_config({TINY!r})
    spec = ModelSpec("resnet18", 10, in_channels=1, image_size=8, width=4)
    models = [build_model(spec, seed=0) for _ in range(2)]
    for model in models:
        train(model, digits, settings, seed=0)
    first, second = (model.state_dict() for model in models)
    print("equal" if all(torch.equal(first[k], second[k]) for k in first) else "different")
    """
)


def test_auto_means_channels_last_on_cuda_only():
    settings = TrainSettings.from_config(TINY)
    assert settings.channels_last == "auto"
    assert not settings.uses_channels_last(torch.device("cpu"))
    assert settings.uses_channels_last(torch.device("cuda"))


def test_explicit_setting_is_honoured_on_every_device():
    on = TrainSettings.from_config({**TINY, "channels_last": True})
    off = TrainSettings.from_config({**TINY, "channels_last": False})
    assert on.uses_channels_last(torch.device("cpu"))
    assert not off.uses_channels_last(torch.device("cuda"))


@pytest.mark.slow
def test_default_width4_training_survives_the_avx2_code_path():
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONPATH": str(SCRIPTS)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stderr[-2000:]}"
    assert done.stdout.strip().splitlines()[-1] == "equal"


def test_schema_defaults_to_auto_and_names_a_bad_value():
    schema = load_schema(SCRIPTS.parent / "rules" / "schemas" / "config.schema.yaml")
    config = yaml.safe_load((SCRIPTS.parent / "tests" / "configs" / "tiny.yaml").read_text())
    config["training"].pop("channels_last", None)
    assert validate_config(config, schema)["training"]["channels_last"] == "auto"
    config["training"]["channels_last"] = "yes"
    with pytest.raises(ConfigError, match=r"training\.channels_last': 'yes' is not one of"):
        validate_config(config, schema)
