"""The global selection every method ends in, exclusion patterns, and the random-mask control."""

import pytest
import torch
from torch import nn

from lottery_mia.models import ModelSpec, build_model
from lottery_mia.pruning import (
    check_exclude_patterns,
    global_magnitude_mask,
    masked_state,
    prunable_module_names,
    prunable_parameters,
    random_mask_like,
    select_global,
)


@pytest.fixture(scope="module")
def resnet():
    return build_model(ModelSpec("resnet18", 10, in_channels=1, image_size=8, width=8), seed=0)


def _removed(mask):
    return sum(int((~layer).sum()) for layer in mask.values())


def _total(mask):
    return sum(layer.numel() for layer in mask.values())


# --- pruning.exclude patterns (issue 9: a pattern matching nothing excluded nothing) ----------


@pytest.mark.parametrize(
    ("pattern", "meant"),
    [("fc.weight", "'fc'"), ("layer4", "'layer4.*'"), ("layer4.1.conv", "'layer4.1.conv1'")],
)
def test_an_exclusion_pattern_that_matches_no_layer_is_an_error_with_a_suggestion(
    resnet, pattern, meant
):
    with pytest.raises(ValueError, match=r"pruning\.exclude") as error:
        prunable_parameters(resnet, exclude=("fc", pattern))
    message = str(error.value)
    assert repr(pattern) in message
    suggestions = message.split("did you mean ", 1)[1].split("?", 1)[0]
    assert meant in suggestions
    with pytest.raises(ValueError, match=repr(pattern)):
        global_magnitude_mask(resnet, 0.5, exclude=(pattern,))


def test_valid_patterns_still_exclude_what_they_match(resnet):
    names = set(prunable_parameters(resnet, exclude=("fc", "layer4.*", "conv1")))
    assert "fc.weight" not in names and "conv1.weight" not in names
    assert not any(name.startswith("layer4.") for name in names)
    assert "layer3.0.conv1.weight" in names


def test_a_pattern_with_no_plausible_meaning_still_names_the_prunable_layers():
    with pytest.raises(ValueError, match=r"'zzz' matches no prunable layer.*prunable layers: 0, 1"):
        check_exclude_patterns(["0", "1"], ["zzz"])


def test_prunable_module_names_lists_conv_and_linear_modules_in_order(resnet):
    names = prunable_module_names(resnet)
    assert names[0] == "conv1" and names[-1] == "fc"
    assert "layer2.0.downsample.0" in names and "bn1" not in names


# --- select_global ----------------------------------------------------------------------------


def test_selection_removes_the_lowest_scores_over_all_tensors_exactly():
    scores = {"a": torch.tensor([[5.0, 1.0], [3.0, 7.0]]), "b": torch.tensor([2.0, 6.0, 4.0])}
    mask = select_global(scores, 3 / 7)
    assert mask["a"].tolist() == [[True, False], [False, True]]
    assert mask["b"].tolist() == [False, True, True]


def test_selection_with_a_previous_mask_removes_its_pruned_weights_first():
    scores = {"a": torch.tensor([1.0, 2.0, 3.0, 4.0])}
    previous = {"a": torch.tensor([True, True, False, True])}
    mask = select_global(scores, 0.5, within=previous)
    assert mask["a"].tolist() == [False, True, False, True]
    with pytest.raises(ValueError, match="fewer weights than the previous mask"):
        select_global(scores, 0.0, within=previous)


def test_selection_rejects_nan_scores_and_empty_layers():
    with pytest.raises(ValueError, match=r"NaN in \['b'\]"):
        select_global({"a": torch.ones(3), "b": torch.tensor([1.0, float("nan")])}, 0.5)
    with pytest.raises(ValueError, match=r"removes every weight of \['a'\]"):
        select_global({"a": torch.zeros(2), "b": torch.ones(8)}, 0.2)


# --- random control -----------------------------------------------------------------------------


def test_random_mask_keeps_the_per_layer_counts_but_not_the_positions(resnet):
    magnitude = global_magnitude_mask(resnet, 0.8)
    control = random_mask_like(magnitude, seed=0)
    assert set(control) == set(magnitude)
    for name, layer in magnitude.items():
        assert int(control[name].sum()) == int(layer.sum()), name
        assert control[name].shape == layer.shape and control[name].dtype == torch.bool
    # Positions: chance overlap of the kept sets is about the density (0.2), far from identical.
    kept_both = sum(int((control[n] & m).sum()) for n, m in magnitude.items())
    kept = sum(int(m.sum()) for m in magnitude.values())
    assert kept_both / kept < 0.35
    assert _removed(control) == _removed(magnitude) == round(0.8 * _total(magnitude))


def test_random_mask_is_seeded(resnet):
    reference = global_magnitude_mask(resnet, 0.5)
    first, again = random_mask_like(reference, seed=3), random_mask_like(reference, seed=3)
    other = random_mask_like(reference, seed=4)
    assert all(torch.equal(first[n], again[n]) for n in reference)
    assert not all(torch.equal(first[n], other[n]) for n in reference)


def test_masked_state_multiplies_masked_entries_only():
    state = {"w": torch.tensor([1.0, -2.0, 3.0]), "bn.running_var": torch.tensor([4.0])}
    start = masked_state(state, {"w": torch.tensor([True, False, True])})
    assert start["w"].tolist() == [1.0, 0.0, 3.0]
    assert start["bn.running_var"].tolist() == [4.0]
    with pytest.raises(ValueError, match=r"\['v'\] are not in the state dict"):
        masked_state(state, {"v": torch.tensor([True])})


def test_pruned_weights_of_every_linear_layer_are_counted_and_no_others():
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    mask = global_magnitude_mask(net, 0.5, exclude=())
    assert set(mask) == {"0.weight", "2.weight"}
    assert _removed(mask) == round(0.5 * (12 + 6))
