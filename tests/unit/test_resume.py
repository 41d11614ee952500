"""A training job killed with SIGKILL resumes from its epoch checkpoint to the very weights an
uninterrupted run reaches; a checkpoint of other settings is never resumed; atomic writes leave
nothing behind when they fail.

The training runs in child processes (one thread each, CPU, deterministic) through
``training_steps.train_dense``, the function the ``train_dense`` rule calls.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import REPO
from lottery_mia.atomic import atomic_path, write_json

EPOCHS = 8
KEY = {"dataset": "digits", "arch": "resnet18", "seed": 0, "sparsity": 0.0}
# 20% of the digits as members keeps an epoch short; width 4 keeps the model tiny.
PARAMS = {
    "data": {"test_fraction": 0.8, "split_seed": 0, "augmentation": "none"},
    "model": {"width": 4, "zero_init_residual": True},
    "training": {"epochs": EPOCHS, "batch_size": 64, "lr": 0.1, "device": "cpu"},
}
OTHER_LR = 0.05

#: Runs train_dense for each job of argv[1] (a JSON list), logging each to its own file.
DRIVER = """
import json, sys
from pathlib import Path
import torch
from lottery_mia import training_steps
from lottery_mia.logs import log_to_file

torch.set_num_threads(1)
for job in json.loads(sys.argv[1]):
    folder = Path(job["folder"])
    with log_to_file(folder / "train.log"):
        if not (folder / "init.pt").exists():
            training_steps.initialise(job["key"], job["params"], folder / "init.pt")
        training_steps.train_dense(
            job["key"], job["params"], folder / "init.pt", folder / "model.pt",
            folder / "train.json", folder / "train_checkpoint.pt",
        )
"""


def start_training(jobs: list[dict[str, Any]]) -> subprocess.Popen[str]:
    for job in jobs:
        Path(job["folder"]).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO / "workflow_scripts")}
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, json.dumps(jobs)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def job(folder: Path, **training: Any) -> dict[str, Any]:
    return {
        "folder": str(folder),
        "key": KEY,
        "params": {**PARAMS, "training": {**PARAMS["training"], **training}},
    }


def checkpoint_epoch(path: Path) -> int | None:
    """Epoch (0-based) of the checkpoint at ``path``, or None while there is none."""
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except FileNotFoundError:
        return None


def kill_after_checkpoint(process: subprocess.Popen[str], checkpoint: Path, epoch: int) -> None:
    """SIGKILL ``process`` as soon as the checkpoint of ``epoch`` or later is on disk."""
    while process.poll() is None:
        saved = checkpoint_epoch(checkpoint)
        if saved is not None and saved >= epoch:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == -signal.SIGKILL, f"the run was not killed mid-way:\n{output}"


def state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``killed``: killed after an epoch checkpoint, then rerun; ``reference``: never interrupted;
    ``foreign``: holds the killed run's checkpoint but trains with another learning rate."""
    root = tmp_path_factory.mktemp("resume")
    folders = {name: root / name for name in ("killed", "reference", "foreign")}
    checkpoint = folders["killed"] / "train_checkpoint.pt"
    kill_after_checkpoint(start_training([job(folders["killed"])]), checkpoint, epoch=1)
    after_kill = {path.name for path in folders["killed"].iterdir()}
    (root / "after_kill.json").write_text(json.dumps(sorted(after_kill)))
    folders["foreign"].mkdir()
    (folders["foreign"] / "train_checkpoint.pt").write_bytes(checkpoint.read_bytes())
    rerun = start_training(
        [job(folders["killed"]), job(folders["reference"]), job(folders["foreign"], lr=OTHER_LR)]
    )
    output = rerun.communicate(timeout=600)[0]
    assert rerun.returncode == 0, output
    return {**folders, "after_kill": root / "after_kill.json"}


@pytest.mark.slow
def test_a_killed_run_leaves_only_w0_and_its_checkpoint(runs):
    left = set(json.loads(runs["after_kill"].read_text()))
    assert {"init.pt", "train_checkpoint.pt"} <= left
    # No model or record that a later run would trust; at most a temp file of an interrupted write.
    assert not left & {"model.pt", "train.json"}
    assert all(
        name.endswith(".tmp") for name in left - {"init.pt", "train_checkpoint.pt", "train.log"}
    )


@pytest.mark.slow
def test_the_rerun_resumes_from_the_checkpoint(runs):
    record = json.loads((runs["killed"] / "train.json").read_text())
    assert 2 <= record["resumed_from_epoch"] < EPOCHS
    log = (runs["killed"] / "train.log").read_text()
    assert f"at epoch {record['resumed_from_epoch'] + 1}" in log
    assert "resumed from" in log
    assert not (runs["killed"] / "train_checkpoint.pt").exists(), "removed once training is done"


@pytest.mark.slow
def test_resumed_weights_equal_an_uninterrupted_run(runs):
    resumed, reference = state(runs["killed"] / "model.pt"), state(runs["reference"] / "model.pt")
    assert resumed.keys() == reference.keys()
    assert all(torch.equal(resumed[name], reference[name]) for name in reference)
    resumed_record = json.loads((runs["killed"] / "train.json").read_text())
    reference_record = json.loads((runs["reference"] / "train.json").read_text())
    assert resumed_record["history"] == reference_record["history"]
    assert len(reference_record["history"]) == EPOCHS
    assert reference_record["resumed_from_epoch"] == 0
    # The run learnt something, so equal weights are not equal untouched initial weights.
    initial = state(runs["reference"] / "init.pt")
    assert not torch.equal(initial["conv1.weight"], reference["conv1.weight"])


@pytest.mark.slow
def test_a_checkpoint_of_other_settings_is_not_resumed(runs):
    record = json.loads((runs["foreign"] / "train.json").read_text())
    assert record["resumed_from_epoch"] == 0
    assert [epoch["epoch"] for epoch in record["history"]] == list(range(1, EPOCHS + 1))
    assert record["history"][0]["lr"] == OTHER_LR  # cosine schedule: epoch 1 runs at the peak
    log = (runs["foreign"] / "train.log").read_text()
    assert "it was written by a run with other settings" in log
    assert "resumed from" not in log


def test_a_failure_inside_atomic_path_leaves_no_target_and_no_temp_file(tmp_path):
    target = tmp_path / "out" / "model.pt"
    with pytest.raises(RuntimeError, match="killed mid-write"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("killed mid-write")
    assert list(target.parent.iterdir()) == []


def test_a_failed_rewrite_keeps_the_previous_file_intact(tmp_path):
    target = tmp_path / "train.json"
    write_json(target, {"epochs": 1})
    with pytest.raises(TypeError):
        write_json(target, {"epochs": object()})  # not JSON-serialisable
    assert json.loads(target.read_text()) == {"epochs": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["train.json"]
