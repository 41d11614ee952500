"""LiRA and RMIA on a planted population of reference models with a known keep matrix.

The planted setting imitates an overfit model: every row has its own difficulty (the log-odds an
OUT model gives it), and training on a row raises its log-odds by a memorisation gain that is
largest for hard rows. A global loss threshold cannot tell a hard member from an easy non-member;
per-row calibration against reference models can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.special import log_expit

from lottery_mia import rmia
from lottery_mia.lira import (
    fit_gaussians,
    lira_offline,
    lira_online,
    offline_decision,
    online_decision,
)
from lottery_mia.membership_signals import logit_scaled_confidence, membership_signal
from lottery_mia.reference_keep import keep_matrix
from lottery_mia.rmia import log_marginal, rmia_decision, rmia_scores, tune_offline_a
from lottery_mia.stats.metrics import EvaluationRows, point_metrics


def tpr_at_fpr(member: np.ndarray, score: np.ndarray, max_fpr: float) -> float:
    """TPR at FPR < 1% (the pipeline's definition, stats/metrics.py)."""
    assert max_fpr == 0.01
    decisions = np.zeros(np.shape(member), dtype=bool)
    rows = EvaluationRows(np.asarray(member), np.asarray(score, dtype=np.float64), decisions)
    return point_metrics(rows)["tpr_at_1pct_fpr"]


@dataclass(frozen=True)
class Planted:
    """Target and reference log-odds φ of every row, the keep matrix and target membership."""

    target_phi: np.ndarray
    reference_phi: np.ndarray
    keep: np.ndarray
    member: np.ndarray

    @property
    def target_log_p(self) -> np.ndarray:
        return log_expit(self.target_phi)

    @property
    def reference_log_p(self) -> np.ndarray:
        return log_expit(self.reference_phi)


def planted_overfit(n_rows: int = 2000, n_references: int = 16, seed: int = 0) -> Planted:
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(2.0, 3.0, n_rows)
    gain = 4.0 / (1.0 + np.exp(difficulty - 2.0))  # hard rows are memorised most

    def trained(on: np.ndarray) -> np.ndarray:
        return difficulty + gain * on + rng.normal(0.0, 0.4, n_rows)

    keep = keep_matrix(n_rows, n_references, seed=seed)
    member = rng.permutation(n_rows) < n_rows // 2
    return Planted(
        target_phi=trained(member),
        reference_phi=np.stack([trained(column) for column in keep]).astype(np.float32),
        keep=keep,
        member=member,
    )


@pytest.fixture(scope="module")
def planted() -> Planted:
    return planted_overfit()


def _tpr_at_1pct(planted: Planted, score: np.ndarray) -> float:
    return tpr_at_fpr(planted.member, score, 0.01)


def test_lira_online_beats_the_loss_attack_at_low_fpr(planted: Planted) -> None:
    loss_score = planted.target_log_p  # -loss: the loss attack's score
    lira_score = lira_online(planted.target_phi, planted.reference_phi, planted.keep)
    loss_tpr, lira_tpr = _tpr_at_1pct(planted, loss_score), _tpr_at_1pct(planted, lira_score)
    assert lira_tpr > 0.3
    assert lira_tpr > 3 * loss_tpr


@pytest.mark.parametrize("variance", ["global", "per_row"])
def test_offline_lira_and_rmia_also_beat_the_loss_attack(planted: Planted, variance: str) -> None:
    loss_tpr = _tpr_at_1pct(planted, planted.target_log_p)
    offline = lira_offline(planted.target_phi, planted.reference_phi, planted.keep, variance)
    assert _tpr_at_1pct(planted, offline) > 2 * loss_tpr
    rows = np.arange(planted.member.size)
    population = rows[~planted.member][:400]  # non-members the attacker holds as population
    scored = np.setdiff1d(rows, population)
    rmia = rmia_scores(
        planted.target_log_p, planted.reference_log_p, planted.keep, scored, population
    )
    assert tpr_at_fpr(planted.member[scored], rmia, 0.01) > 2 * loss_tpr


def test_offline_attacks_read_only_out_references(planted: Planted) -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(50.0, 20.0, planted.keep.shape).astype(np.float32)
    altered = np.where(planted.keep, noise, planted.reference_phi)
    for variance in ("global", "per_row"):
        before = lira_offline(planted.target_phi, planted.reference_phi, planted.keep, variance)
        after = lira_offline(planted.target_phi, altered, planted.keep, variance)
        np.testing.assert_array_equal(before, after)
    # The online attack does read IN references, so the alteration is visible to it.
    assert not np.allclose(
        lira_online(planted.target_phi, planted.reference_phi, planted.keep),
        lira_online(planted.target_phi, altered, planted.keep),
    )
    before_rmia = log_marginal(planted.reference_log_p, planted.keep, "offline", 0.3)
    after_rmia = log_marginal(log_expit(altered), planted.keep, "offline", 0.3)
    np.testing.assert_array_equal(before_rmia, after_rmia)


def _equal_spread_references(n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """IN and OUT values with the same spread (IN = OUT + 3), so the online LLR is linear in φ."""
    keep = keep_matrix(n_rows, 8, seed=5)
    offsets = np.array([-0.6, -0.2, 0.2, 0.6])
    references = np.empty(keep.shape)
    for row in range(n_rows):
        references[keep[:, row], row] = 3.0 + row + offsets
        references[~keep[:, row], row] = row + offsets
    return references, keep


@pytest.mark.parametrize("variance", ["global", "per_row"])
def test_lira_scores_rise_with_the_target_confidence(variance: str) -> None:
    references, keep = _equal_spread_references(n_rows=5)
    grid = np.linspace(-10.0, 15.0, 101)
    for row in range(5):
        online, offline = [], []
        for phi in grid:
            target = np.zeros(5)
            target[row] = phi
            online.append(lira_online(target, references, keep, variance)[row])
            offline.append(lira_offline(target, references, keep, variance)[row])
        assert (np.diff(online) > 0).all()
        assert (np.diff(offline) >= 0).all() and offline[-1] > offline[0]


def test_online_lira_rises_from_the_out_mean_to_the_in_mean_with_unequal_spreads(
    planted: Planted,
) -> None:
    """Per-row sigma_in != sigma_out: the LLR is quadratic in φ but rises from μ_out to μ_in."""
    references = planted.reference_phi.astype(np.float64)[:, :, None]
    inside = fit_gaussians(references, planted.keep, "per_row")
    outside = fit_gaussians(references, ~planted.keep, "per_row")
    raised = np.flatnonzero(inside.mean[:, 0] > outside.mean[:, 0] + 0.5)[:20]
    assert raised.size == 20
    for row in raised:
        scores = []
        for phi in np.linspace(outside.mean[row, 0], inside.mean[row, 0], 25):
            target = planted.target_phi.copy()
            target[row] = phi
            scores.append(lira_online(target, planted.reference_phi, planted.keep, "per_row")[row])
        assert (np.diff(scores) > 0).all()


def test_global_variance_pools_within_row_spread_not_between_row_spread() -> None:
    references, keep = _equal_spread_references(n_rows=50)  # row means spread over 0..52
    gaussians = fit_gaussians(references[:, :, None], ~keep, "global")
    within = np.std([-0.6, -0.2, 0.2, 0.6], ddof=1)
    np.testing.assert_allclose(gaussians.std, within)


def test_flip_queries_average_the_per_query_log_likelihoods(planted: Planted) -> None:
    shifted = planted.reference_phi + 0.5
    two_query_refs = np.stack([planted.reference_phi, shifted], axis=-1)
    two_query_target = np.stack([planted.target_phi, planted.target_phi + 0.5], axis=-1)
    for attack in (lira_online, lira_offline):
        combined = attack(two_query_target, two_query_refs, planted.keep, "per_row")
        first = attack(planted.target_phi, planted.reference_phi, planted.keep, "per_row")
        second = attack(planted.target_phi + 0.5, shifted, planted.keep, "per_row")
        np.testing.assert_allclose(combined, (first + second) / 2)


def test_per_row_variance_needs_two_references_per_group() -> None:
    keep = keep_matrix(10, 2, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        lira_online(np.zeros(10), np.zeros((2, 10)), keep, "per_row")


def test_lira_refuses_mismatched_shapes() -> None:
    keep = keep_matrix(10, 4, seed=0)
    with pytest.raises(ValueError, match="expected references"):
        lira_online(np.zeros(9), np.zeros((4, 10)), keep)
    with pytest.raises(ValueError, match="keep"):
        lira_online(np.zeros(10), np.zeros((4, 10)), keep.astype(int))


def test_natural_decisions() -> None:
    np.testing.assert_array_equal(online_decision(np.array([-1.0, 0.0, 2.0])), [False, False, True])
    # Offline at level 0.5: member iff Φ > 1/2, i.e. φ above the OUT mean.
    np.testing.assert_array_equal(offline_decision(np.log([0.4, 0.5, 0.6])), [False, False, True])
    np.testing.assert_array_equal(rmia_decision(np.array([0.2, 0.5, 0.9])), [False, False, True])


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_rmia_score_rises_with_the_target_probability(planted: Planted, mode: str) -> None:
    rows = np.arange(planted.member.size)
    population, scored = rows[:300], rows[300:310]
    grid = np.linspace(-12.0, -1e-6, 60)
    for position, row in enumerate(scored):
        scores = []
        for log_p in grid:
            target = planted.target_log_p.copy()
            target[row] = log_p
            scores.append(
                rmia_scores(
                    target, planted.reference_log_p, planted.keep, scored, population, mode
                )[position]
            )
        assert (np.diff(scores) >= 0).all()
        assert scores[-1] > scores[0]


def test_rmia_score_is_the_fraction_of_population_rows_beaten() -> None:
    # Two references, one IN and one OUT per row; online Pr(x) is their mean.
    reference_p = np.array([[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]])
    keep = np.array([[True, False, True, False], [False, True, False, True]])
    target_p = np.array([0.9, 0.1, 0.5, 0.7])
    # ratios p/Pr = 1.8, 0.2, 1.0, 1.4; x = rows 0 and 3, z = rows 1 and 2.
    scores = rmia_scores(
        np.log(target_p), np.log(reference_p), keep, np.array([0, 3]), np.array([1, 2]), "online"
    )
    np.testing.assert_allclose(scores, [1.0, 1.0])
    strict = rmia_scores(
        np.log(target_p), np.log(reference_p), keep, np.array([0, 3]), np.array([1, 2]),
        "online", gamma=1.5,
    )  # fmt: skip
    # 1.8 / 1.0 >= 1.5 but 1.4 / 1.0 < 1.5; both beat 0.2 by far.
    np.testing.assert_allclose(strict, [1.0, 0.5])


def test_rmia_offline_marginal_follows_the_linear_correction() -> None:
    reference_p = np.array([[0.2, 0.9], [0.6, 0.3], [0.4, 0.5], [0.8, 0.7]])
    keep = np.array([[True, False], [False, True], [False, True], [True, False]])
    a = 0.4
    expected_out = np.array([(0.6 + 0.4) / 2, (0.9 + 0.7) / 2])
    expected = 0.5 * ((1 + a) * expected_out + (1 - a))
    np.testing.assert_allclose(
        np.exp(log_marginal(np.log(reference_p), keep, "offline", a)), expected
    )
    np.testing.assert_allclose(
        np.exp(log_marginal(np.log(reference_p), keep, "online", a)), reference_p.mean(axis=0)
    )


def test_rmia_population_rows_are_never_scored(planted: Planted) -> None:
    with pytest.raises(ValueError, match="never be rows being scored"):
        rmia_scores(
            planted.target_log_p, planted.reference_log_p, planted.keep,
            np.arange(0, 20), np.arange(10, 30),
        )  # fmt: skip


def test_tuned_a_is_the_best_auc_value_of_the_grid(planted: Planted) -> None:
    rows = np.arange(planted.member.size)
    a = tune_offline_a(
        planted.reference_log_p, planted.keep, rows[500:1500], rows[:500], grid=(0.0, 0.5, 1.0)
    )
    assert a in (0.0, 0.5, 1.0)
    with pytest.raises(ValueError, match=">= 4"):
        tune_offline_a(planted.reference_log_p[:2], planted.keep[:2], rows[500:], rows[:500])


def _references_tuning_a(
    planted: Planted, monkeypatch: pytest.MonkeyPatch, pseudo_target: int
) -> tuple[np.ndarray, np.ndarray]:
    """The reference log p and keep matrix that ``tune_offline_a`` handed to ``rmia_scores``."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    original = rmia.rmia_scores

    def spy(target_log_p, reference_log_p, keep, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((reference_log_p, keep))
        return original(target_log_p, reference_log_p, keep, *args, **kwargs)

    rows = np.arange(planted.member.size)
    monkeypatch.setattr("lottery_mia.rmia.rmia_scores", spy)
    tune_offline_a(
        planted.reference_log_p[:4], planted.keep[:4], rows[500:1500], rows[:500],
        pseudo_target=pseudo_target, grid=(0.0, 1.0),
    )  # fmt: skip
    monkeypatch.undo()
    return seen[0]


@pytest.mark.parametrize("pseudo_target", [0, 1, 3])
def test_tuning_a_leaves_out_the_pseudo_targets_complement(
    planted: Planted, monkeypatch: pytest.MonkeyPatch, pseudo_target: int
) -> None:
    """At K = 4 the complement (trained on exactly the pseudo-target's OUT half) would add an OUT
    model to every IN row and none to an OUT row: the OUT count would give the label away."""
    references, keep = _references_tuning_a(planted, monkeypatch, pseudo_target)
    complement = pseudo_target ^ 1
    used = [k for k in range(4) if any(np.array_equal(planted.keep[k], row) for row in keep)]
    assert used == [k for k in range(4) if k not in (pseudo_target, complement)]
    np.testing.assert_array_equal(references, planted.reference_log_p[used])
    out_count = (~keep).sum(axis=0)
    truth = planted.keep[pseudo_target]
    assert set(out_count[truth]) == set(out_count[~truth]) == {1}


def test_tuned_a_does_not_read_the_complements_outputs(planted: Planted) -> None:
    rows = np.arange(planted.member.size)
    altered = planted.reference_log_p[:4].copy()
    altered[1] = np.random.default_rng(2).uniform(-30.0, 0.0, altered.shape[1])
    tuned = [
        tune_offline_a(log_p, planted.keep[:4], rows[500:1500], rows[:500])
        for log_p in (planted.reference_log_p[:4], altered)
    ]
    assert tuned[0] == tuned[1]


@pytest.mark.slow
def test_lira_online_beats_the_loss_attack_on_really_trained_overfit_models() -> None:
    """Small MLPs that memorise noisy labels: 1 target and 8 references, trained for real."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    n_rows, n_classes = 600, 4
    centers = rng.normal(0.0, 1.0, (n_classes, 10))
    labels = rng.integers(0, n_classes, n_rows)
    features = centers[labels] + rng.normal(0.0, 1.0, (n_rows, 10))
    noisy = rng.random(n_rows) < 0.2  # a fifth of the labels are random: memorised, not learnt
    labels = np.where(noisy, rng.integers(0, n_classes, n_rows), labels)
    member = np.arange(n_rows) < n_rows // 2
    keep = keep_matrix(n_rows, 8, seed=1)

    def log_probabilities(trained_on: np.ndarray, seed: int) -> np.ndarray:
        model = MLPClassifier(
            (128,), alpha=0.0, max_iter=400, learning_rate_init=0.01, random_state=seed
        )
        model.fit(features[trained_on], labels[trained_on])
        return np.log(np.clip(model.predict_proba(features), 1e-300, None))  # logits up to a shift

    target = log_probabilities(member, seed=100)
    references = [log_probabilities(column, seed=k) for k, column in enumerate(keep)]
    phi = np.stack([logit_scaled_confidence(logits, labels) for logits in references])
    lira = lira_online(logit_scaled_confidence(target, labels), phi, keep)
    loss_score = membership_signal(target, labels, "loss")
    lira_tpr, loss_tpr = tpr_at_fpr(member, lira, 0.01), tpr_at_fpr(member, loss_score, 0.01)
    assert lira_tpr > 0.1
    assert lira_tpr > 3 * loss_tpr
