"""Per-example exposure: agreement of two models' scores, memorisation, pruning-identified
exemplars, and loss from logits."""

from __future__ import annotations

import numpy as np
import pytest

from lottery_mia.exposure import (
    MIN_TOP_K,
    NEEDS_TWO_SEEDS,
    compare_agreement,
    cross_entropy,
    memorisation,
    memorisation_resolution,
    modal_prediction,
    pruning_identified_exemplars,
    top_count,
    top_set_too_small,
)

N_MEMBERS = 1000  # top 1% = 10 members


def planted_pair(shared_top: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two score vectors over 1,000 members whose top-10 sets share exactly ``shared_top``
    members, with every other member's score independent noise below both top sets."""
    rng = np.random.default_rng(seed)
    a, b = rng.random(N_MEMBERS), rng.random(N_MEMBERS)
    a[:10] = 10 + np.arange(10)  # A's top 10: members 0..9
    top_b = np.r_[np.arange(shared_top), 100 + np.arange(10 - shared_top)]
    b[top_b] = 10 + np.arange(10)
    return a, b


def test_identical_scores_agree_perfectly_on_every_resample():
    a = np.random.default_rng(1).random(N_MEMBERS)
    row = compare_agreement([(a, a.copy())], [], n_resamples=200, seed=0)
    assert row["spearman"] == pytest.approx(1.0)
    assert row["jaccard"] == 1.0
    assert (row["spearman_ci_low"], row["spearman_ci_high"]) == pytest.approx((1.0, 1.0))
    assert (row["jaccard_ci_low"], row["jaccard_ci_high"]) == (1.0, 1.0)
    assert row["top_k"] == 10


@pytest.mark.parametrize(("shared", "expected"), [(10, 1.0), (5, 5 / 15), (0, 0.0)])
def test_planted_top_sets_give_their_jaccard(shared, expected):
    a, b = planted_pair(shared)
    row = compare_agreement([(a, b)], [], n_resamples=300, seed=0)
    assert row["jaccard"] == pytest.approx(expected)
    assert row["jaccard_ci_low"] <= expected <= row["jaccard_ci_high"]
    if shared == 0:  # no resample can find a shared member that does not exist
        assert row["jaccard_ci_high"] == 0.0
    # The other 990 scores are independent noise: rank correlation near zero, interval around it.
    assert abs(row["spearman"]) < 0.1
    assert row["spearman_ci_low"] < row["spearman"] < row["spearman_ci_high"]
    assert row["spearman_ci_low"] < 0.0 < row["spearman_ci_high"]


def test_spearman_of_a_planted_monotone_pair_and_of_a_reversal():
    a = np.random.default_rng(2).random(N_MEMBERS)
    same = compare_agreement([(a, np.exp(3 * a))], [], n_resamples=100, seed=0)
    reversed_ = compare_agreement([(a, -a)], [], n_resamples=100, seed=0)
    assert same["spearman"] == pytest.approx(1.0)
    assert reversed_["spearman"] == pytest.approx(-1.0)
    assert reversed_["jaccard"] == 0.0  # the top 10 of one are the bottom 10 of the other


@pytest.mark.parametrize("n_members", [200, 999])
def test_a_top_set_under_ten_members_has_no_jaccard_and_says_why(n_members):
    """1% of 200 members is a top 2 (no Jaccard), of 999 a top 10 (reported). Identical scores
    give Jaccard 1 [1, 1]: at k = 2 a certainty the bootstrap of so few members does not have."""
    a = np.random.default_rng(4).random(n_members)
    row = compare_agreement([(a, a.copy())], [], n_resamples=100, seed=0)
    k = top_count(n_members, 0.01)
    assert row["top_k"] == k
    if k < MIN_TOP_K:
        columns = [name for name in row if name.startswith("jaccard") and name != "jaccard_verdict"]
        assert len(columns) == 9 and all(np.isnan(row[name]) for name in columns)
        assert row["jaccard_verdict"] == top_set_too_small(k)
        assert f"top {k} " in row["jaccard_verdict"]
    else:
        assert (row["jaccard"], row["jaccard_ci_low"], row["jaccard_ci_high"]) == (1.0, 1.0, 1.0)
    assert row["spearman"] == pytest.approx(1.0)  # Spearman is unaffected by the top set


def test_ticket_that_differs_more_than_retraining_is_called_so():
    rng = np.random.default_rng(3)
    signal = rng.normal(size=N_MEMBERS)
    dense0, dense1 = signal + 0.1 * rng.normal(size=(2, N_MEMBERS))
    ticket0 = signal + 2.0 * rng.normal(size=N_MEMBERS)
    row = compare_agreement([(dense0, ticket0)], [(dense0, dense1)], n_resamples=300, seed=0)
    assert row["spearman_dense_dense"] > 0.95 > 0.6 > row["spearman"]
    assert row["spearman_difference_ci_high"] < 0
    assert row["spearman_verdict"] == "ticket differs more than retraining"
    assert row["spearman_dense_dense_ci_low"] <= row["spearman_dense_dense"]


def test_one_seed_leaves_the_retraining_level_nan_and_says_why():
    a, b = planted_pair(5)
    row = compare_agreement([(a, b)], [], n_resamples=50, seed=0)
    assert np.isnan(row["spearman_dense_dense"]) and np.isnan(row["jaccard_difference_ci_low"])
    assert row["spearman_verdict"] == row["jaccard_verdict"] == NEEDS_TWO_SEEDS


def test_the_bootstrap_is_seeded():
    a, b = planted_pair(5)
    first = compare_agreement([(a, b)], [], n_resamples=100, seed=7)
    again = compare_agreement([(a, b)], [], n_resamples=100, seed=7)
    other = compare_agreement([(a, b)], [], n_resamples=100, seed=8)
    assert first["spearman_ci_low"] == again["spearman_ci_low"]
    assert first["jaccard_ci_high"] == again["jaccard_ci_high"]
    assert first["spearman_ci_low"] != other["spearman_ci_low"]


def test_top_count_rounds_up_and_keeps_one():
    assert top_count(1000, 0.01) == 10
    assert top_count(298, 0.01) == 3
    assert top_count(50, 0.01) == 1
    with pytest.raises(ValueError, match="top fraction"):
        top_count(10, 0.0)


def test_memorisation_is_the_in_minus_out_accuracy_of_the_references():
    keep = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]], dtype=bool)
    correct = np.array([[1, 1, 1], [0, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=bool)
    # row 0: IN refs 0, 2 both right; OUT refs 1, 3 both wrong -> 1 - 0 = 1
    # row 1: IN refs 1, 3 right; OUT refs 0 right, 2 wrong -> 1 - 0.5 = 0.5
    # row 2: IN refs 0, 3 right; OUT refs 1, 2 right -> 0
    assert memorisation(correct, keep) == pytest.approx([1.0, 0.5, 0.0])
    assert memorisation_resolution(4) == 0.5


def test_memorisation_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same"):
        memorisation(np.ones((4, 3), bool), np.ones((4, 2), bool))


def test_modal_prediction_breaks_ties_towards_the_smallest_label():
    predicted = np.array([[3, 1, 2], [3, 2, 1], [0, 2, 0]])
    assert modal_prediction(predicted).tolist() == [3, 2, 0]


def test_pruning_identified_exemplars_use_the_modal_prediction():
    labels = np.array([0, 1, 2, 3])
    dense = np.array([[0, 1, 2, 0], [0, 1, 0, 0], [0, 0, 2, 3]])  # modal: 0, 1, 2, 0
    ticket = np.array([[1, 1, 0, 3], [1, 1, 0, 3], [0, 0, 2, 3]])  # modal: 1, 1, 0, 3
    assert pruning_identified_exemplars(dense, ticket, labels).tolist() == [
        True, False, True, False,
    ]  # fmt: skip


def test_cross_entropy_is_float64_and_matches_the_definition():
    logits = np.array([[40.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    loss = cross_entropy(logits, np.array([0, 0]))
    assert loss.dtype == np.float64
    assert loss[0] == pytest.approx(np.log1p(np.exp(-40.0)), rel=1e-6)  # not rounded to 0
    assert loss[0] > 0
    assert loss[1] == pytest.approx(np.log(1 + np.e))
