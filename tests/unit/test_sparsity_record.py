"""train.json's sparsity: the grid's axis over prunable weights, and the share of all parameters."""

import pytest
import torch

from lottery_mia.models import ModelSpec, build_model
from lottery_mia.pruning import MaskEnforcer, global_magnitude_mask
from lottery_mia.training_steps import sparsity_fields


def test_record_gives_sparsity_over_prunable_weights_and_over_all_parameters():
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0)
    mask = global_magnitude_mask(model, 0.8)  # fc excluded by default
    MaskEnforcer(model, mask).apply_to_weights()
    fields = sparsity_fields(model, mask)
    assert fields["achieved_sparsity"] == pytest.approx(0.8, abs=1e-4)
    parameters = list(model.parameters())
    zeros = sum(int((p == 0).sum()) for p in parameters)
    total = sum(p.numel() for p in parameters)
    assert fields["achieved_sparsity_all_parameters"] == pytest.approx(zeros / total)
    # fc, biases and BatchNorm are not pruned: fewer of all parameters are zero than of the pool.
    assert 0.5 < fields["achieved_sparsity_all_parameters"] < fields["achieved_sparsity"]


def test_a_dense_model_has_no_sparsity():
    model = build_model(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.01)  # no parameter left at exactly 0 (BatchNorm biases start there)
    fields = sparsity_fields(model, None)
    assert fields["achieved_sparsity"] == 0.0 and fields["achieved_sparsity_all_parameters"] == 0.0
