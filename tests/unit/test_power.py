"""The planner's power side: interval widths scaled from a pilot, and what powers equivalence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lottery_mia.power import (
    Noise,
    forecast_row,
    half_width,
    largest_eval_size,
    needed_standard_error,
    noise_of,
    powered,
)
from lottery_mia.power_pilot import Pilot, PilotError, PilotRow, check_pilot_matches, read_pilot
from lottery_mia.stats.over_seeds import SeedMean

pytestmark = pytest.mark.unit

KEY = ("mlp", "digits", "resnet18", 1200)
CONFIG = {
    "datasets": {"digits": {}},
    "grid": {"sample_counts": [400, 1200], "seeds": [0]},
    "outputs": {"max_per_pool": None},
}


def one_seed_row(half: float, rows: int = 200, eval_size: int = 200) -> PilotRow:
    return PilotRow(KEY, 1, rows, eval_size, half, (0.01,))


def test_one_seeds_half_width_shrinks_as_one_over_the_root_of_the_rows():
    noise = noise_of(one_seed_row(0.04, rows=200))
    assert half_width(noise, 400, 1) == pytest.approx(0.04 * math.sqrt(200 / 400))
    assert half_width(noise, 200, 1) == pytest.approx(0.04)


def test_the_needed_standard_error_gives_80_percent_equivalent_verdicts_at_difference_0():
    """Simulated Table 1 verdicts at SE = the bound: the 90% interval lies within the margin in
    80% of runs; at half the SE nearly always, at twice the SE almost never."""
    margin, z = 0.02, stats.norm.ppf(0.95)
    rng = np.random.default_rng(0)

    def equivalent_share(error: float) -> float:
        estimates = rng.normal(0.0, error, 200_000)
        return float(np.mean(np.abs(estimates) + z * error <= margin))

    bound = needed_standard_error(margin)
    assert bound == pytest.approx(margin / (1.6449 + 1.2816), rel=1e-3)
    assert equivalent_share(bound) == pytest.approx(0.80, abs=0.005)
    assert equivalent_share(bound / 2) > 0.99
    assert equivalent_share(2 * bound) < 0.01


def test_several_seeds_use_t_quantiles_with_satterthwaite_df():
    noise = Noise(row_variance_times_rows=0.0, seed_variance=0.0004)
    # Seeds only: df = S - 1, the t-interval of the seed mean.
    seeds = 4
    expected = stats.t.ppf(0.95, seeds - 1) * math.sqrt(0.0004 / seeds)
    assert half_width(noise, 400, seeds) == pytest.approx(expected)
    error = math.sqrt(0.0004 / seeds)
    quantiles = stats.t.ppf(0.95, seeds - 1) + stats.t.ppf(0.90, seeds - 1)
    assert powered(noise, 400, seeds, margin=error * quantiles * 1.01)
    assert not powered(noise, 400, seeds, margin=error * quantiles * 0.99)


def test_a_several_seed_pilots_row_noise_is_recovered_from_its_interval():
    differences = (0.010, -0.004, 0.002)
    seed_variance = float(np.var(differences, ddof=1))
    row_variance = 0.00008
    pilot_half = SeedMean(0.0, seed_variance / 3, row_variance, 3).interval(0.90)[1]
    row = PilotRow(KEY, 3, 200, 200, pilot_half, differences)
    noise = noise_of(row)
    assert noise.seed_variance == pytest.approx(seed_variance)
    assert noise.row_variance_times_rows == pytest.approx(row_variance * 200, rel=1e-6)
    assert half_width(noise, 200, 3) == pytest.approx(pilot_half, rel=1e-6)


def test_a_one_seed_pilot_cannot_predict_several_seeds():
    noise = noise_of(one_seed_row(0.03))
    assert half_width(noise, 400, 3) is None
    assert powered(noise, 400, 3, 0.02) is None
    forecast = forecast_row(one_seed_row(0.03), CONFIG, 0.02, eval_size=400, seeds=3)
    assert forecast.half_width is None
    assert "one seed" in forecast.note


def test_the_smallest_eval_size_is_the_first_that_is_powered():
    row = one_seed_row(0.012)
    forecast = forecast_row(row, CONFIG, margin=0.02, eval_size=400, seeds=1)
    noise = noise_of(row)
    smallest = forecast.min_eval_size
    assert smallest is not None and smallest % 2 == 0
    assert powered(noise, smallest, 1, 0.02)
    assert not powered(noise, smallest - 2, 1, 0.02)
    assert forecast.powered is (smallest <= 400)


def test_the_pool_bounds_the_eval_size_and_the_plan_says_when_it_is_too_small():
    # digits: 898 members per pool, largest sample count 1200: eval_size <= 2 * 898 - 1200.
    assert largest_eval_size(CONFIG, "digits") == 596
    forecast = forecast_row(one_seed_row(0.10), CONFIG, margin=0.02, eval_size=400, seeds=1)
    assert forecast.min_eval_size is None
    assert forecast.largest_eval_size == 596
    assert "pool is too small" in forecast.note


def test_lira_and_rmia_rows_do_not_scale_with_the_eval_size():
    """They score every exported row outside the largest n's training rows: 2 x 898 - 1200."""
    lira = PilotRow(("lira_online", "digits", "resnet18", 1200), 1, 596, 596, 0.04, (0.0,))
    forecast = forecast_row(lira, CONFIG, margin=0.02, eval_size=400, seeds=1)
    assert forecast.rows == 596
    assert forecast.half_width == pytest.approx(0.04)
    assert forecast.min_eval_size is None
    assert "whatever eval_size" in forecast.note
    mlp = PilotRow(("mlp", "digits", "resnet18", 1200), 1, 200, 200, 0.04, (0.0,))
    assert forecast_row(mlp, CONFIG, margin=0.02, eval_size=400, seeds=1).rows == 400


