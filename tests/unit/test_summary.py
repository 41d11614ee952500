"""Tests of the tidy attack summary: schema, validation, derived columns, Parquet output."""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd
import pytest

from lottery_mia.atomic import write_parquet
from lottery_mia.summary import (
    CONFIG_HASH_COLUMN,
    KEY_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_DTYPES,
    build_summary,
    natural_sort_key,
)


def attack_record(**overrides: Any) -> dict[str, Any]:
    """One attack JSON record as the attack rule writes it."""
    metrics = {
        "accuracy": 0.61,
        "precision": 0.63,
        "recall": 0.55,
        "auc": 0.66,
        "tpr_at_1pct_fpr": 0.04,
        "tpr_at_0.1pct_fpr": 0.005,
        "advantage": 0.22,
        "advantage_oracle": 0.25,
    }
    intervals = {
        f"{name}_{bound}": value + shift
        for name, value in metrics.items()
        for bound, shift in (("ci_low", -0.004), ("ci_high", 0.004))
    }
    record: dict[str, Any] = {
        "dataset": "cifar10",
        "arch": "resnet18",
        "seed": 0,
        "method": "magnitude",
        "sparsity": 0.8,
        "n_samples": 400,
        "attack": "mlp",
        **metrics,
        **intervals,
        "min_resolvable_fpr": 0.002,
        "n_eval": 1000,
        "train_accuracy": 0.99,
        "test_accuracy": 0.87,
        "achieved_sparsity": 0.8,
        "achieved_sparsity_all_parameters": 0.79,
        "provenance": {"config_hash": "3f2a9c", "git_commit": "abc", "python": "3.11"},
    }
    record.update(overrides)
    return record


def test_columns_follow_design_order_with_config_hash_last() -> None:
    summary = build_summary([attack_record()])
    assert SUMMARY_COLUMNS[: len(KEY_COLUMNS)] == KEY_COLUMNS
    assert SUMMARY_COLUMNS[-4:] == (
        "generalization_gap", "n_reference_models", "test_accuracy_ci_low", "test_accuracy_ci_high"
    )  # fmt: skip
    assert list(summary.columns) == [*SUMMARY_COLUMNS, CONFIG_HASH_COLUMN]
    assert "provenance" not in summary.columns


def test_the_test_accuracy_interval_is_carried_and_nan_for_older_records() -> None:
    summary = build_summary(
        [
            attack_record(test_accuracy_ci_low=0.85, test_accuracy_ci_high=0.89),
            attack_record(seed=1),  # a model trained before train.json counted its test rows
        ]
    )
    assert summary[["test_accuracy_ci_low", "test_accuracy_ci_high"]].iloc[0].tolist() == [
        0.85,
        0.89,
    ]
    assert summary[["test_accuracy_ci_low", "test_accuracy_ci_high"]].iloc[1].isna().all()
    with pytest.raises(ValueError, match=r"test_accuracy_ci_high is 1\.2"):
        build_summary([attack_record(test_accuracy_ci_low=0.8, test_accuracy_ci_high=1.2)])


def test_n_reference_models_is_zero_for_attacks_that_read_none() -> None:
    summary = build_summary(
        [attack_record(), attack_record(attack="lira_online", n_reference_models=8)]
    )
    assert summary.set_index("attack")["n_reference_models"].to_dict() == {
        "lira_online": 8,
        "mlp": 0,
    }
    assert summary["n_reference_models"].dtype == "int64"


def test_dtypes_are_stable_whatever_the_json_number_types() -> None:
    # JSON may give integral floats for counts and ints for metrics; the table must not care.
    records = [
        attack_record(seed=1.0, n_samples=1000.0, accuracy=1, sparsity=0),
        attack_record(arch="resnet50"),
    ]
    summary = build_summary(records)
    assert {name: str(dtype) for name, dtype in summary.dtypes.items()} == SUMMARY_DTYPES
    assert summary.loc[summary["arch"] == "resnet18", "seed"].item() == 1


def test_generalization_gap_is_train_minus_test_accuracy() -> None:
    records = [
        attack_record(train_accuracy=1.0, test_accuracy=0.75),
        attack_record(arch="resnet50", train_accuracy=0.8, test_accuracy=0.9),
    ]
    summary = build_summary(records).set_index("arch")
    assert summary.loc["resnet18", "generalization_gap"] == pytest.approx(0.25)
    assert summary.loc["resnet50", "generalization_gap"] == pytest.approx(-0.1)


def test_missing_key_is_named_with_the_record_identity() -> None:
    record = attack_record(dataset="cifar100", arch="resnet50", sparsity=0.9, attack="svm")
    del record["auc"]
    with pytest.raises(ValueError, match=r"missing key\(s\) \['auc'\]") as raised:
        build_summary([attack_record(), record])
    message = str(raised.value)
    for fragment in ("'cifar100'", "'resnet50'", "0.9", "'svm'", "n_samples=400"):
        assert fragment in message


def test_duplicate_result_key_is_rejected_and_named() -> None:
    duplicate = attack_record(accuracy=0.7)  # same key as the default record, other numbers
    with pytest.raises(ValueError, match="duplicate attack records") as raised:
        build_summary([attack_record(), attack_record(n_samples=1000), duplicate])
    assert "n_samples=400" in str(raised.value)
    assert "n_samples=1000" not in str(raised.value)


