"""``make plan``'s resolution table: what the scored rows of a config can resolve before it runs,
checked against the demo's own summary and against simulated draws of evaluation rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from lottery_mia.config import SCHEMA_PATH, canonical_config, load_schema, validate_config
from lottery_mia.plan_report import resolution_lines
from lottery_mia.plan_resolution import (
    FIXED_ROWS,
    REFERENCE_ROWS,
    resolution,
    resolutions,
    share_of_classes_with_auc,
)
from lottery_mia.stats.resampling import MIN_CLASS_ROWS

pytestmark = pytest.mark.unit


def gated(path) -> dict:
    schema = load_schema(SCHEMA_PATH)
    return canonical_config(validate_config(yaml.safe_load(path.read_text()), schema), schema)


def test_the_demo_plan_matches_what_the_demo_measured():
    """The planned rows per model are the n_eval the demo's summary records (400 fixed, 596 for
    LiRA and RMIA), and what the plan calls NaN is NaN there."""
    fixed, reference = resolutions(gated(REPO / "config.yaml"))
    assert (fixed.scoring, reference.scoring) == (FIXED_ROWS, REFERENCE_ROWS)
    summary = pd.read_csv(REPO / "docs" / "demo" / "summary.csv")
    n_eval = summary.groupby("attack")["n_eval"].first()
    assert fixed.members + fixed.non_members == n_eval["mlp"] == 400
    assert reference.members + reference.non_members == n_eval["lira_online"] == 596
    assert fixed.tpr_resolved == {"tpr_at_1pct_fpr": True, "tpr_at_0.1pct_fpr": False}
    assert summary["tpr_at_0.1pct_fpr"].isna().all()
    assert summary["tpr_at_1pct_fpr"].notna().all()
    # The demo compares the top 5% of members: 10 of 200, 15 of LiRA's 298 (its exposure table).
    assert (fixed.top_k, reference.top_k) == (10, 15)
    assert fixed.jaccard_resolved and reference.jaccard_resolved


def test_the_paper_configs_cannot_resolve_tpr_at_a_tenth_of_a_percent_or_imagenets_classes():
    for name in ("paper.yaml", "paper_budget.yaml"):
        rows = {(r.dataset, r.scoring): r for r in resolutions(gated(REPO / "configs" / name))}
        assert all(not r.tpr_resolved["tpr_at_0.1pct_fpr"] for r in rows.values())
        assert all(r.non_members == 1000 for r in rows.values())  # 1 / 0.001 needs more
        imagenet = [r for (dataset, _), r in rows.items() if dataset.startswith("imagenet")]
        assert imagenet and all(r.share_of_classes_with_auc < 1e-6 for r in imagenet)


@pytest.mark.parametrize(("rows", "classes"), [(2000, 100), (400, 10), (4000, 300)])
def test_the_share_of_classes_with_an_auc_matches_simulated_draws(rows, classes):
    """Members and non-members drawn uniformly over balanced classes, as the evaluation rows are:
    the expected share of classes with MIN_CLASS_ROWS of each is the binomial tail's product."""
    rng = np.random.default_rng(0)
    members = rng.multinomial(rows // 2, np.full(classes, 1 / classes), size=2000)
    non_members = rng.multinomial(rows // 2, np.full(classes, 1 / classes), size=2000)
    simulated = ((members >= MIN_CLASS_ROWS) & (non_members >= MIN_CLASS_ROWS)).mean()
    expected = share_of_classes_with_auc(rows // 2, rows // 2, classes)
    assert expected == pytest.approx(simulated, abs=0.01)


def test_the_printed_table_marks_what_is_not_resolved():
    (row,) = rows = [resolution("cifar100", FIXED_ROWS, 2000, 0.001)]
    assert row.top_k == 1 and not row.jaccard_resolved
    header, line = resolution_lines(rows)[1:3]
    assert [cell.strip() for cell in header.split("  ") if cell.strip()][4:6] == [
        "TPR at 1% FPR",
        "TPR at 0.1% FPR",
    ]
    # 1,000 non-members: TPR at 1% yes, at 0.1% NaN; 29% of 100 classes with an AUC; top 1: NaN.
    assert line.split()[-7:] == ["yes", "NaN", "100", "10.0", "29%", "1", "NaN"]
