"""A training job that dies after an epoch checkpoint is retried by Snakemake (`retries`, as in
profiles/slurm) and the retry resumes from that checkpoint instead of starting over."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
import yaml

from conftest import TINY_CONFIG, run_snakemake

EPOCHS = 3
# Loaded by every Python process of the run (PYTHONPATH): wraps the training checkpoint writer
# so that the first process to save epoch 1 (0-based 0) exits at once, as a job killed by its
# time limit would. The marker file makes it happen once.
DIE_AFTER_FIRST_CHECKPOINT = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, os, sys

    class _Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "lottery_mia.training":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            run_module = spec.loader.exec_module

            def exec_module(module):
                run_module(module)
                save = module._save_checkpoint

                def save_then_die(path, fingerprint, epoch, *args, **kwargs):
                    save(path, fingerprint, epoch, *args, **kwargs)
                    marker = os.environ["LMIA_TEST_DIE_MARKER"]
                    if epoch == 0 and not os.path.exists(marker):
                        open(marker, "w").close()
                        os._exit(3)

                module._save_checkpoint = save_then_die

            spec.loader.exec_module = exec_module
            return spec

    if os.environ.get("LMIA_TEST_DIE_MARKER"):
        sys.meta_path.insert(0, _Hook())
    """
)


@pytest.mark.workflow
@pytest.mark.slow
def test_retry_resumes_from_the_epoch_checkpoint(tmp_path, monkeypatch):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["grid"]["archs"] = ["resnet18"]
    config["model"]["width"] = 8
    config["training"]["epochs"] = EPOCHS
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(DIE_AFTER_FIRST_CHECKPOINT)
    marker = tmp_path / "first_attempt_died"
    pythonpath = os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", pythonpath)
    monkeypatch.setenv("LMIA_TEST_DIE_MARKER", str(marker))
    workdir = tmp_path / "run"
    dense = "results/digits/resnet18/seed0/sparsity0"

    run_snakemake(workdir, config_path, "--cores", "1", "--retries", "1", f"{dense}/model.pt")

    assert marker.exists(), "the first attempt did not die: the test checked nothing"
    record = json.loads((workdir / dense / "train.json").read_text())
    assert record["resumed_from_epoch"] == 1
    assert len(record["history"]) == EPOCHS
    log = (workdir / "results/logs/train_dense/digits_resnet18_seed0.log").read_text()
    assert "resumed from" in log and "at epoch 2" in log
    assert not (workdir / dense / "train_checkpoint.pt").exists()
