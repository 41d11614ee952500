"""Pruning methods: hand-computed scores, exact sparsity, IMP rounds, layer collapse, controls."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from lottery_mia.data import load_dataset
from lottery_mia.models import ModelSpec, build_model
from lottery_mia.prune import METHODS
from lottery_mia.prune.grasp import grasp_scores
from lottery_mia.prune.imp import imp_mask
from lottery_mia.prune.reinit import reinit_seed, reinit_weights
from lottery_mia.prune.snip import snip_scores
from lottery_mia.prune.synflow import synflow_mask, synflow_scores
from lottery_mia.pruning import (
    global_magnitude_mask,
    prunable_parameters,
    random_mask_like,
    select_global,
)
from lottery_mia.pruning_plan import imp_round, imp_sparsity, rewind_epoch

WORKFLOW_SCRIPTS = Path(__file__).resolve().parents[2] / "workflow_scripts"
SPEC = ModelSpec("resnet18", 10, in_channels=1, image_size=8, width=8)


@pytest.fixture(scope="module")
def resnet():
    return build_model(SPEC, seed=0)


@pytest.fixture(scope="module")
def digit_batches():
    """Two batches of 32 digits, as the pruning-at-initialisation methods would see them."""
    pool = load_dataset("digits", {"test_fraction": 0.5, "split_seed": 0}).train
    return list(pool.batches(torch.arange(64).numpy(), 32, torch.device("cpu"), augment=False))


def _removed(mask):
    return sum(int((~layer).sum()) for layer in mask.values())


def _total(mask):
    return sum(layer.numel() for layer in mask.values())


# --- A two-layer linear network whose gradients are written down by hand -------------------------
# f(x) = W2 W1 x (no biases), loss = ½ (f(x)/T - y)² per sample (mean over the batch).
# With u = W1 x and r = f/T - y:    ∂L/∂W2 = r uᵀ / T,    ∂L/∂W1 = W2ᵀ r xᵀ / T.
# Hessian times a direction V = (V1, V2), from differentiating the gradient along V:
#   r' = (V2 u + W2 V1 x) / T,   (HV)_W2 = (r' uᵀ + r (V1 x)ᵀ) / T,   (HV)_W1 = (V2ᵀ r + W2ᵀ r') xᵀ / T.

W1 = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
W2 = torch.tensor([[2.0, -1.0]])
X = torch.tensor([[1.0, 2.0, -1.0]])
Y = torch.tensor([[0.5]])


def _two_layer():
    net = nn.Sequential(nn.Linear(3, 2, bias=False), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(W1)
        net[1].weight.copy_(W2)
    return net


def _squared_error(outputs, targets):
    return 0.5 * ((outputs - targets) ** 2).sum(dim=1).mean()


def _hand_gradient(temperature=1.0):
    x = X[0][:, None]
    u = W1 @ x
    r = (W2 @ u) / temperature - Y[0][:, None]
    return {"0.weight": W2.T @ r @ x.T / temperature, "1.weight": r @ u.T / temperature}


def _hand_hessian_gradient(temperature):
    x = X[0][:, None]
    u = W1 @ x
    r = (W2 @ u) / temperature - Y[0][:, None]
    g = _hand_gradient(temperature)
    v1, v2 = g["0.weight"], g["1.weight"]
    r_dot = (v2 @ u + W2 @ v1 @ x) / temperature
    return {
        "0.weight": (v2.T @ r + W2.T @ r_dot) @ x.T / temperature,
        "1.weight": (r_dot @ u.T + r @ (v1 @ x).T) / temperature,
    }


def test_snip_scores_equal_the_hand_computed_connection_sensitivity():
    scores = snip_scores(_two_layer(), [(X, Y)], exclude=(), loss=_squared_error)
    gradient = _hand_gradient()
    # r = (W2 W1 x) - y = (2·(-3.5) - 1·7) - 0.5 = -14.5, u = (-3.5, 7)
    assert gradient["1.weight"].tolist() == [[-14.5 * -3.5, -14.5 * 7.0]]
    for name, weight in (("0.weight", W1), ("1.weight", W2)):
        torch.testing.assert_close(scores[name], (gradient[name] * weight).abs())


def test_snip_averages_the_gradient_over_batches():
    other = (torch.tensor([[0.0, 1.0, 1.0]]), torch.tensor([[-1.0]]))
    both = snip_scores(_two_layer(), [(X, Y), other], exclude=(), loss=_squared_error)
    joint = snip_scores(
        _two_layer(), [(torch.cat([X, other[0]]), torch.cat([Y, other[1]]))], (), _squared_error
    )
    for name in both:
        torch.testing.assert_close(both[name], joint[name])


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_grasp_scores_equal_weight_times_hand_computed_hessian_gradient(temperature):
    scores = grasp_scores(
        _two_layer(), [(X, Y)], exclude=(), loss=_squared_error, temperature=temperature
    )
    hessian_gradient = _hand_hessian_gradient(temperature)
    for name, weight in (("0.weight", W1), ("1.weight", W2)):
        torch.testing.assert_close(scores[name], weight * hessian_gradient[name])


def test_synflow_scores_equal_the_hand_computed_synaptic_flow():
    # R = 1ᵀ|W2||W1|1, so ∂R/∂|W2|_j = (|W1|1)_j and ∂R/∂|W1|_jk = (1ᵀ|W2|)_j; score = |w| ∂R/∂|w|.
    scores = synflow_scores(_two_layer(), input_shape=(3,), exclude=())
    row_sums = W1.abs().sum(dim=1)  # (3.5, 4)
    assert row_sums.tolist() == [3.5, 4.0]
    torch.testing.assert_close(scores["1.weight"], (W2.abs() * row_sums).double())
    torch.testing.assert_close(scores["0.weight"], (W1.abs() * W2.abs().T).double())


def test_scoring_at_initialisation_leaves_the_model_untouched(resnet, digit_batches):
    before = {name: tensor.clone() for name, tensor in resnet.state_dict().items()}
    snip_scores(resnet, digit_batches)
    grasp_scores(resnet, digit_batches[:1])
    synflow_scores(resnet, (1, 8, 8))
    for name, tensor in resnet.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    assert resnet.conv1.weight.grad is None


def test_gated_residual_branches_are_scored_as_if_open(resnet, digit_batches):
    """zero_init_residual sets the last BatchNorm scale of each block to 0, which zeroes the
    gradient and the synaptic flow of every weight in the branch: they must still be ranked."""
    assert not resnet.layer1[0].bn2.weight.any()
    for scores in (snip_scores(resnet, digit_batches), synflow_scores(resnet, (1, 8, 8))):
        assert scores["layer1.0.conv1.weight"].any() and scores["layer1.0.conv2.weight"].any()


# --- Every method reaches its target exactly, over the prunable tensors ----------------------------


def _mask_of(method, model, batches, sparsity):
    if method == "magnitude":
        return global_magnitude_mask(model, sparsity)
    if method == "random":
        return random_mask_like(global_magnitude_mask(model, sparsity), seed=1)
    if method == "snip":
        return select_global(snip_scores(model, batches), sparsity)
    if method == "grasp":
        return select_global(grasp_scores(model, batches[:1]), sparsity)
    return synflow_mask(model, sparsity, (1, 8, 8), rounds=10)


@pytest.mark.parametrize("method", ["magnitude", "random", "snip", "grasp", "synflow"])
@pytest.mark.parametrize("sparsity", [0.5, 0.9])
def test_every_method_reaches_its_target_exactly_over_the_prunable_tensors(
    resnet, digit_batches, method, sparsity
):
    mask = _mask_of(method, resnet, digit_batches, sparsity)
    assert set(mask) == set(prunable_parameters(resnet, ("fc",)))
    assert _removed(mask) == round(sparsity * _total(mask))
    assert all(layer.any() for layer in mask.values())


@pytest.mark.parametrize("method", ["snip", "grasp", "synflow"])
def test_pruning_at_initialisation_masks_differ_from_magnitude(resnet, digit_batches, method):
    mask = _mask_of(method, resnet, digit_batches, 0.8)
    magnitude = global_magnitude_mask(resnet, 0.8)
    assert not all(torch.equal(mask[n], magnitude[n]) for n in mask)


# --- Layer collapse (Tanaka et al. 2020) --------------------------------------------------------


def test_synflow_keeps_every_layer_where_magnitude_at_initialisation_empties_one():
    """A wide layer of small initial weights is the first to go under global magnitude."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
    )
    with pytest.raises(ValueError, match=r"removes every weight of \['2.weight'"):
        global_magnitude_mask(net, 0.99, exclude=())
    mask = synflow_mask(net, 0.99, input_shape=(16,), exclude=())
    assert all(layer.any() for layer in mask.values())
    assert _removed(mask) == round(0.99 * _total(mask))
    # Iterating is what avoids the collapse: one round of SynFlow empties layers too.
    with pytest.raises(ValueError, match="removes every weight"):
        synflow_mask(net, 0.99, input_shape=(16,), exclude=(), rounds=1)


