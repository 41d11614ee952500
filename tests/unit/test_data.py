"""Data layer: real on-disk formats in, the promised pools, batches and error messages out."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fabricate import (
    TRAIN_GREEN,
    VAL_GREEN,
    FabricatedCifar,
    class_red,
    write_cifar,
    write_downsampled_imagenet,
    write_image_folder,
)
from lottery_mia import data
from lottery_mia.data import (
    DATASET_NAMES,
    Dataset,
    SamplePool,
    digits_arrays,
    digits_split,
    load_dataset,
    pool_sizes,
)
from lottery_mia.data.digits import stratified_split
from lottery_mia.data.image_folder_pool import random_resized_crop_box
from lottery_mia.data.tensor_pool import random_crop_flip

CPU = torch.device("cpu")


def unnormalise(images: torch.Tensor, dataset: Dataset) -> np.ndarray:
    """Back to 0..255 pixel values, to compare batches with the arrays on disk."""
    mean = torch.tensor(dataset.info.mean).reshape(1, -1, 1, 1)
    std = torch.tensor(dataset.info.std).reshape(1, -1, 1, 1)
    return ((images.cpu() * std + mean) * 255).numpy()


def collect(pool: SamplePool, indices, batch_size=4, augment=False, generator=None):
    batches = list(pool.batches(np.asarray(indices), batch_size, CPU, augment, generator))
    return torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- settings -----------------------------------------------------------------------------------


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'") as err:
        load_dataset("mnist", {})
    assert all(name in str(err.value) for name in DATASET_NAMES)


# ---- import cost --------------------------------------------------------------------------------

# Run in a fresh interpreter: this test process has imported torch already.
_POOL_SIZES_WITHOUT_TORCH = """
import json, sys
import lottery_mia.config
from lottery_mia.data import pool_sizes
settings = json.loads(sys.argv[1])
sizes = {name: pool_sizes(name, entry) for name, entry in settings.items()}
heavy = sorted(m for m in ("torch", "torchvision", "sklearn", "pandas") if m in sys.modules)
print(json.dumps({"sizes": sizes, "heavy": heavy}))
"""


def test_config_validation_never_imports_torch(tmp_path):
    """Every Snakefile parse (each dry run, each cluster job) imports the config and data modules
    and calls ``pool_sizes``: torch, torchvision, scikit-learn or pandas would add seconds to each."""
    cifar = write_cifar(tmp_path / "cifar", "cifar10", train_size=20, test_size=10)
    folder = write_image_folder(tmp_path / "imagenet", train_per_class=2, val_per_class=1)
    small = write_downsampled_imagenet(tmp_path / "i32", 32, 12, 5, "npz")
    large = write_downsampled_imagenet(tmp_path / "i64", 64, 13, 6, "pickle")
    settings = {
        "digits": {"test_fraction": 0.5},
        "cifar10": {"root": str(cifar.folder)},
        "imagenet32": {"root": str(small.root)},
        "imagenet64": {"root": str(large.root)},
        "imagenet": {"root": str(folder.root)},
    }
    scripts = Path(data.__file__).resolve().parents[2]  # data/__init__.py -> workflow_scripts
    finished = subprocess.run(
        [sys.executable, "-c", _POOL_SIZES_WITHOUT_TORCH, json.dumps(settings)],
        cwd=scripts,
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["heavy"] == []
    classes = len(folder.classes)
    assert report["sizes"] == {
        "digits": list(pool_sizes("digits", settings["digits"])),
        "cifar10": [20, 10],
        "imagenet32": [12, 5],
        "imagenet64": [13, 6],
        "imagenet": [2 * classes, classes],
    }


# ---- digits -------------------------------------------------------------------------------------


def test_digits_split_is_deterministic_stratified_disjoint_and_complete():
    images, labels = digits_arrays()
    train, test = digits_split(0.5, 0)
    again_train, again_test = digits_split(0.5, 0)
    other_train, _ = digits_split(0.5, 1)
    assert np.array_equal(train, again_train) and np.array_equal(test, again_test)
    assert not np.array_equal(train, other_train)
    assert len(np.intersect1d(train, test)) == 0
    assert np.array_equal(np.union1d(train, test), np.arange(1797))
    train_counts = np.bincount(labels[train], minlength=10)
    test_counts = np.bincount(labels[test], minlength=10)
    assert np.abs(train_counts - test_counts).max() <= 1  # stratified: each class split in half
    assert images.dtype == np.uint8 and images.max() == 255 and images.min() == 0


def test_digits_are_scikit_learns_images_and_split_without_importing_it():
    """digits.py reads scikit-learn's file and splits it with a copy of ``train_test_split``'s
    stratified algorithm (importing scikit-learn costs every job a second): both must give exactly
    scikit-learn's result, or a rerun would train and attack on other pools."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    images, labels = digits_arrays()
    reference = load_digits()
    assert np.array_equal(images[:, 0], np.rint(reference.images * (255 / 16)).astype(np.uint8))
    assert np.array_equal(labels, reference.target) and labels.dtype == np.int64
    rows = np.arange(len(labels))
    for fraction in (0.1, 0.25, 0.3, 0.5, 0.77, 0.9):
        for seed in range(10):
            expected = train_test_split(
                rows, test_size=fraction, random_state=seed, stratify=labels
            )
            actual = stratified_split(labels, fraction, seed)
            assert all(map(np.array_equal, actual, expected)), (fraction, seed)


