"""The prune and ticket steps per method: what each reads, exact masks, where a ticket starts."""

import pytest
import torch

from lottery_mia import pruning_steps, training, training_steps
from lottery_mia.models import ModelSpec, build_model, load_state_dict
from lottery_mia.prune.reinit import reinit_weights

DATA = {"test_fraction": 0.5, "split_seed": 0, "augmentation": "none"}
MODEL = {"width": 8, "zero_init_residual": True}
TRAINING = {
    "epochs": 2,
    "batch_size": 128,
    "lr": 0.05,
    "schedule": "constant",
    "device": "cpu",
    "channels_last": False,
}
SETTINGS = {"data": DATA, "model": MODEL, "training": TRAINING}
KEY = {"dataset": "digits", "arch": "resnet18", "seed": 0, "method": "dense", "sparsity": 0.0}


def _removed_fraction(mask):
    removed = sum(int((~layer).sum()) for layer in mask.values())
    return removed, sum(layer.numel() for layer in mask.values())


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    """w0, a dense run of 2 epochs that keeps w_1, and its files."""
    root = tmp_path_factory.mktemp("dense")
    paths = {name: root / f"{name}.pt" for name in ("init", "model", "rewind", "checkpoint")}
    training_steps.initialise(KEY, SETTINGS, paths["init"])
    training_steps.train_dense(
        KEY, SETTINGS, paths["init"], paths["model"], root / "train.json", paths["checkpoint"],
        rewind_epoch=1, rewind_path=paths["rewind"],
    )  # fmt: skip
    return {**paths, "record": root / "train.json"}


def test_initialise_writes_the_seeded_w0(dense):
    w0 = load_state_dict(dense["init"])
    expected = build_model(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0).state_dict()
    assert all(torch.equal(w0[name], expected[name]) for name in expected)


def test_the_dense_run_keeps_exactly_its_weights_after_epoch_k(dense, tmp_path):
    one_epoch = {**SETTINGS, "training": {**TRAINING, "epochs": 1}}
    training_steps.train_dense(
        KEY, one_epoch, dense["init"], tmp_path / "m.pt", tmp_path / "r.json", tmp_path / "c.pt"
    )
    w_1, short = load_state_dict(dense["rewind"]), load_state_dict(tmp_path / "m.pt")
    assert all(torch.equal(w_1[name], short[name]) for name in short)
    assert not torch.equal(w_1["conv1.weight"], load_state_dict(dense["model"])["conv1.weight"])
    assert not list(dense["checkpoint"].parent.glob("*_rewind1.pt"))  # moved into place


def _ticket_start(monkeypatch, **ticket_arguments):
    """Run train_ticket and return the weights its first epoch starts from."""
    seen = []
    real_epoch = training._train_one_epoch

    def spy(model, *args, **kwargs):
        seen.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return real_epoch(model, *args, **kwargs)

    monkeypatch.setattr(training, "_train_one_epoch", spy)
    training_steps.train_ticket(key=KEY, settings=SETTINGS, **ticket_arguments)
    return seen[0]


@pytest.mark.parametrize("start", ["rewind", "reinit"])
def test_a_ticket_starts_from_mask_times_its_start_weights(dense, tmp_path, monkeypatch, start):
    mask_path = tmp_path / "mask.pt"
    pruning_steps.prune(
        "magnitude", 0.8, {"exclude": ["fc"]}, KEY, mask_path,
        dense_model_path=dense["model"], dense_record_path=dense["record"],
    )  # fmt: skip
    outputs = {
        "mask_path": mask_path,
        "model_path": tmp_path / "t.pt",
        "record_path": tmp_path / "t.json",
        "checkpoint_path": tmp_path / "tc.pt",
    }
    if start == "rewind":
        begin = _ticket_start(monkeypatch, **outputs, start_path=dense["rewind"])
        weights = load_state_dict(dense["rewind"])
    else:
        begin = _ticket_start(monkeypatch, **outputs, reinit=True)
        weights = reinit_weights(ModelSpec("resnet18", 10, 1, 8, width=8), seed=0)
    mask = load_state_dict(mask_path)
    for name, tensor in begin.items():
        expected = weights[name] * mask[name] if name in mask else weights[name]
        assert torch.equal(tensor, expected), name
    w0 = load_state_dict(dense["init"])
    assert not torch.equal(begin["conv1.weight"], w0["conv1.weight"] * mask["conv1.weight"])


@pytest.mark.parametrize("method", ["magnitude", "random", "reinit"])
def test_dense_based_masks_share_per_layer_counts(dense, tmp_path, method):
    paths = {"dense_model_path": dense["model"], "dense_record_path": dense["record"]}
    pruning_steps.prune(method, 0.8, {"exclude": ["fc"]}, KEY, tmp_path / "m.pt", **paths)
    pruning_steps.prune("magnitude", 0.8, {"exclude": ["fc"]}, KEY, tmp_path / "g.pt", **paths)
    mask, magnitude = load_state_dict(tmp_path / "m.pt"), load_state_dict(tmp_path / "g.pt")
    assert all(int(mask[n].sum()) == int(magnitude[n].sum()) for n in magnitude)
    same = all(torch.equal(mask[n], magnitude[n]) for n in magnitude)
    assert same == (method != "random")


@pytest.mark.parametrize("method", ["snip", "grasp", "synflow"])
def test_masks_at_initialisation_need_only_w0(dense, tmp_path, method):
    settings = {
        "exclude": ["fc"], "score_batches": 1, "batch_size": 64, "synflow_rounds": 5,
        "data": DATA, "model": MODEL,
    }  # fmt: skip
    pruning_steps.prune(method, 0.9, settings, KEY, tmp_path / "m.pt", init_path=dense["init"])
    removed, total = _removed_fraction(load_state_dict(tmp_path / "m.pt"))
    assert removed == round(0.9 * total)


def test_imp_round_two_prunes_inside_the_round_one_ticket(dense, tmp_path):
    settings = {"exclude": ["fc"], "imp_rate": 0.5}
    paths = {"dense_model_path": dense["model"], "dense_record_path": dense["record"]}
    pruning_steps.prune("imp", 0.5, settings, KEY, tmp_path / "r1.pt", **paths)
    first = load_state_dict(tmp_path / "r1.pt")
    ticket = {
        k: v * first[k] if k in first else v for k, v in load_state_dict(dense["model"]).items()
    }
    torch.save(ticket, tmp_path / "ticket1.pt")
    pruning_steps.prune(
        "imp", 0.75, settings, KEY, tmp_path / "r2.pt", **paths,
        previous_model_path=tmp_path / "ticket1.pt", previous_mask_path=tmp_path / "r1.pt",
    )  # fmt: skip
    second = load_state_dict(tmp_path / "r2.pt")
    assert not any((second[n] & ~first[n]).any() for n in first)
    removed, total = _removed_fraction(second)
    assert removed == round(0.75 * total)
    with pytest.raises(ValueError, match=r"nearest reachable: 0\.5 \(round 1\), 0\.75"):
        pruning_steps.prune("imp", 0.6, settings, KEY, tmp_path / "x.pt", **paths)
