"""SLURM runtime and memory follow from the throughput table, and say where their rates come from."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lottery_mia import data, resources
from lottery_mia.resources import (
    RATES,
    attack_fit_mem_mb,
    export_minutes,
    rate,
    train_mem_mb,
    train_minutes,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "rules" / "schemas" / "config.schema.yaml"


def schema_enum(*keys: str) -> list[str]:
    node = yaml.safe_load(SCHEMA_PATH.read_text())
    for key in keys:
        node = node[key]
    return node


def test_every_dataset_and_arch_has_a_rate_with_its_source():
    datasets = list(schema_enum("properties", "datasets", "properties"))
    archs = schema_enum("properties", "grid", "properties", "archs", "items", "enum")
    for device in ("cuda", "cpu"):
        for dataset in datasets:
            for arch in archs:
                entry = RATES[(device, dataset, arch)]
                assert entry.train > 0 and entry.infer > 0
                assert entry.source.split(":")[0] in {"measured", "published", "estimated"}


def test_training_runtime_is_startup_plus_safety_times_images_over_rate():
    speed = rate("cuda", "cifar10", "resnet18", 64)
    epochs = 160
    seconds = epochs * 50_000 / speed.train + (epochs * 10_000 + 50_000) / speed.infer
    expected = int(-(-(resources.STARTUP_MINUTES + resources.SAFETY * seconds / 60) // 1))
    assert train_minutes("cuda", "cifar10", "resnet18", 64, epochs) == expected


def test_runtime_grows_with_epochs_width_and_attempt():
    one = train_minutes("cuda", "cifar10", "resnet50", 64, 10)
    assert train_minutes("cuda", "cifar10", "resnet50", 64, 100) > 4 * one
    assert train_minutes("cuda", "cifar10", "resnet50", 128, 10) > one
    assert train_minutes("cuda", "cifar10", "resnet50", 64, 10, attempt=2) == 2 * one
    # Narrower than the reference width is never assumed faster.
    assert train_minutes("cuda", "cifar10", "resnet50", 16, 10) == one


def test_imagenet_is_capped_by_jpeg_decoding_workers():
    slow = rate("cuda", "imagenet", "resnet18", 64, workers=2)
    fast = rate("cuda", "imagenet", "resnet18", 64, workers=64)
    assert slow.train == 2 * resources.JPEG_IMAGES_PER_WORKER
    assert fast.train == RATES[("cuda", "imagenet", "resnet18")].train


def test_imagenet_metrics_cap_shortens_the_evaluation():
    full = train_minutes("cuda", "imagenet", "resnet50", 64, 90, None, workers=8)
    capped = train_minutes("cuda", "imagenet", "resnet50", 64, 90, 50_000, workers=8)
    assert capped < full


def test_export_and_memory_scale_with_the_data():
    assert export_minutes("cuda", "imagenet", "resnet50", 64, 8) > export_minutes(
        "cuda", "cifar10", "resnet50", 64
    )
    assert train_mem_mb("imagenet", workers=8) > train_mem_mb("imagenet", workers=2)
    assert train_mem_mb("cifar10", attempt=2) == 2 * train_mem_mb("cifar10")
    assert attack_fit_mem_mb("imagenet", 100_000) > attack_fit_mem_mb("cifar10", 100_000)


def test_downsampled_imagenet_rates_are_cifars_scaled_by_pixels():
    for device in ("cuda", "cpu"):
        for arch in ("resnet18", "resnet50"):
            cifar = RATES[(device, "cifar10", arch)]
            for name, scale in (("imagenet32", 1.0), ("imagenet64", 0.25)):
                entry = RATES[(device, name, arch)]
                assert (entry.train, entry.infer) == (cifar.train * scale, cifar.infer * scale)
                assert entry.source.startswith("estimated: CIFAR-10's rate")
    # In memory: no JPEG decoding caps it, however few workers.
    assert rate("cuda", "imagenet64", "resnet18", 64).train == 2250


def test_downsampled_imagenet_memory_holds_the_uint8_pools_once_plus_two_batches():
    """imagenet64: 1,331,167 images x 12,288 bytes = 15.2 GiB, and two tenths of the training
    split while loading (a batch unpickled and copied); never float (4 bytes a pixel: 61 GiB)."""
    pools_mb = (1_281_167 + 50_000) * 12_288 / 2**20  # 15,600
    batch_mb = 2 * 1_281_167 / 10 * 12_288 / 2**20  # 3,003
    data_mb = train_mem_mb("imagenet64") - resources.BASE_MB
    assert pools_mb + batch_mb <= data_mb < pools_mb + batch_mb + 1
    small = train_mem_mb("imagenet32") - resources.BASE_MB
    assert small == pytest.approx((train_mem_mb("imagenet64") - resources.BASE_MB) / 4, abs=1)


def test_unknown_device_is_refused_naming_it():
    with pytest.raises(KeyError, match="tpu"):
        rate("tpu", "cifar10", "resnet18", 64)


@pytest.mark.parametrize(
    ("device_files", "environ", "present"),
    [
        ([], {}, False),
        (["nvidia0", "nvidiactl"], {}, True),
        (["nvidiactl"], {}, False),  # the control file alone: a driver without a GPU
        (["nvidia0"], {"CUDA_VISIBLE_DEVICES": ""}, False),
        (["nvidia0"], {"CUDA_VISIBLE_DEVICES": "-1"}, False),
        (["nvidia0"], {"CUDA_VISIBLE_DEVICES": "1"}, True),
        (["kfd"], {}, True),
        (["kfd"], {"HIP_VISIBLE_DEVICES": ""}, False),
    ],
)
def test_local_gpu_is_read_from_device_files_and_visibility_variables(
    tmp_path, device_files, environ, present
):
    for name in device_files:
        (tmp_path / name).touch()
    assert resources.local_gpu_present(environ, tmp_path) is present


def test_a_transfer_jobs_memory_holds_its_evaluation_row_cache():
    without = attack_fit_mem_mb("cifar100", 22_000)
    assert attack_fit_mem_mb("cifar100", 22_000, cache_mb=512) == without + 512


def test_mirrored_queries_lengthen_an_export_job():
    one = export_minutes("cuda", "imagenet", "resnet50", 64, workers=8)
    assert export_minutes("cuda", "imagenet", "resnet50", 64, workers=8, queries=2) > one


def test_every_registered_dataset_is_sized_from_its_registry_entry():
    """resources keeps no table of datasets: a new one brings its shape, and gets a rate."""
    assert data.pool_shapes() == resources.DATASETS
    for name in data.DATASET_NAMES:
        for device in ("cuda", "cpu"):
            assert train_minutes(device, name, "resnet18", 64, 1, workers=1) > 0
        assert train_mem_mb(name, workers=1) > resources.BASE_MB