def test_digits_split_too_small_for_the_classes_names_the_fraction():
    with pytest.raises(ValueError, match=r"test_fraction = 0.003 leaves a pool with fewer samples"):
        digits_split(0.003, 0)


def test_digits_pools_hold_the_split_samples_with_train_statistics():
    dataset = load_dataset("digits", {"test_fraction": 0.25, "split_seed": 3})
    images, labels = digits_arrays()
    train, test = digits_split(0.25, 3)
    assert (len(dataset.train), len(dataset.test)) == (len(train), len(test)) == (1347, 450)
    assert pool_sizes("digits", {"test_fraction": 0.25, "split_seed": 3}) == (1347, 450)
    assert np.array_equal(dataset.train.labels, labels[train])
    assert np.array_equal(dataset.test.labels, labels[test])
    assert dataset.train.labels.dtype == np.int64
    info = dataset.info
    assert (info.num_classes, info.in_channels, info.image_size) == (10, 1, 8)
    assert info.mean[0] == pytest.approx(images[train].mean() / 255)
    assert info.std[0] == pytest.approx((images[train] / 255).std())
    pixels, batch_labels = collect(dataset.test, np.arange(len(test)), batch_size=128)
    assert pixels.shape == (450, 1, 8, 8) and pixels.dtype == torch.float32
    assert np.allclose(unnormalise(pixels, dataset), images[test], atol=1e-3)
    assert np.array_equal(batch_labels.numpy(), labels[test])


def test_digits_crop_augmentation_shifts_pixels_reproducibly():
    dataset = load_dataset("digits", {"augmentation": "crop"})
    indices = np.arange(64)
    plain, _ = collect(dataset.train, indices)
    first, _ = collect(dataset.train, indices, augment=True, generator=seeded(5))
    second, _ = collect(dataset.train, indices, augment=True, generator=seeded(5))
    assert torch.equal(first, second)
    assert not torch.equal(first, plain)


# ---- CIFAR --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cifar10(tmp_path_factory) -> FabricatedCifar:
    return write_cifar(tmp_path_factory.mktemp("cifar"), "cifar10", train_size=103, test_size=37)