# --- Iterative magnitude pruning -----------------------------------------------------------------


def _retrained(model, mask, seed):
    """Stand-in for training the ticket: new weights whose magnitude order differs from before."""
    generator = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, param in params.items():
            param.copy_(torch.randn(param.shape, generator=generator))
            if name in mask:
                param.mul_(mask[name])
    return model


def test_imp_round_masks_are_nested_and_reach_one_minus_keep_rate_to_the_r():
    model = build_model(SPEC, seed=0)
    rate = 0.2
    previous = None
    for round_ in range(1, 5):
        mask = imp_mask(model, round_, rate, previous)
        assert _removed(mask) == round(imp_sparsity(rate, round_) * _total(mask))
        assert imp_sparsity(rate, round_) == pytest.approx(1 - 0.8**round_)
        if previous is not None:
            assert not any((mask[n] & ~previous[n]).any() for n in mask), round_  # a subset
            assert _removed(mask) > _removed(previous)
        model = _retrained(model, mask, seed=round_)
        previous = mask


def test_imp_round_one_is_the_magnitude_mask_at_the_rate(resnet):
    first = imp_mask(resnet, 1, 0.2, None)
    magnitude = global_magnitude_mask(resnet, 0.2)
    assert all(torch.equal(first[n], magnitude[n]) for n in first)


