"""The real datasets through the workflow (issue 3), on files written in the real on-disk formats.

- configs/paper.yaml resolves the paper's whole DAG on full-size CIFAR-10/100 files and an
  ImageNet tree with the official pool sizes, and its sample counts are the ones the pools allow;
- a tiny run on fabricated CIFAR-10 exports, for every model, the outputs of the train-file samples
  as members and of the test-file samples as non-members;
- ``snakemake -n`` plans an imagenet32 grid on tiny fabricated Downsampled ImageNet batches, and
  absent batches stop it naming the files expected;
- broken data stops ``snakemake -n`` at parse time with one message naming the dataset, the path,
  the files expected and the fix, and leaves no results/.
"""

from __future__ import annotations

import copy
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import REPO, planned_jobs, relative_files, run_snakemake
from fabricate import (
    CIFAR_FILES,
    FabricatedCifar,
    write_cifar,
    write_downsampled_imagenet,
    write_image_folder,
)
from lottery_mia.atomic import read_json
from lottery_mia.config import (
    ConfigError,
    load_schema,
    sample_counts,
    validate_config,
)
from lottery_mia.config_checks import check_config
from lottery_mia.data import load_dataset, pool_sizes
from lottery_mia.models import ModelSpec, build_model, load_weights
from lottery_mia.outputs_table import FLIPPED_COLUMN, logits_matrix, read_outputs
from lottery_mia.resources import DATASETS
from lottery_mia.training import TrainSettings, learning_rate

pytestmark = pytest.mark.workflow