@pytest.mark.parametrize(
    ("name", "train_size", "test_size"), [("cifar10", 103, 37), ("cifar100", 230, 120)]
)
def test_cifar_pools_are_the_files_on_disk(tmp_path, name, train_size, test_size):
    written = write_cifar(tmp_path, name, train_size=train_size, test_size=test_size)
    dataset = load_dataset(name, {"root": str(written.folder)})
    num_classes = 10 if name == "cifar10" else 100
    info = dataset.info
    assert (info.name, info.num_classes, info.in_channels, info.image_size) == (
        name,
        num_classes,
        3,
        32,
    )
    assert info.class_names == tuple(f"class_{c}" for c in range(num_classes))
    assert isinstance(dataset.train, SamplePool) and isinstance(dataset.test, SamplePool)
    assert np.array_equal(
        dataset.train.images.numpy(), written.train_images
    )  # members: train files
    assert np.array_equal(
        dataset.test.images.numpy(), written.test_images
    )  # non-members: test file
    assert np.array_equal(dataset.train.labels, written.train_labels)
    assert np.array_equal(dataset.test.labels, written.test_labels)
    assert np.array_equal(np.unique(dataset.train.labels), np.arange(num_classes))
    assert pool_sizes(name, {"root": str(written.folder)}) == (train_size, test_size)


def test_cifar_root_may_be_the_parent_of_the_batches_folder(cifar10):
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder.parent)})
    assert np.array_equal(dataset.test.images.numpy(), cifar10.test_images)


def test_batches_follow_the_index_order(cifar10):
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder)})
    indices = np.array([5, 0, 102, 7, 7, 3, 60])
    pixels, labels = collect(dataset.train, indices, batch_size=3)
    assert pixels.shape == (7, 3, 32, 32) and pixels.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert np.allclose(unnormalise(pixels, dataset), cifar10.train_images[indices], atol=1e-3)
    assert np.array_equal(labels.numpy(), cifar10.train_labels[indices])
    sizes = [len(y) for _, y in dataset.train.batches(indices, 3, CPU, augment=False)]
    assert sizes == [3, 3, 1]


def test_augmentation_is_reproducible_and_changes_pixels(cifar10):
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder)})
    indices = np.arange(40)
    plain, labels = collect(dataset.train, indices)
    plain_again, _ = collect(dataset.train, indices)
    first, first_labels = collect(dataset.train, indices, augment=True, generator=seeded(1))
    second, _ = collect(dataset.train, indices, augment=True, generator=seeded(1))
    other, _ = collect(dataset.train, indices, augment=True, generator=seeded(2))
    assert torch.equal(plain, plain_again)
    assert torch.equal(first, second)
    assert not torch.equal(first, plain) and not torch.equal(first, other)
    assert torch.equal(first_labels, labels)  # augmentation never touches labels


def test_augmentation_none_ignores_augment(cifar10):
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder), "augmentation": "none"})
    plain, _ = collect(dataset.train, np.arange(20))
    augmented, _ = collect(dataset.train, np.arange(20), augment=True, generator=seeded(0))
    assert torch.equal(plain, augmented)


def window(image: torch.Tensor, top: int, left: int, height: int, width: int, mirrored: bool):
    crop = image[:, top : top + height, left : left + width]
    return crop.flip(2) if mirrored else crop


