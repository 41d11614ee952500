"""The keep-half inclusion matrix: balanced both ways, seeded, stable when K grows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lottery_mia.reference_keep import keep_from_frame, keep_matrix, reference_keep_frame


@pytest.mark.parametrize(("n_rows", "n_references"), [(1000, 2), (1001, 4), (37, 8), (500, 16)])
def test_every_row_is_in_for_half_the_references_and_every_reference_trains_on_half(
    n_rows: int, n_references: int
) -> None:
    keep = keep_matrix(n_rows, n_references, seed=0)
    assert keep.shape == (n_references, n_rows)
    assert keep.dtype == np.bool_
    np.testing.assert_array_equal(keep.sum(axis=0), n_references // 2)
    assert set(keep.sum(axis=1).tolist()) <= {n_rows // 2, n_rows - n_rows // 2}


def test_the_matrix_is_seeded() -> None:
    np.testing.assert_array_equal(keep_matrix(300, 4, seed=7), keep_matrix(300, 4, seed=7))
    assert not np.array_equal(keep_matrix(300, 4, seed=7), keep_matrix(300, 4, seed=8))


def test_growing_k_keeps_the_existing_references_columns() -> None:
    """K 4 -> 8 must retrain only references 4-7: references 0-3 train on the same rows."""
    small, large = keep_matrix(500, 4, seed=3), keep_matrix(500, 8, seed=3)
    np.testing.assert_array_equal(large[:4], small)
    # The new pairs are new random halves, not copies of the old ones.
    assert not any(np.array_equal(large[k], small[j]) for k in range(4, 8) for j in range(4))


def test_references_are_not_all_alike_across_pairs() -> None:
    """Different pairs draw independent halves: overlap near a quarter of the rows, not 0 or 1/2."""
    keep = keep_matrix(4000, 8, seed=0)
    overlap = (keep[0] & keep[2]).mean()
    assert 0.2 < overlap < 0.3


@pytest.mark.parametrize("n_references", [0, 1, 3, 7])
def test_an_odd_or_too_small_k_is_refused(n_references: int) -> None:
    with pytest.raises(ValueError, match="reference_models"):
        keep_matrix(100, n_references, seed=0)


def test_frame_layout_and_round_trip() -> None:
    ids = np.array([5, 9, 1, 5, 3, 0])
    pools = np.array(["train", "train", "train", "test", "test", "test"])
    frame = reference_keep_frame(ids, pools, n_references=4, seed=1)
    assert list(frame.columns) == ["sample_id", "pool", "ref0", "ref1", "ref2", "ref3"]
    assert frame["sample_id"].dtype == np.int64
    np.testing.assert_array_equal(frame["sample_id"], ids)
    np.testing.assert_array_equal(keep_from_frame(frame), keep_matrix(6, 4, seed=1))


def test_a_duplicated_population_row_is_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        reference_keep_frame(np.array([1, 1]), np.array(["train", "train"]), 2, seed=0)


def test_an_unbalanced_keep_table_is_refused() -> None:
    frame = pd.DataFrame(
        {
            "sample_id": [0, 1],
            "pool": ["train", "test"],
            "ref0": [True, True],
            "ref1": [True, False],
        }
    )
    with pytest.raises(ValueError, match="exactly 1 of 2"):
        keep_from_frame(frame, "reference_keep.parquet")
    with pytest.raises(ValueError, match=r"ref0 \.\. ref"):
        keep_from_frame(frame.rename(columns={"ref1": "ref7"}))
