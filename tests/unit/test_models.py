"""Architectures: the standard ResNet layouts, narrow widths, stems, and safe weight files."""

import pytest
import torch
import torchvision

from lottery_mia.models import ModelSpec, build_model, load_state_dict, save_state_dict


@pytest.mark.parametrize(
    ("arch", "reference"),
    [("resnet18", torchvision.models.resnet18), ("resnet50", torchvision.models.resnet50)],
)
def test_full_width_imagenet_model_is_torchvisions_bit_for_bit(arch, reference):
    """Our copy of torchvision's ResNet (models.py does not import torchvision) builds the same
    modules in the same order: same names, the same weights from the same seed, same outputs."""
    spec = ModelSpec(arch, num_classes=1000, in_channels=3, image_size=224, width=64)
    ours = build_model(spec, seed=7)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        theirs = reference(zero_init_residual=True)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    assert all(torch.equal(ours_state[name], theirs_state[name]) for name in ours_state)
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for mode in (True, False):  # training mode (batch statistics) and eval mode
        assert torch.equal(ours.train(mode)(images), theirs.train(mode)(images)), mode


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_narrow_small_image_model_keeps_resolution_in_the_stem(arch):
    model = build_model(ModelSpec(arch, num_classes=10, in_channels=1, image_size=8, width=4))
    assert model.conv1.stride == (1, 1) and model.conv1.kernel_size == (3, 3)
    assert isinstance(model.maxpool, torch.nn.Identity)
    assert model.fc.out_features == 10 and model.conv1.in_channels == 1
    assert model.eval()(torch.randn(3, 1, 8, 8)).shape == (3, 10)


def test_seeded_initialisation_is_reproducible_and_seed_dependent():
    spec = ModelSpec("resnet18", num_classes=10, in_channels=1, image_size=8, width=4)
    first, again, other = (build_model(spec, seed=s).state_dict() for s in (1, 1, 2))
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["conv1.weight"], other["conv1.weight"])


def test_invalid_specs_are_rejected_with_the_offending_value():
    with pytest.raises(ValueError, match="unknown architecture 'vgg11'"):
        ModelSpec("vgg11", num_classes=10)
    with pytest.raises(ValueError, match="width"):
        ModelSpec("resnet18", num_classes=10, width=0)


def test_state_dict_round_trip_and_refusal_of_other_objects(tmp_path):
    model = build_model(ModelSpec("resnet18", num_classes=10, in_channels=1, image_size=8, width=4))
    save_state_dict(model.state_dict(), tmp_path / "model.pt")
    loaded = load_state_dict(tmp_path / "model.pt")
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"list\.pt: expected a state dict"):
        load_state_dict(tmp_path / "list.pt")