def test_random_crop_flip_takes_a_window_of_the_padded_image():
    images = torch.randint(0, 256, (64, 3, 10, 12), dtype=torch.uint8, generator=seeded(0))
    padding = 2
    out = random_crop_flip(images, padding, flip=True, generator=seeded(1))
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    windows_used, flips_used = set(), set()
    for sample, result in zip(padded, out, strict=True):
        matches = [
            (top, left, mirrored)
            for top in range(2 * padding + 1)
            for left in range(2 * padding + 1)
            for mirrored in (False, True)
            if torch.equal(result, window(sample, top, left, 10, 12, mirrored))
        ]
        assert matches, "augmented image is not a (mirrored) window of the padded image"
        windows_used.add(matches[0][:2])
        flips_used.add(matches[0][2])
    assert flips_used == {False, True}
    assert len(windows_used) > 5
    no_flip = random_crop_flip(images, 0, flip=False, generator=seeded(1))
    assert torch.equal(no_flip, images)  # zero padding and no flip: identity


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_equal_cpu_batches(cifar10):
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder)})
    indices = np.arange(50)[::-1].copy()
    on_cpu = list(dataset.train.batches(indices, 16, CPU, True, seeded(3)))
    on_gpu = list(dataset.train.batches(indices, 16, torch.device("cuda"), True, seeded(3)))
    for (x_cpu, y_cpu), (x_gpu, y_gpu) in zip(on_cpu, on_gpu, strict=True):
        assert x_gpu.device.type == "cuda"
        assert torch.allclose(x_cpu, x_gpu.cpu(), atol=1e-5) and torch.equal(y_cpu, y_gpu.cpu())


def test_out_of_range_indices_are_rejected(cifar10):
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder)})
    with pytest.raises(ValueError, match=r"indices range from 0 to 37; the pool has 37 samples"):
        next(dataset.test.batches(np.array([0, 37]), 8, CPU, augment=False))


# ---- CIFAR: broken inputs -----------------------------------------------------------------------


def test_missing_root_says_where_what_and_how_to_fix(tmp_path):
    root = tmp_path / "nowhere"
    for call in (load_dataset, pool_sizes):
        with pytest.raises(FileNotFoundError) as err:
            call("cifar10", {"root": str(root)})
        message = str(err.value)
        for expected in (
            "cifar10",
            str(root),
            "data_batch_1",
            "test_batch",
            "batches.meta",
            "datasets.cifar10.root",
            "datasets.cifar10.download: true",
        ):
            assert expected in message


def test_missing_batch_file_is_named(tmp_path):
    written = write_cifar(tmp_path, "cifar10")
    (written.folder / "data_batch_3").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"cifar-10-batches-py lacks data_batch_3\)\. Expected files"
    ):
        load_dataset("cifar10", {"root": str(written.folder)})


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_batch_file_is_named(tmp_path, damage):
    written = write_cifar(tmp_path, "cifar100")
    path = written.folder / "test"
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2] if damage == "truncate" else b"\x00not a pickle")
    for call in (load_dataset, pool_sizes):
        with pytest.raises(ValueError, match="corrupt or truncated") as err:
            call("cifar100", {"root": str(written.folder)})
        assert str(path) in str(err.value)


def test_labels_out_of_range_are_reported(tmp_path):
    written = write_cifar(tmp_path, "cifar10")
    path = written.folder / "test_batch"
    record = pickle.loads(path.read_bytes(), encoding="bytes")
    record[b"labels"][4] = 42
    path.write_bytes(pickle.dumps(record, protocol=2))
    with pytest.raises(ValueError, match=r"labels from 0 to 42; expected 0\.\.9") as err:
        load_dataset("cifar10", {"root": str(written.folder)})
    assert str(path) in str(err.value)


def test_wrong_image_shape_is_reported(tmp_path):
    written = write_cifar(tmp_path, "cifar10")
    path = written.folder / "data_batch_2"
    record = pickle.loads(path.read_bytes(), encoding="bytes")
    record[b"data"] = record[b"data"][:, :1024]
    path.write_bytes(pickle.dumps(record, protocol=2))
    with pytest.raises(ValueError, match=r"data_batch_2: b'data' is uint8 with shape \(20, 1024\)"):
        load_dataset("cifar10", {"root": str(written.folder)})