def pilot(keys, tickets=("0.8",)) -> Pilot:
    rows = tuple(PilotRow(key, 1, 200, 200, 0.03, (0.0,)) for key in keys)
    return Pilot(Path("pilot/results"), rows, frozenset(tickets))


def test_a_pilot_from_another_config_is_refused_naming_what_differs():
    planned = {("mlp", "digits", "resnet18", 1200), ("loss_threshold", "digits", "resnet18", 1200)}
    other = pilot([("mlp", "cifar10", "resnet18", 1200), ("svm", "cifar10", "resnet18", 1200)])
    with pytest.raises(PilotError) as refused:
        check_pilot_matches(other, planned, "0.8")
    message = str(refused.value)
    assert "datasets: pilot has ['cifar10'], config has ['digits']" in message
    assert "Table 1 attacks: pilot has ['mlp', 'svm'], config has ['loss_threshold', 'mlp']" in (
        message
    )
    assert "architectures" not in message
    with pytest.raises(PilotError, match=r"ticket sparsity: pilot has \['0.5'\]"):
        check_pilot_matches(pilot(planned, tickets=("0.5",)), planned, "0.8")
    check_pilot_matches(pilot(planned), planned, "0.8")  # the same config: accepted


def test_read_pilot_takes_the_half_width_rows_and_seed_differences(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    pd.DataFrame(
        {
            "attack": ["mlp"], "dataset": ["digits"], "arch": ["resnet18"], "n_samples": [1200],
            "ticket_sparsity": [0.8], "n_seeds": [2], "n_paired_rows": [200],
            "auc_difference_ci90_low": [-0.03], "auc_difference_ci90_high": [0.05],
        }
    ).to_csv(tables / "table1.csv", index=False)  # fmt: skip
    summary = pd.DataFrame(
        {
            "dataset": "digits", "arch": "resnet18", "attack": "mlp", "n_samples": 1200,
            "seed": [0, 0, 1, 1], "method": ["dense", "magnitude"] * 2,
            "sparsity": [0.0, 0.8] * 2, "auc": [0.60, 0.63, 0.62, 0.61], "n_eval": 200,
        }
    )  # fmt: skip
    summary.to_parquet(tmp_path / "summary.parquet")
    (row,) = read_pilot(tmp_path, "magnitude").rows
    assert row.half_width == pytest.approx(0.04)
    assert (row.n_seeds, row.n_rows, row.scored_rows) == (2, 200, 200)
    assert row.seed_differences == pytest.approx((0.03, -0.01))
    with pytest.raises(PilotError, match="finished run"):
        read_pilot(tmp_path / "missing", "magnitude")


def test_a_pilot_row_without_an_interval_is_said_to_be_undefined_not_too_small():
    forecast = forecast_row(one_seed_row(float("nan")), CONFIG, 0.02, eval_size=400, seeds=1)
    assert forecast.min_eval_size is None
    assert "undefined" in forecast.note and "pool" not in forecast.note
