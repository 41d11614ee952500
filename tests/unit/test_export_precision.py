"""Exported logits are a plain float32 forward pass, whatever precision training ran in."""

import numpy as np
import pytest
import torch

from lottery_mia.data import load_dataset
from lottery_mia.models import ModelSpec, build_model
from lottery_mia.outputs import export_outputs
from lottery_mia.outputs_table import logits_matrix, read_outputs
from lottery_mia.selection import select_samples
from lottery_mia.training import TrainSettings, forward_batch


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"})


def trained_looking_model():
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0)
    with torch.no_grad():  # non-trivial running statistics, then inference
        model.train()(torch.randn(256, 1, 8, 8) * 3 + 1)
    return model.eval()


def export_and_reference(model, digits, device, tmp_path):
    """Exported logits and those of a plain fp32 forward over the same rows, in the same order."""
    selection = select_samples(len(digits.train), len(digits.test), 100, None, seed=0)
    settings = TrainSettings(epochs=1, batch_size=1, lr=0.1, amp=True, device=device.type)
    model = model.to(device)
    export_outputs(model, digits, selection, settings, device, tmp_path / "outputs.parquet")
    frame = read_outputs(tmp_path / "outputs.parquet")
    reference = []
    with torch.no_grad():
        for pool_name, pool in (("train", digits.train), ("test", digits.test)):
            ids = frame.loc[frame["pool"] == pool_name, "sample_id"].to_numpy()
            for images, _ in pool.batches(ids, 512, device, augment=False):
                reference.append(model(images.float()).float().cpu().numpy())
    return logits_matrix(frame), np.concatenate(reference)


def test_export_ignores_the_training_autocast(tmp_path, digits, monkeypatch):
    """Training autocasts to bfloat16 only on CUDA. Emulated here on the CPU: every autocast
    context a step opens becomes a bfloat16 one, as the training forward's is on a GPU."""
    model = trained_looking_model()
    real_autocast = torch.autocast

    def gpu_like_autocast(device_type, dtype=None, enabled=True, cache_enabled=None):
        return real_autocast("cpu", dtype=torch.bfloat16, enabled=True)

    images = torch.randn(64, 1, 8, 8)
    with torch.no_grad():
        plain = model(images)
        monkeypatch.setattr(torch, "autocast", gpu_like_autocast)
        settings = TrainSettings(epochs=1, batch_size=1, lr=0.1, channels_last=False)
        emulated = forward_batch(model, images, settings, torch.device("cpu"))
    # The emulation has teeth: the training forward now really computes in bfloat16.
    assert (emulated.float() - plain).abs().max() > 1e-3
    exported, reference = export_and_reference(model, digits, torch.device("cpu"), tmp_path)
    np.testing.assert_allclose(exported, reference, rtol=0, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_export_on_cuda_matches_a_float32_forward(tmp_path, digits):
    exported, reference = export_and_reference(
        trained_looking_model(), digits, torch.device("cuda"), tmp_path
    )
    np.testing.assert_allclose(exported, reference, rtol=0, atol=1e-4)