class _Planted:
    """A pickle payload that would create a file if the loader executed arbitrary globals."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickles_cannot_run_code(tmp_path):
    written = write_cifar(tmp_path, "cifar10")
    marker = tmp_path / "executed"
    (written.folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": _Planted(marker)}))
    with pytest.raises(
        ValueError, match=r"batches\.meta is not a CIFAR-10 file: it references io\.open"
    ):
        load_dataset("cifar10", {"root": str(written.folder)})
    assert not marker.exists()


def test_download_fetches_into_root_then_reads_with_our_reader(tmp_path, monkeypatch):
    """`download: true` goes through torchvision (stubbed: no network) and lands in `root`."""
    import torchvision

    calls = []

    class FakeCifar10:
        def __init__(self, root, train, download):
            calls.append((train, download))
            write_cifar(Path(root), "cifar10", train_size=15, test_size=5)

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCifar10)
    root = tmp_path / "data" / "cifar-10-batches-py"
    settings = {"root": str(root), "download": True}
    assert pool_sizes("cifar10", settings) == (50_000, 10_000)  # official sizes, no download yet
    assert calls == []
    dataset = load_dataset("cifar10", settings)
    assert calls == [(True, True)]
    assert (len(dataset.train), len(dataset.test)) == (15, 5)
    assert sorted(p.name for p in root.parent.iterdir()) == ["cifar-10-batches-py"]  # no temp left
    load_dataset("cifar10", settings)
    assert len(calls) == 1  # files present: no second download


# ---- Downsampled ImageNet (imagenet32, imagenet64) ----------------------------------------------


@pytest.mark.parametrize(
    ("side", "file_format", "official_folders"),
    [(32, "pickle", False), (32, "npz", True), (64, "pickle", True), (64, "npz", False)],
)
def test_downsampled_imagenet_pools_are_the_files_on_disk(
    tmp_path, side, file_format, official_folders
):
    written = write_downsampled_imagenet(tmp_path, side, 47, 19, file_format, official_folders)
    if official_folders:  # the archives' folders under root, as they extract
        assert written.files[0].parent.name.startswith(f"Imagenet{side}_train")
    name = f"imagenet{side}"
    settings = {"root": str(written.root)}
    assert pool_sizes(name, settings) == (47, 19)
    dataset = load_dataset(name, settings)
    info = dataset.info
    assert (info.name, info.num_classes, info.in_channels, info.image_size) == (name, 1000, 3, side)
    assert (info.mean, info.std) == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert dataset.train.images.shape == (47, 3, side, side)
    assert dataset.train.images.dtype == torch.uint8  # held as uint8, never float
    assert np.array_equal(dataset.train.images.numpy(), written.train_images)
    assert np.array_equal(dataset.test.images.numpy(), written.test_images)
    # The files hold 1..1000; the pools 0..999 (0 and 999 are always among the fabricated labels).
    assert np.array_equal(dataset.train.labels, written.train_labels)
    assert np.array_equal(dataset.test.labels, written.test_labels)
    assert (dataset.train.labels.min(), dataset.train.labels.max()) == (0, 999)
    # CIFAR's augmentation choices, with the side's padding default.
    assert (dataset.train.augmentation, dataset.train.crop_padding) == ("flip_crop", side // 8)


def test_downsampled_imagenet_rows_are_channel_major(tmp_path):
    """A row is all red values, then all green, then all blue, each plane row by row."""
    written = write_downsampled_imagenet(tmp_path, 32, 10, 4, "pickle")
    path = written.files[0]  # train_data_batch_1 holds training images 0 (and 1)
    record = pickle.loads(path.read_bytes())
    ramp = np.arange(32 * 32) % 251
    record["data"][0] = np.concatenate([np.full(1024, 200), np.full(1024, 100), ramp])
    path.write_bytes(pickle.dumps(record, protocol=2))
    dataset = load_dataset("imagenet32", {"root": str(written.root)})
    image = dataset.train.images[0].numpy()
    assert (image[0] == 200).all() and (image[1] == 100).all()
    assert np.array_equal(image[2], ramp.reshape(32, 32))  # row-major within a plane
    pixels, _ = collect(dataset.train, [0])
    assert np.allclose(unnormalise(pixels, dataset)[0], image, atol=1e-3)


def test_downsampled_imagenet_augmentation_is_cifars_crop_and_flip(tmp_path):
    written = write_downsampled_imagenet(tmp_path, 64, 12, 4, "npz")
    dataset = load_dataset("imagenet64", {"root": str(written.root)})
    indices = np.arange(12)
    plain, _ = collect(dataset.train, indices)
    first, _ = collect(dataset.train, indices, augment=True, generator=seeded(1))
    second, _ = collect(dataset.train, indices, augment=True, generator=seeded(1))
    assert torch.equal(first, second) and not torch.equal(first, plain)
    padded = torch.nn.functional.pad(dataset.train.images, (8,) * 4)
    augmented = torch.from_numpy(np.rint(unnormalise(first, dataset)).astype(np.uint8))
    for sample, result in zip(padded, augmented, strict=True):  # a window of the padded image
        assert any(
            torch.equal(result, window(sample, top, left, 64, 64, mirrored))
            for top in range(17)
            for left in range(17)
            for mirrored in (False, True)
        )


@pytest.mark.parametrize("side", [32, 64])
def test_downsampled_imagenet_models_get_the_cifar_stem(tmp_path, side):
    """3x3 stride-1 stem, no max-pool (models.SMALL_IMAGE_MAX_SIZE): the last stage sees side / 8
    pixels a side, where ImageNet's stem (stride 4 before stage 1) would leave side / 32."""
    from lottery_mia.job_inputs import model_spec
    from lottery_mia.models import build_model

    written = write_downsampled_imagenet(tmp_path, side, 10, 4, "npz")
    dataset = load_dataset(f"imagenet{side}", {"root": str(written.root)})
    model = build_model(
        model_spec("resnet18", dataset.info, {"width": 4, "zero_init_residual": True})
    ).eval()
    assert (model.conv1.kernel_size, model.conv1.stride) == ((3, 3), (1, 1))
    assert isinstance(model.maxpool, torch.nn.Identity)
    seen = {}
    model.layer4.register_forward_hook(lambda module, args, out: seen.update(shape=out.shape))
    images, _ = collect(dataset.train, [0, 1], batch_size=2)
    with torch.inference_mode():
        logits = model(images)
    assert logits.shape == (2, 1000)
    assert tuple(seen["shape"][2:]) == (side // 8, side // 8)


class _Shell:
    """A pickle payload that would run a shell command if the loader executed arbitrary globals."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("file_format", ["pickle", "npz"])
def test_downsampled_imagenet_crafted_file_cannot_run_code(tmp_path, file_format):
    written = write_downsampled_imagenet(tmp_path / "data", 32, 20, 5, file_format)
    marker = tmp_path / "executed"
    path = written.files[2]  # train_data_batch_3
    if file_format == "pickle":
        path.write_bytes(pickle.dumps({"data": _Shell(marker), "labels": [1]}, protocol=2))
        expected = r"is not an ImageNet32x32 file: it references posix\.system"
    else:  # np.savez pickles object arrays; the reader never unpickles
        np.savez(path, data=np.array([_Shell(marker)], dtype=object), labels=np.array([1]))
        expected = "holds pickled objects"
    for call in (load_dataset, pool_sizes):
        with pytest.raises(ValueError, match=expected) as err:
            call("imagenet32", {"root": str(written.root)})
        assert str(err.value).startswith("imagenet32: ") and str(path) in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("file_format", ["pickle", "npz"])
def test_downsampled_imagenet_truncated_batch_is_named(tmp_path, file_format):
    written = write_downsampled_imagenet(tmp_path, 64, 30, 5, file_format)
    path = written.files[6]  # train_data_batch_7
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    for call in (load_dataset, pool_sizes):
        with pytest.raises(ValueError, match="corrupt or truncated") as err:
            call("imagenet64", {"root": str(written.root)})
        message = str(err.value)
        assert message.startswith("imagenet64: cannot read ") and str(path) in message
        assert "Replace it with the original ImageNet64x64 file" in message


def test_downsampled_imagenet_missing_files_are_listed_with_the_fix(tmp_path):
    root = tmp_path / "nowhere"
    for call in (load_dataset, pool_sizes):
        with pytest.raises(FileNotFoundError) as err:
            call("imagenet64", {"root": str(root)})
        message = str(err.value)
        for expected in (
            "imagenet64: ImageNet64x64 batches not found",
            f"{root} does not exist",
            "train_data_batch_1, train_data_batch_2",
            "train_data_batch_10, val_data",
            "N x 12288",
            "labels' (1..1000)",
            "Fix: set datasets.imagenet64.root",
            "Imagenet64_train/ and Imagenet64_val/",
        ):
            assert expected in message, message
    written = write_downsampled_imagenet(tmp_path / "data", 32, 20, 5, "pickle")
    written.files[-1].unlink()  # val_data
    with pytest.raises(FileNotFoundError, match=r"no val_data \(nor \.npz\) in "):
        pool_sizes("imagenet32", {"root": str(written.root)})


def test_downsampled_imagenet_wrong_labels_or_rows_are_reported(tmp_path):
    written = write_downsampled_imagenet(tmp_path, 32, 20, 5, "pickle")
    path = written.files[-1]  # val_data
    record = pickle.loads(path.read_bytes())
    record["labels"] = [label - 1 for label in record["labels"]]  # 0-indexed: not the official
    path.write_bytes(pickle.dumps(record, protocol=2))
    with pytest.raises(ValueError, match=r"labels from 0 to 999; expected 1\.\.1000") as err:
        pool_sizes("imagenet32", {"root": str(written.root)})
    assert str(path) in str(err.value)
    # imagenet32 files where imagenet64 is configured: the row length gives it away
    with pytest.raises(
        ValueError, match=r"shape \(2, 3072\); expected uint8 with shape \(N, 12288\)"
    ):
        load_dataset("imagenet64", {"root": str(written.root)})


# ---- ImageNet -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    return write_image_folder(
        tmp_path_factory.mktemp("imagenet"), train_per_class=4, val_per_class=2
    )


def imagenet_settings(folder, **overrides):
    return {"root": str(folder.root), "image_size": 16, "workers": 0, **overrides}


def test_image_folder_pools_follow_the_folders(image_folder):
    dataset = load_dataset("imagenet", imagenet_settings(image_folder))
    info = dataset.info
    assert (info.num_classes, info.in_channels, info.image_size) == (3, 3, 16)
    assert info.class_names == image_folder.classes
    assert np.array_equal(dataset.train.labels, np.repeat(np.arange(3), 4))
    assert np.array_equal(dataset.test.labels, np.repeat(np.arange(3), 2))
    assert pool_sizes("imagenet", imagenet_settings(image_folder)) == (12, 6)
    for pool, green, count in ((dataset.train, TRAIN_GREEN, 12), (dataset.test, VAL_GREEN, 6)):
        indices = np.arange(count)[::-1].copy()
        pixels, labels = collect(pool, indices, batch_size=4)
        assert pixels.shape == (count, 3, 16, 16) and pixels.dtype == torch.float32
        assert np.array_equal(labels.numpy(), pool.labels[indices])
        values = unnormalise(pixels, dataset)
        expected_red = [class_red(label, 3) for label in labels.tolist()]
        assert np.allclose(values[:, 0].mean(axis=(1, 2)), expected_red, atol=4)
        assert np.allclose(values[:, 1].mean(axis=(1, 2)), green, atol=4)


def test_image_folder_augmentation_is_reproducible_and_independent_of_workers(image_folder):
    dataset = load_dataset("imagenet", imagenet_settings(image_folder))
    indices = np.arange(12)
    plain, _ = collect(dataset.train, indices)
    first, _ = collect(dataset.train, indices, augment=True, generator=seeded(4))
    second, _ = collect(dataset.train, indices, augment=True, generator=seeded(4))
    assert torch.equal(first, second)
    assert not torch.equal(first, plain)
    with_workers = load_dataset("imagenet", imagenet_settings(image_folder, workers=2))
    parallel, _ = collect(with_workers.train, indices, augment=True, generator=seeded(4))
    assert torch.equal(first, parallel)


def test_random_resized_crop_box_stays_inside_the_image():
    rng = np.random.default_rng(0)
    for height, width in ((36, 48), (48, 36), (300, 10), (10, 300)):
        for _ in range(200):
            top, left, box_height, box_width = random_resized_crop_box(height, width, rng)
            assert top >= 0 and top + box_height <= height and box_height > 0
            assert left >= 0 and left + box_width <= width and box_width > 0
    area_shares = [np.prod(random_resized_crop_box(100, 100, rng)[2:]) / 1e4 for _ in range(500)]
    assert min(area_shares) > 0.07 and max(area_shares) <= 1.0 and np.ptp(area_shares) > 0.5


def test_labels_need_no_decoding_and_a_bad_image_is_named(tmp_path):
    folder = write_image_folder(tmp_path, train_per_class=2, val_per_class=1)
    broken = folder.root / "val" / folder.classes[1] / f"{folder.classes[1]}_0000.JPEG"
    broken.write_bytes(b"not a jpeg")
    dataset = load_dataset("imagenet", imagenet_settings(folder))
    assert np.array_equal(dataset.test.labels, [0, 1, 2])
    assert pool_sizes("imagenet", imagenet_settings(folder)) == (6, 3)
    with pytest.raises(ValueError, match="cannot decode image") as err:
        collect(dataset.test, np.array([1]))
    assert str(broken) in str(err.value)


def test_image_folder_layout_errors(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError, match=r"datasets\.imagenet\.root") as err:
        load_dataset("imagenet", {"root": str(missing)})
    assert str(missing) in str(err.value) and "train/<wnid>/*.JPEG" in str(err.value)

    folder = write_image_folder(tmp_path / "a", train_per_class=1, val_per_class=1)
    for image in (folder.root / "val").glob("*/*.JPEG"):
        image.rename(folder.root / "val" / image.name)  # the raw, flat val layout
    for class_folder in (folder.root / "val").iterdir():
        if class_folder.is_dir():
            class_folder.rmdir()
    with pytest.raises(ValueError, match="holds images directly"):
        pool_sizes("imagenet", {"root": str(folder.root)})

    other = write_image_folder(tmp_path / "b", train_per_class=1, val_per_class=1)
    (other.root / "val" / other.classes[0] / f"{other.classes[0]}_0000.JPEG").unlink()
    (other.root / "val" / other.classes[0]).rmdir()
    with pytest.raises(ValueError, match=rf"only in train/ \['{other.classes[0]}'\]"):
        load_dataset("imagenet", {"root": str(other.root)})

    empty = write_image_folder(tmp_path / "c", train_per_class=1, val_per_class=1)
    (empty.root / "train" / empty.classes[2] / f"{empty.classes[2]}_0000.JPEG").unlink()
    with pytest.raises(ValueError, match=rf"{empty.classes[2]} holds no images"):
        load_dataset("imagenet", {"root": str(empty.root)})


def test_device_cache_made_under_inference_mode_still_serves_training(cifar10):
    """Output export (inference_mode) may touch a pool first; training must still backprop."""
    dataset = load_dataset("cifar10", {"root": str(cifar10.folder)})
    with torch.inference_mode():
        next(dataset.train.batches(np.arange(4), 4, CPU, augment=False))
    images, _ = next(dataset.train.batches(np.arange(4), 4, CPU, True, seeded(0)))
    images.requires_grad_()
    torch.nn.Conv2d(3, 2, 3)(images).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