def test_same_model_with_other_sample_count_or_attack_is_not_a_duplicate() -> None:
    records = [attack_record(), attack_record(n_samples=1000), attack_record(attack="loss")]
    assert len(build_summary(records)) == 3


def test_tickets_of_other_pruning_methods_are_other_rows() -> None:
    records = [attack_record(method=method) for method in ("magnitude", "snip", "random")]
    summary = build_summary([attack_record(method="dense", sparsity=0.0), *records])
    assert list(summary["method"]) == ["dense", "magnitude", "random", "snip"]
    assert str(summary["method"].dtype) == "string"


def test_rows_sorted_by_key_with_architectures_in_natural_order() -> None:
    records = [
        attack_record(arch=arch, sparsity=p, n_samples=n, seed=seed)
        for arch in ("resnet101", "resnet50", "resnet18")
        for p in (0.0, 0.5, 0.8)
        for n in (400, 1000)
        for seed in (0, 1)
    ]
    random.Random(0).shuffle(records)
    summary = build_summary(records)
    assert list(summary["arch"].unique()) == ["resnet18", "resnet50", "resnet101"]
    keys = list(summary[list(KEY_COLUMNS)].itertuples(index=False, name=None))
    expected = sorted(keys, key=lambda key: (key[0], natural_sort_key(key[1]), *key[2:]))
    assert keys == expected
    assert list(summary.index) == list(range(len(records)))


def test_config_hash_kept_as_string_and_missing_provenance_is_null() -> None:
    records = [
        attack_record(provenance={"config_hash": 123456}),
        attack_record(arch="resnet50", provenance=None),
    ]
    summary = build_summary(records).set_index("arch")
    assert summary.loc["resnet18", CONFIG_HASH_COLUMN] == "123456"
    assert pd.isna(summary.loc["resnet50", CONFIG_HASH_COLUMN])


def test_every_metric_is_followed_by_its_interval() -> None:
    auc = SUMMARY_COLUMNS.index("auc")
    assert SUMMARY_COLUMNS[auc : auc + 3] == ("auc", "auc_ci_low", "auc_ci_high")
    summary = build_summary([attack_record()])
    assert summary["auc_ci_low"].item() == pytest.approx(0.656)
    assert summary["min_resolvable_fpr"].item() == 0.002


def test_undefined_metric_may_be_null_but_target_accuracy_may_not() -> None:
    unresolved = {f"tpr_at_0.1pct_fpr{end}": math.nan for end in ("", "_ci_low", "_ci_high")}
    summary = build_summary([attack_record(precision=None, **unresolved)])
    assert math.isnan(summary["precision"].item())
    assert summary[list(unresolved)].isna().all(axis=None)
    with pytest.raises(ValueError, match="'test_accuracy' is None; expected a real number"):
        build_summary([attack_record(test_accuracy=None)])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sparsity": 1.0}, r"sparsity 1.0 is outside \[0, 1\)"),
        ({"sparsity": -0.1}, r"sparsity -0.1 is outside \[0, 1\)"),
        ({"seed": 1.5}, "'seed' is 1.5; expected an integer"),
        ({"n_samples": True}, "'n_samples' is True; expected an integer"),
        ({"n_eval": 0}, "n_eval is 0; expected a positive count"),
        ({"accuracy": 1.2}, r"accuracy is 1.2; expected a value in \[0, 1\]"),
        ({"advantage": -1.5}, r"advantage is -1.5; expected a value in \[-1, 1\]"),
        ({"auc_ci_high": 1.01}, r"auc_ci_high is 1.01; expected a value in \[0, 1\]"),
        ({"achieved_sparsity_all_parameters": -0.1}, r"expected a value in \[0, 1\]"),
        ({"arch": ""}, "'arch' is ''; expected a non-empty string"),
        ({"auc": "0.6"}, "'auc' is '0.6'; expected a real number"),
        ({"provenance": "abc"}, "provenance is str; expected a mapping"),
    ],
)
def test_impossible_values_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_summary([attack_record(**overrides)])


def test_negative_advantage_within_range_is_accepted() -> None:
    assert build_summary([attack_record(advantage=-0.2)])["advantage"].item() == -0.2


def test_no_records_is_an_error() -> None:
    with pytest.raises(ValueError, match="no attack records"):
        build_summary([])


def test_parquet_round_trip_keeps_columns_dtypes_and_values(tmp_path) -> None:
    summary = build_summary(
        [attack_record(), attack_record(arch="resnet50", precision=None, provenance=None)]
    )
    path = tmp_path / "results" / "summary.parquet"
    write_parquet(summary, path)
    loaded = pd.read_parquet(path)
    pd.testing.assert_frame_equal(loaded, summary)
    assert [p.name for p in path.parent.iterdir()] == ["summary.parquet"]  # no temporary left


def test_failed_parquet_write_leaves_no_file(tmp_path) -> None:
    unwritable = pd.DataFrame({"mixed": [1, "a"]})  # pyarrow cannot type this column
    path = tmp_path / "summary.parquet"
    with pytest.raises(Exception, match="mixed"):
        write_parquet(unwritable, path)
    assert list(tmp_path.iterdir()) == []