PAPER_CONFIG = REPO / "configs" / "paper.yaml"
BUDGET_CONFIG = REPO / "configs" / "paper_budget.yaml"
SMALL_CIFAR10_CONFIG = REPO / "configs" / "cifar10_small.yaml"
SCHEMA = load_schema(REPO / "rules" / "schemas" / "config.schema.yaml")
OFFICIAL_POOLS = {"cifar10": (50_000, 10_000), "cifar100": (50_000, 10_000)}
IMAGENET_POOLS = (1_281_167, 50_000)
CIFAR10_EXPECTED_FILES = (
    "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch, batches.meta"
)


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def write_yaml(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def official_pool_sizes(name: str, settings: dict[str, Any]) -> tuple[int, int]:
    """pool_sizes of the official releases, for checking configs without the data on disk."""
    return IMAGENET_POOLS if name == "imagenet" else OFFICIAL_POOLS[name]


def parse_time_checks(config: dict[str, Any]) -> None:
    """What rules/common.smk runs while Snakemake parses the workflow, before any job."""
    check_config(validate_config(config, SCHEMA), SCHEMA, pool_sizes)


# ---- configs/paper.yaml -------------------------------------------------------------------------


def test_paper_config_is_the_papers_grid():
    config = validate_config(load_yaml(PAPER_CONFIG), SCHEMA)
    assert list(config["datasets"]) == ["cifar10", "cifar100", "imagenet"]
    assert config["grid"]["archs"] == ["resnet18", "resnet50"]
    assert config["model"]["width"] == 64
    assert config["grid"]["sparsities"] == [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    assert config["figures"]["sample_count"] == 50_000  # Figure 2
    assert config["figures"]["sparsity"] == 0.8  # Figure 3 and Table 1
    # The paper's ImageNet counts 20k, 60k, Figure 2's 50k, and the largest allowed for 100k.
    assert config["datasets"]["imagenet"]["sample_counts"] == [20_000, 50_000, 60_000, 98_000]
    cifar = config["datasets"]["cifar10"]["training"]
    assert config["datasets"]["cifar100"]["training"] == cifar
    assert (cifar["epochs"], cifar["batch_size"], cifar["schedule"]) == (160, 128, "cosine")
    imagenet = config["datasets"]["imagenet"]["training"]
    assert (imagenet["epochs"], imagenet["batch_size"], imagenet["schedule"]) == (90, 256, "step")
    assert imagenet["metrics_max_samples"] == 50_000


def test_paper_step_schedule_decays_after_epochs_30_and_60():
    config = validate_config(load_yaml(PAPER_CONFIG), SCHEMA)
    settings = TrainSettings.from_config(
        {**config["training"], **config["datasets"]["imagenet"]["training"]}
    )
    rates = [learning_rate(epoch, 0, 1, settings) for epoch in range(settings.epochs)]
    changes = [epoch for epoch in range(1, len(rates)) if rates[epoch] != rates[epoch - 1]]
    assert changes == [30, 60]
    assert rates[0] == pytest.approx(0.1) and rates[-1] == pytest.approx(0.001)


def test_paper_sample_counts_are_the_largest_the_official_pools_allow():
    config = validate_config(load_yaml(PAPER_CONFIG), SCHEMA)
    check_config(config, SCHEMA, official_pool_sizes)  # accepted as written
    # n <= 2 x (non-members - eval_size / 2): CIFAR 10,000 test images, ImageNet 50,000 val images
    for dataset, key, largest in (
        ("cifar10", "grid.sample_counts", 18_000),
        ("cifar100", "grid.sample_counts", 18_000),
        ("imagenet", "datasets.imagenet.sample_counts", 98_000),
    ):
        assert max(sample_counts(config, dataset)) == largest
        one_more = copy.deepcopy(config)
        section = one_more["datasets"][dataset] if dataset == "imagenet" else one_more["grid"]
        section["sample_counts"] = [largest + 2]
        with pytest.raises(ConfigError) as refusal:
            check_config(one_more, SCHEMA, official_pool_sizes)
        assert f"config key '{key}' (dataset {dataset})" in str(refusal.value)
        assert f"the largest allowed sample count is {largest}" in str(refusal.value)


def test_budget_config_is_the_papers_grid_with_imagenet_at_64_px():
    paper = validate_config(load_yaml(PAPER_CONFIG), SCHEMA)
    budget = validate_config(load_yaml(BUDGET_CONFIG), SCHEMA)
    assert list(budget["datasets"]) == ["cifar10", "cifar100", "imagenet64"]
    for section in ("grid", "model", "outputs", "transfer", "figures", "pruning"):
        assert budget[section] == paper[section], section
    for name in ("cifar10", "cifar100"):
        assert budget["datasets"][name] == paper["datasets"][name]
    imagenet64 = budget["datasets"]["imagenet64"]
    assert imagenet64["sample_counts"] == paper["datasets"]["imagenet"]["sample_counts"]
    assert (imagenet64["augmentation"], imagenet64["crop_padding"]) == ("flip_crop", 8)
    assert imagenet64["training"]["epochs"] < paper["datasets"]["imagenet"]["training"]["epochs"]
    # Fewer references, for the same models: the dense model and Table 1's ticket.
    attack = budget["attack"]
    assert attack["reference_models"] == 4 < paper["attack"]["reference_models"]
    assert attack["reference_sparsities"] == [0, budget["figures"]["sparsity"]]
    assert attack["reference_archs"] is None
    official = {name: (pools.train, pools.test) for name, pools in DATASETS.items()}
    check_config(budget, SCHEMA, lambda name, settings: official[name])  # accepted as written


def test_budget_config_costs_at_most_a_tenth_of_the_papers_gpu_hours(monkeypatch):
    """By the rate table, over the GPU jobs of ``snakemake -n`` (benchmarks/gpu_hours.py)."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    from gpu_hours import gpu_hours

    totals = {}
    for path in (PAPER_CONFIG, BUDGET_CONFIG):
        hours, unpadded = gpu_hours(path)
        totals[path.name] = (sum(sum(each) for each in hours.values()), unpadded)
    budget, paper = totals["paper_budget.yaml"], totals["paper.yaml"]
    assert budget[0] <= 0.1 * paper[0] and budget[1] <= 0.1 * paper[1], totals
    assert budget[0] > 0.05 * paper[0], totals  # and spends most of it


def test_unedited_paper_config_names_every_placeholder_root():
    config = load_yaml(PAPER_CONFIG)
    with pytest.raises(ConfigError) as refusal:
        parse_time_checks(config)
    problems = str(refusal.value).splitlines()[1:]
    assert len(problems) == 3
    for problem, dataset in zip(problems, ("cifar10", "cifar100", "imagenet"), strict=True):
        root = config["datasets"][dataset]["root"]
        assert f"config key 'datasets.{dataset}.root'" in problem
        assert f"{root} does not exist" in problem
        assert f"Fix: set datasets.{dataset}.root" in problem


def write_full_size_cifar(root: Path, name: str) -> Path:
    """The official files of CIFAR-10/100 (50,000 training, 10,000 test images) in the real pickle
    format, with random labels and pixels 0..127.

    fabricate.write_cifar at this size takes about 20 s and 4.5 GB per dataset (float64 noise for
    the whole split); a DAG test needs the right files and sizes, not learnable images.
    """
    spec = CIFAR_FILES[name]
    num_classes = int(spec["classes"])
    label_key = b"labels" if name == "cifar10" else b"fine_labels"
    folder = root / str(spec["folder"])
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, size in (("train", 50_000), ("test", 10_000)):
        files = spec[split]
        per_file = size // len(files)
        for file_name in files:
            record = {
                b"batch_label": f"full-size {file_name}".encode(),
                label_key: rng.integers(0, num_classes, per_file).tolist(),
                # below 128, every pixel pickles (protocol 2, latin-1 text) as one byte
                b"data": rng.integers(0, 128, (per_file, 3 * 32 * 32), dtype=np.uint8),
                b"filenames": [f"img_{i}.png".encode() for i in range(per_file)],
            }
            with (folder / file_name).open("wb") as handle:
                pickle.dump(record, handle, protocol=2)
    names_key = b"label_names" if name == "cifar10" else b"fine_label_names"
    with (folder / str(spec["meta"])).open("wb") as handle:
        pickle.dump({names_key: [f"class_{c}".encode() for c in range(num_classes)]}, handle, 2)
    return folder


def write_empty_image_tree(root: Path, classes: int, train_per_class: int, val_per_class: int):
    """``train/<wnid>/*.JPEG`` and ``val/<wnid>/*.JPEG`` as empty files: config validation only
    lists files (test_image_tree_validation_lists_files_without_decoding_them checks that)."""
    for split, per_class in (("train", train_per_class), ("val", val_per_class)):
        for label in range(classes):
            wnid = f"n{label:08d}"
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for index in range(per_class):
                os.close(os.open(folder / f"{wnid}_{index}.JPEG", os.O_CREAT | os.O_WRONLY, 0o644))
    return root


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A folder on a RAM file system when there is one: creating 100,000 files there takes about a
    second, on a busy ext4 disk 10-30 s. Falls back to ``tmp_path``."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="lottery-mia-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_image_tree_validation_lists_files_without_decoding_them(tmp_path):
    root = write_empty_image_tree(tmp_path / "imagenet", 3, 4, 2)
    assert pool_sizes("imagenet", {"root": str(root)}) == (12, 6)
    # The same empty files do not load as images: only listing makes them acceptable above.
    dataset = load_dataset("imagenet", {"root": str(root), "workers": 0, "image_size": 8})
    with pytest.raises(ValueError, match="cannot decode image"):
        next(dataset.test.batches(np.arange(2), 2, torch.device("cpu"), augment=False))


def test_paper_grid_resolves_the_whole_dag_on_full_size_data(tmp_path, fast_tmp):
    config = load_yaml(PAPER_CONFIG)
    config["datasets"]["cifar10"]["root"] = str(write_full_size_cifar(tmp_path, "cifar10"))
    config["datasets"]["cifar100"]["root"] = str(write_full_size_cifar(tmp_path, "cifar100"))
    # 1,000 classes x 50 images in train/ and in val/: 50,000 per pool bounds every sample count
    # (per_pool = min(train, val)) as the real 50,000 validation images do.
    imagenet = write_empty_image_tree(fast_tmp / "imagenet", 1000, 50, 50)
    config["datasets"]["imagenet"]["root"] = str(imagenet)
    config_path = write_yaml(tmp_path / "paper.yaml", config)

    jobs = planned_jobs(tmp_path / "run", config_path)

    datasets, archs, seeds, sparsities = 3, 2, 1, 9  # sparsity 0 is the dense model
    models_per_dataset = archs * seeds * sparsities  # 18
    tickets_per_dataset = archs * seeds * (sparsities - 1)  # 16
    counts = {"cifar10": 4, "cifar100": 4, "imagenet": 4}  # sample counts per dataset
    transfer_attacks = 1  # transfer.attacks [mlp] = figures.attack
    # 16 references per dataset and arch, each a dense model and its 80% ticket (issue 10).
    references = datasets * archs * 16  # 96
    assert jobs == {
        "initialise": datasets * archs * seeds + references,  # 6 targets + 96
        "train_dense": datasets * archs * seeds + references,  # 6 targets + 96
        "prune": datasets * tickets_per_dataset + references,  # 48 + 96
        "train_ticket": datasets * tickets_per_dataset + references,  # 48 + 96
        "export_outputs": datasets * models_per_dataset + 2 * references,  # 54 + 192
        # one job per model and sample count runs all per-model attacks
        "run_attacks": models_per_dataset * sum(counts.values()),  # 216
        "reference_keep": datasets,
        "reference_statistics": archs * 2 * datasets,  # 12: once per referenced target
        # one job per referenced target (dense and 80% ticket) and sample count
        "reference_attacks": archs * 2 * sum(counts.values()),  # 48
        "transfer": transfer_attacks * sum(counts.values()),  # 12
        "summarize": 1,
        "fig_test_accuracy": 1,
        "fig_attack_vs_sparsity": 1,
        "fig_attack_vs_samples": 1,
        "fig_transfer": datasets,
        "fig_roc_curves": 1,
        "fig_gap_vs_auc": 1,
        "per_class": 1,
        "table1": 1,
        "fig_forest": 1,
        "class_counts": datasets,
        "exposure": datasets,
        "fig_exposure": datasets,
        "all": 1,
    }
    assert not (tmp_path / "run" / "results").exists()


def test_small_cifar10_config_is_accepted_before_the_download(tmp_path, monkeypatch):
    # Its root is relative and absent from a fresh working directory: with `download: true` the
    # parse-time checks take the official sizes and the first training job downloads.
    monkeypatch.chdir(tmp_path)
    config = load_yaml(SMALL_CIFAR10_CONFIG)
    parse_time_checks(config)
    assert not (tmp_path / "data").exists()  # nothing is downloaded at parse time
    config["datasets"]["cifar10"]["download"] = False  # the control: now the files are missing
    with pytest.raises(ConfigError, match="cifar10: CIFAR-10 batches not found"):
        parse_time_checks(config)


# ---- a tiny run on fabricated CIFAR-10 ----------------------------------------------------------

TRAIN_IMAGES, TEST_IMAGES = 300, 300
EVAL_SIZE = 100
TINY_MODELS = (
    "results/cifar10/resnet18/seed0/sparsity0",
    "results/cifar10/resnet18/seed0/magnitude/sparsity0.5",
)
TINY_ATTACKS = ("mlp", "loss_threshold")


def tiny_config(datasets: dict[str, Any], counts: list[int]) -> dict[str, Any]:
    """One arch, a dense model and one ticket, one sample count, two attacks, 1 epoch at width 4."""
    return {
        "datasets": datasets,
        "grid": {
            "archs": ["resnet18"],
            "seeds": [0],
            "sparsities": [0, 0.5],
            "sample_counts": counts,
            "attacks": list(TINY_ATTACKS),
        },
        "model": {"width": 4},
        "training": {"epochs": 1, "batch_size": 100, "device": "auto"},
        "attack": {"eval_size": EVAL_SIZE, "mlp": {"hidden_layer_sizes": [16], "max_iter": 50}},
        "figures": {"sample_count": counts[0], "sparsity": 0.5, "dpi": 60},
        "compute": {"train_threads": 1, "attack_threads": 1},
    }


@pytest.fixture(scope="module")
def cifar_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FabricatedCifar]:
    """The tiny grid on fabricated CIFAR-10, run through every stage that reads data or outputs:
    training, pruning, tickets, export, attacks, transfer, summary (the figures only plot the
    summary and are run end to end on digits by test_workflow)."""
    base = tmp_path_factory.mktemp("cifar_run")
    fabricated = write_cifar(base / "data", "cifar10", TRAIN_IMAGES, TEST_IMAGES)
    datasets = {"cifar10": {"root": str(fabricated.folder), "augmentation": "flip_crop"}}
    config = write_yaml(base / "config.yaml", tiny_config(datasets, [200]))
    workdir = base / "run"
    targets = ("results/summary.parquet", "results/cifar10/transfer/mlp_n200.parquet")
    run_snakemake(workdir, config, "--cores", "2", *targets)
    return workdir, fabricated


def test_the_data_check_keeps_the_pool_sizes_it_counted(cifar_run):
    """The next run of the workflow reads them instead of unpickling every batch again."""
    workdir, _ = cifar_run
    cache = read_json(workdir / ".snakemake" / "lottery_mia" / "pool_sizes.json")
    assert cache["cifar10"]["sizes"] == [TRAIN_IMAGES, TEST_IMAGES]


def test_tiny_cifar_run_writes_every_file(cifar_run):
    workdir, _ = cifar_run
    expected = {
        "results/cifar10/resnet18/seed0/init.pt",
        "results/cifar10/transfer/mlp_n200.parquet",
        "results/cifar10/transfer/mlp_n200.cells.parquet",
        "results/summary.parquet",
        f"{TINY_MODELS[1]}/mask.pt",
    }
    for model in TINY_MODELS:
        expected |= {f"{model}/{name}" for name in ("model.pt", "train.json", "outputs.parquet")}
        expected |= {
            f"{model}/attack/n200/{attack}{suffix}"
            for attack in TINY_ATTACKS
            for suffix in (".json", ".scores.parquet")
        }
        expected.add(f"{model}/attack/n200/.snakemake_timestamp")  # Snakemake's, per folder output
    assert relative_files(workdir) == expected
    summary = pd.read_parquet(workdir / "results" / "summary.parquet")
    assert set(summary["dataset"]) == {"cifar10"}
    assert sorted(summary["sparsity"].unique()) == [0.0, 0.5]
    assert set(summary["attack"]) == set(TINY_ATTACKS)


def test_tiny_cifar_outputs_are_train_file_members_and_test_file_non_members(cifar_run):
    workdir, fabricated = cifar_run
    frames = [read_outputs(workdir / model / "outputs.parquet") for model in TINY_MODELS]
    for frame in frames:
        # min(300, 300) members and as many non-members: every sample of both files
        assert len(frame) == TRAIN_IMAGES + TEST_IMAGES
        assert logits_matrix(frame).shape == (len(frame), 10)
        assert (frame["member"] == (frame["pool"] == "train")).all()
        train, test = frame[frame["pool"] == "train"], frame[frame["pool"] == "test"]
        assert sorted(train["sample_id"]) == list(range(TRAIN_IMAGES))
        assert sorted(test["sample_id"]) == list(range(TEST_IMAGES))
        # labels are those of the files: members from data_batch_*, non-members from test_batch
        np.testing.assert_array_equal(train["label"], fabricated.train_labels[train["sample_id"]])
        np.testing.assert_array_equal(test["label"], fabricated.test_labels[test["sample_id"]])
        assert train["attack_eval"].sum() == test["attack_eval"].sum() == EVAL_SIZE // 2
    for frame in frames[1:]:  # the same rows, in the same order, for every model
        pd.testing.assert_frame_equal(
            frame[["sample_id", "pool", "label"]], frames[0][["sample_id", "pool", "label"]]
        )


def test_tiny_cifar_logits_are_the_models_outputs_on_the_file_images(cifar_run):
    workdir, fabricated = cifar_run
    dense = workdir / TINY_MODELS[0]
    frame = read_outputs(dense / "outputs.parquet", flipped=True)
    record = read_json(dense / "train.json")
    model = build_model(ModelSpec(**record["model_spec"]))
    load_weights(model, dense / "model.pt")
    model.eval()
    dataset = load_dataset("cifar10", {"root": str(fabricated.folder)})
    for pool_name, pool in (("train", dataset.train), ("test", dataset.test)):
        rows = frame[frame["pool"] == pool_name].head(20)
        images, _ = next(pool.batches(rows["sample_id"].to_numpy(), 20, torch.device("cpu"), False))
        with torch.inference_mode():
            expected = model(images).numpy()
            mirrored = model(images.flip(-1)).numpy()
        np.testing.assert_allclose(logits_matrix(rows), expected, rtol=1e-3, atol=1e-3)
        # flip_crop training and query_flips auto: the mirror image's logits are exported too.
        np.testing.assert_allclose(
            logits_matrix(rows, FLIPPED_COLUMN), mirrored, rtol=1e-3, atol=1e-3
        )


# ---- broken data stops the workflow at parse time -----------------------------------------------


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def drop_image_columns(path: Path) -> None:
    """Rewrite a batch as a valid pickle whose images have 1,024 instead of 3,072 values."""
    with path.open("rb") as handle:
        record = pickle.load(handle, encoding="bytes")
    record[b"data"] = record[b"data"][:, :1024]
    with path.open("wb") as handle:
        pickle.dump(record, handle, protocol=2)


def broken_cifar_case(case: str, data: Path) -> tuple[dict[str, Any], list[int], list[str]]:
    """Fabricated CIFAR-10 broken as ``case``: (datasets entry, sample counts, message parts)."""
    fabricated = write_cifar(data, "cifar10", TRAIN_IMAGES, TEST_IMAGES)
    folder = fabricated.folder
    fix = "Fix: set datasets.cifar10.root to the folder holding these files"
    if case == "missing_root":
        root = data / "elsewhere" / "cifar-10-batches-py"
        found = ["'datasets.cifar10.root'", f"{root} does not exist"]
        return {"root": str(root)}, [200], [*found, CIFAR10_EXPECTED_FILES, fix, "download: true"]
    if case == "missing_batch":
        (folder / "data_batch_3").unlink()
        found = ["'datasets.cifar10.root'", f"{folder} lacks data_batch_3"]
        return {"root": str(folder)}, [200], [*found, CIFAR10_EXPECTED_FILES, fix]
    if case == "truncated_batch":
        truncate(folder / "data_batch_2")
        found = [f"{folder / 'data_batch_2'}: the file is corrupt or truncated"]
        return {"root": str(folder)}, [200], [*found, "Replace it with the original CIFAR-10 file"]
    assert case == "sample_count_too_large"
    largest = 2 * (min(TRAIN_IMAGES, TEST_IMAGES) - EVAL_SIZE // 2)  # 500
    return (
        {"root": str(folder)},
        [200, largest + 2],
        [
            "config key 'grid.sample_counts' (dataset cifar10)",
            f"sample count(s) [{largest + 2}]",
            f"{TRAIN_IMAGES} training (member) and {TEST_IMAGES} test (non-member) samples",
            f"the largest allowed sample count is {largest}",
        ],
    )


BROKEN_CIFAR_CASES = ["missing_root", "missing_batch", "truncated_batch", "sample_count_too_large"]


@pytest.mark.parametrize("case", BROKEN_CIFAR_CASES)
def test_broken_cifar_data_stops_the_dry_run_with_one_message(tmp_path, case):
    settings, counts, message_parts = broken_cifar_case(case, tmp_path / "data")
    config = write_yaml(tmp_path / "config.yaml", tiny_config({"cifar10": settings}, counts))
    workdir = tmp_path / "run"
    result = run_snakemake(workdir, config, "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ConfigError" in output
    for part in message_parts:
        assert part in output, f"{part!r} not in:\n{output}"
    assert not (workdir / "results").exists()


def test_cifar_images_of_the_wrong_shape_are_refused_at_parse_time(tmp_path):
    fabricated = write_cifar(tmp_path / "data", "cifar10", TRAIN_IMAGES, TEST_IMAGES)
    drop_image_columns(fabricated.folder / "data_batch_4")
    with pytest.raises(ConfigError) as refusal:
        parse_time_checks(tiny_config({"cifar10": {"root": str(fabricated.folder)}}, [200]))
    assert f"{fabricated.folder / 'data_batch_4'}: b'data' is uint8 with shape (60, 1024)" in str(
        refusal.value
    )


def test_imagenet_sample_count_beyond_the_val_pool_is_refused_at_parse_time(tmp_path):
    tree = write_image_folder(tmp_path / "imagenet", train_per_class=6, val_per_class=4)
    # 3 classes: 18 training images, 12 validation images; the non-members bound the counts.
    config = tiny_config({"imagenet": {"root": str(tree.root), "sample_counts": [20, 22]}}, [20])
    config["attack"]["eval_size"] = 4
    parse_time_checks({**config, "datasets": {"imagenet": {"root": str(tree.root)}}})  # control
    with pytest.raises(ConfigError) as refusal:
        parse_time_checks(config)
    message = str(refusal.value)
    assert "config key 'datasets.imagenet.sample_counts' (dataset imagenet)" in message
    assert "sample count(s) [22]" in message
    assert "18 training (member) and 12 test (non-member) samples" in message
    assert "the largest allowed sample count is 20" in message  # 2 x (12 - 4 / 2)


# ---- Downsampled ImageNet -----------------------------------------------------------------------


def test_imagenet32_dry_run_builds_the_dag_on_fabricated_batches(tmp_path):
    written = write_downsampled_imagenet(tmp_path / "data", 32, 300, 300, "npz", True)
    datasets = {"imagenet32": {"root": str(written.root), "augmentation": "flip_crop"}}
    config = write_yaml(tmp_path / "config.yaml", tiny_config(datasets, [200]))
    workdir = tmp_path / "run"
    jobs = planned_jobs(workdir, config)
    # One arch and seed: the dense model and its 50% ticket, each exported and attacked at n=200.
    assert {rule: jobs.get(rule) for rule in ("initialise", "train_dense", "prune")} == {
        "initialise": 1,
        "train_dense": 1,
        "prune": 1,
    }
    assert (jobs["train_ticket"], jobs["export_outputs"], jobs["run_attacks"]) == (1, 2, 2)
    assert jobs["summarize"] == 1
    # The gate counted the batches once and keeps the count for the next parse.
    cache = read_json(workdir / ".snakemake" / "lottery_mia" / "pool_sizes.json")
    assert cache["imagenet32"]["sizes"] == [300, 300]
    assert not (workdir / "results").exists()


def test_absent_imagenet64_batches_stop_the_gate_naming_the_files(tmp_path):
    root = tmp_path / "Imagenet64"
    config = tiny_config({"imagenet64": {"root": str(root)}}, [200])
    with pytest.raises(ConfigError) as refusal:
        parse_time_checks(config)
    message = str(refusal.value)
    assert "config key 'datasets.imagenet64.root': imagenet64: ImageNet64x64 batches not found" in (
        message
    )
    assert f"{root} does not exist" in message
    assert "Expected files: train_data_batch_1, train_data_batch_2" in message
    assert "train_data_batch_10, val_data (pickled, or the same names ending in .npz)" in message
    written = write_downsampled_imagenet(root, 64, 300, 300, "pickle")  # the control
    parse_time_checks(tiny_config({"imagenet64": {"root": str(written.root)}}, [200]))
