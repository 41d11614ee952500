"""Attack results of the tiny run: every number in a JSON comes back from its scores file."""

import json
import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from lottery_mia.attack_paths import result_files
from lottery_mia.attack_scores import metric_record, read_scores
from lottery_mia.outputs_table import read_outputs
from lottery_mia.stats.metrics import METRIC_NAMES

pytestmark = pytest.mark.workflow


def attack_results(run):
    """(JSON record, scores frame, the model's outputs) of every attack result of ``run``."""
    for record_path in sorted(run.glob("results/**/attack/n*/*.json")):
        scores_path = result_files(record_path.parent, record_path.stem).scores
        outputs = read_outputs(record_path.parent.parent.parent / "outputs.parquet")
        yield json.loads(record_path.read_text()), read_scores(scores_path), outputs


def test_recomputing_every_metric_from_the_scores_reproduces_the_json(tiny_run):
    results = list(attack_results(tiny_run))
    assert len(results) == 16  # 4 models x 4 attacks x 1 sample count
    for record, scores, _ in results:
        recomputed = metric_record(scores, record["n_bootstrap"], record["bootstrap_seed"])
        for name in METRIC_NAMES:
            for column in (name, f"{name}_ci_low", f"{name}_ci_high"):
                assert record[column] == pytest.approx(recomputed[column], nan_ok=True), column
        # And independently of our own code, the point estimates scikit-learn gives:
        member = scores["member"].to_numpy()
        assert record["auc"] == pytest.approx(roc_auc_score(member, scores["score"]))
        assert record["accuracy"] == pytest.approx(accuracy_score(member, scores["predicted"]))


def test_scores_cover_exactly_the_evaluation_rows_with_the_intervals_around_them(tiny_run):
    for record, scores, outputs in attack_results(tiny_run):
        evaluation = outputs[outputs["attack_eval"]].reset_index(drop=True)
        for column in ("sample_id", "pool", "member", "label"):
            assert np.array_equal(scores[column], evaluation[column]), column
        assert record["n_eval"] == len(scores) == 200
        assert record["min_resolvable_fpr"] == pytest.approx(1 / 100)
        # The bounds are strict (FPR < 1%): one false alarm in 100 non-members is already 1%,
        # so neither bound admits a false positive and both rates are unresolvable.
        assert math.isnan(record["tpr_at_1pct_fpr"])
        assert math.isnan(record["tpr_at_0.1pct_fpr"])
        assert record["auc_ci_low"] <= record["auc"] <= record["auc_ci_high"]
        assert record["auc_ci_high"] - record["auc_ci_low"] > 0.05  # 200 rows: never tight
