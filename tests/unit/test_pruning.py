"""One-shot global magnitude pruning: exact counts, the right tensors, masks that hold."""

import pytest
import torch
from torch import nn

from lottery_mia.models import ModelSpec, build_model
from lottery_mia.pruning import (
    MaskEnforcer,
    global_magnitude_mask,
    prunable_parameters,
    sparsity_report,
)


@pytest.fixture
def model():
    return build_model(ModelSpec("resnet18", 10, in_channels=1, image_size=8, width=4), seed=0)


def test_only_conv_and_linear_weights_are_prunable_and_exclusions_apply(model):
    names = set(prunable_parameters(model, exclude=("fc",)))
    assert "conv1.weight" in names and "layer4.1.conv2.weight" in names
    assert not any(name.startswith("fc") or "bn" in name or "bias" in name for name in names)
    assert "fc.weight" in prunable_parameters(model, exclude=())
    assert not any(n.startswith("layer4") for n in prunable_parameters(model, ("fc", "layer4.*")))


@pytest.mark.parametrize("sparsity", [0.0, 0.2, 0.5, 0.8, 0.95])
def test_exactly_the_target_fraction_of_prunable_weights_is_removed(model, sparsity):
    mask = global_magnitude_mask(model, sparsity, exclude=("fc",))
    total = sum(m.numel() for m in mask.values())
    removed = sum(int((~m).sum()) for m in mask.values())
    assert removed == round(sparsity * total)
    assert set(mask) == set(prunable_parameters(model, ("fc",)))


def test_the_smallest_magnitudes_go_first_across_layers(model):
    mask = global_magnitude_mask(model, 0.6, exclude=("fc",))
    params = dict(model.named_parameters())
    pruned = torch.cat([params[n].detach().abs()[~m] for n, m in mask.items()])
    kept = torch.cat([params[n].detach().abs()[m] for n, m in mask.items()])
    assert pruned.max() <= kept.min()
    # Global, not per layer: layers end up with different sparsities.
    per_layer = {n: float((~m).float().mean()) for n, m in mask.items()}
    assert max(per_layer.values()) - min(per_layer.values()) > 0.05


def test_exact_count_even_with_tied_magnitudes():
    layer = nn.Sequential(nn.Linear(10, 10, bias=False))
    with torch.no_grad():
        layer[0].weight.fill_(1.0)
    mask = global_magnitude_mask(layer, 0.37, exclude=())
    assert int((~mask["0.weight"]).sum()) == 37


def test_a_layer_left_empty_is_an_error():
    net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 100))
    with torch.no_grad():
        net[0].weight.fill_(1e-6)
        net[1].weight.fill_(1.0)
    with pytest.raises(ValueError, match=r"removes every weight of \['0.weight'\]"):
        global_magnitude_mask(net, 0.1, exclude=())


@pytest.mark.parametrize("sparsity", [-0.1, 1.0])
def test_out_of_range_sparsity_is_rejected(model, sparsity):
    with pytest.raises(ValueError, match="sparsity must be in"):
        global_magnitude_mask(model, sparsity)


def _sgd_steps(model, enforcer, steps=5):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        images = torch.randn(16, 1, 8, 8, generator=generator)
        labels = torch.randint(0, 10, (16,), generator=generator)
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        if enforcer is not None:
            enforcer.apply_to_gradients()
        optimizer.step()
        if enforcer is not None:
            enforcer.apply_to_weights()
    return optimizer


def test_pruned_weights_stay_exactly_zero_through_momentum_and_weight_decay(model):
    mask = global_magnitude_mask(model, 0.8)
    enforcer = MaskEnforcer(model, mask)
    enforcer.apply_to_weights()
    optimizer = _sgd_steps(model, enforcer)
    params = dict(model.named_parameters())
    for name, layer_mask in mask.items():
        assert torch.all(params[name][~layer_mask] == 0), name
        # Momentum buffers of pruned weights never accumulate either.
        assert torch.all(optimizer.state[params[name]]["momentum_buffer"][~layer_mask] == 0)
    assert sparsity_report(model, mask).prunable_sparsity == pytest.approx(0.8, abs=1e-6)


def test_without_enforcement_the_same_steps_regrow_pruned_weights(model):
    """The trap the enforcer exists for: zeroing once is not enough."""
    mask = global_magnitude_mask(model, 0.8)
    MaskEnforcer(model, mask).apply_to_weights()
    _sgd_steps(model, enforcer=None)
    # Gradients, momentum and weight decay revive a large share of the 80% removed weights.
    assert sparsity_report(model, mask).prunable_sparsity < 0.7


def test_sparsity_report_counts_masked_tensors_not_all_parameters(model):
    mask = global_magnitude_mask(model, 0.5)
    MaskEnforcer(model, mask).apply_to_weights()
    report = sparsity_report(model, mask)
    assert report.prunable_sparsity == pytest.approx(0.5, abs=1e-6)
    # fc, biases and BatchNorm are unpruned, so the overall fraction is lower.
    assert report.overall_sparsity < report.prunable_sparsity
    assert sparsity_report(model, None).prunable_sparsity == 0.0
