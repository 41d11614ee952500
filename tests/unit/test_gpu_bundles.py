"""Bundles of jobs that go to SLURM as one allocation (rules/resources.smk): trainings that share
a GPU (compute.trainings_per_gpu) and attack jobs (compute.attacks_per_job)."""

from __future__ import annotations

import pytest

from lottery_mia.resources import AttackBundles, Bundles, GpuBundles, shared_minutes

pytestmark = pytest.mark.unit


def test_models_fill_bundles_of_g_per_stage_in_the_order_asked():
    bundles = GpuBundles(4)
    dense = [bundles.place("gpu_digits_resnet18_dense", ("ref", k)) for k in range(5)]
    assert dense == [
        ("gpu_digits_resnet18_dense_0", 0),
        ("gpu_digits_resnet18_dense_0", 1),
        ("gpu_digits_resnet18_dense_0", 2),
        ("gpu_digits_resnet18_dense_0", 3),
        ("gpu_digits_resnet18_dense_1", 0),
    ]
    # Another stage starts its own bundles; a model asked again keeps its place.
    assert bundles.place("gpu_digits_resnet18_tickets", ("seed", 0)) == (
        "gpu_digits_resnet18_tickets_0",
        0,
    )
    assert bundles.place("gpu_digits_resnet18_dense", ("ref", 2)) == dense[2]


def test_one_model_per_bundle_is_every_model_its_own_slot_zero():
    bundles = GpuBundles(1)
    assert [bundles.place("s", k) for k in range(3)] == [("s_0", 0), ("s_1", 0), ("s_2", 0)]
    with pytest.raises(ValueError):
        GpuBundles(0)


def test_a_shared_runtime_is_the_runtime_alone_times_the_slowdown_rounded_up():
    assert shared_minutes(6, 2.0) == 12
    assert shared_minutes(7, 1.5) == 11
    assert shared_minutes(10, 1.0) == 10


def test_attack_jobs_fill_bundles_of_a_in_one_stage_and_share_the_gpu_bundles_rules():
    bundles = AttackBundles(4)
    jobs = [("digits", "resnet18", "seed0", f"sparsity{k}", 200) for k in range(9)]
    placed = [bundles.place("attacks", job) for job in jobs]
    assert [group for group, _ in placed] == ["attacks_0"] * 4 + ["attacks_1"] * 4 + ["attacks_2"]
    assert [slot for _, slot in placed] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    assert bundles.place("attacks", jobs[5]) == placed[5]
    # One mechanism for both kinds of bundle.
    assert isinstance(bundles, Bundles) and isinstance(GpuBundles(2), Bundles)
    with pytest.raises(ValueError, match="attack job"):
        AttackBundles(0)