def test_imp_ranks_by_the_previous_tickets_trained_weights():
    model = build_model(SPEC, seed=0)
    first = imp_mask(model, 1, 0.5, None)
    trained = _retrained(model, first, seed=7)
    second = imp_mask(trained, 2, 0.5, first)
    params = dict(trained.named_parameters())
    newly_pruned = torch.cat([params[n].detach().abs()[first[n] & ~second[n]] for n in first])
    kept = torch.cat([params[n].detach().abs()[second[n]] for n in first])
    assert newly_pruned.max() <= kept.min()


def test_imp_refuses_a_previous_mask_of_another_round(resnet):
    first = imp_mask(resnet, 1, 0.2, None)
    with pytest.raises(ValueError, match="round r - 1 removes"):
        imp_mask(resnet, 3, 0.2, first)
    with pytest.raises(ValueError, match="later rounds need a mask"):
        imp_mask(resnet, 2, 0.2, None)


def test_reachable_imp_sparsities_map_to_their_round_and_others_name_the_nearest():
    assert imp_round(0.2, 0.2) == 1
    assert imp_round(0.36, 0.2) == 2
    assert imp_round(0.488, 0.2) == 3
    assert imp_round(0.5904, 0.2) == 4
    with pytest.raises(
        ValueError, match=r"nearest reachable: 0\.36 \(round 2\), 0\.488 \(round 3\)"
    ):
        imp_round(0.4, 0.2)
    with pytest.raises(ValueError, match=r"nearest reachable: 0\.2 \(round 1\)"):
        imp_round(0.1, 0.2)


# --- Controls -------------------------------------------------------------------------------------


def test_reinit_starts_from_fresh_seeded_weights_not_w0():
    w0 = build_model(SPEC, seed=0).state_dict()
    fresh = reinit_weights(SPEC, seed=0)
    assert set(fresh) == set(w0)
    assert not torch.equal(fresh["conv1.weight"], w0["conv1.weight"])
    assert torch.equal(fresh["conv1.weight"], reinit_weights(SPEC, seed=0)["conv1.weight"])
    assert not torch.equal(fresh["conv1.weight"], reinit_weights(SPEC, seed=1)["conv1.weight"])
    assert reinit_seed(0) not in range(1000)  # never the seed of another run of the grid


def test_method_table_says_which_methods_need_the_dense_model():
    assert {name for name, m in METHODS.items() if not m.needs_dense} == {
        "snip",
        "grasp",
        "synflow",
    }
    assert {name for name, m in METHODS.items() if m.rewinds} == {"magnitude", "imp", "random"}
    assert [name for name, m in METHODS.items() if m.reinitialises] == ["reinit"]
    assert [name for name, m in METHODS.items() if m.chained] == ["imp"]


def test_rewind_is_init_or_an_epoch_inside_the_dense_run():
    assert rewind_epoch("init", 10) == 0
    assert rewind_epoch(3, 10) == 3
    for bad in (0, 10, "2", True, 2.0):
        with pytest.raises(
            ValueError, match=r"pruning\.rewind: .*1 <= k < training\.epochs \(10\)"
        ):
            rewind_epoch(bad, 10)


def test_the_plan_module_parses_without_torch():
    """The config gate and the DAG import it at every Snakefile parse."""
    code = (
        "import sys, lottery_mia.pruning_plan, lottery_mia.prune.registry; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=WORKFLOW_SCRIPTS)


def test_every_registered_method_has_one_mask_function():
    for method in METHODS.values():
        assert callable(method.implementation().mask), method.name
