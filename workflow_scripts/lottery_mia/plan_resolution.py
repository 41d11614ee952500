"""What a config's evaluation rows can resolve, before anything runs.

Every table and figure reports NaN where the rows cannot resolve a number: TPR at an FPR bound
that admits no false positive (``stats.metrics.resolves_fpr``), a class with fewer than
``MIN_CLASS_ROWS`` evaluated members or non-members (``stats.resampling.per_class_auc``), a top set
under ``exposure.MIN_TOP_K`` members (``exposure.compare_agreement``). A researcher should learn that from
``make plan``, not from a finished run's NaN columns. Per dataset and kind of scoring:

- the fixed evaluation rows (``attack.eval_size``, half members): the learned and threshold
  attacks, and the rows Figures 2-4, Table 1, the per-class figure and Figure 8 read;
- LiRA and RMIA, which score every exported row no attack trains on (``plan_disk.scored_rows``).

Classes are taken as balanced: a class's evaluated members are Binomial(members, 1 / classes), as
are its non-members, and the share of classes with an AUC is the chance that both reach
``MIN_CLASS_ROWS``. A long-tailed profile (``class_profile: long_tail``) leaves its rare classes
below that share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scipy.stats import binom

from lottery_mia.attack.registry import SCORE_REFERENCE_ATTACKS
from lottery_mia.exposure import resolves_top_k, top_count
from lottery_mia.plan_disk import scored_rows
from lottery_mia.resources import DATASETS
from lottery_mia.stats.metrics import FPR_BOUNDS, resolves_fpr
from lottery_mia.stats.resampling import MIN_CLASS_ROWS

FIXED_ROWS = "fixed evaluation rows"
REFERENCE_ROWS = "LiRA, RMIA: every row no attack trains on"


@dataclass(frozen=True)
class Resolution:
    """What one model's scored rows of one dataset resolve."""

    dataset: str
    scoring: str
    classes: int
    members: int
    non_members: int
    tpr_resolved: dict[str, bool]
    members_per_class: float
    share_of_classes_with_auc: float
    top_k: int

    @property
    def jaccard_resolved(self) -> bool:
        return resolves_top_k(self.top_k)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "jaccard_resolved": self.jaccard_resolved}


def share_of_classes_with_auc(members: int, non_members: int, classes: int) -> float:
    """Chance that a class of a balanced dataset has ``MIN_CLASS_ROWS`` evaluated members and as
    many non-members, each drawn Binomial(rows, 1 / classes)."""
    both = [binom.sf(MIN_CLASS_ROWS - 1, rows, 1.0 / classes) for rows in (members, non_members)]
    return float(both[0] * both[1])


def resolution(dataset: str, scoring: str, rows: int, top_fraction: float) -> Resolution:
    """``rows`` scored rows of ``dataset`` (half members), read as the tables read them."""
    classes = DATASETS[dataset].classes
    members = rows // 2
    non_members = rows - members
    return Resolution(
        dataset=dataset,
        scoring=scoring,
        classes=classes,
        members=members,
        non_members=non_members,
        tpr_resolved={name: resolves_fpr(bound, non_members) for name, bound in FPR_BOUNDS.items()},
        members_per_class=members / classes,
        share_of_classes_with_auc=share_of_classes_with_auc(members, non_members, classes),
        top_k=top_count(members, top_fraction),
    )


def resolutions(config: Mapping[str, Any]) -> list[Resolution]:
    """Per dataset: the fixed evaluation rows, and LiRA's and RMIA's rows when the grid runs them."""
    eval_size = config["attack"]["eval_size"]
    top_fraction = config["figures"]["exposure_top_fraction"]
    reference = [a for a in config["grid"]["attacks"] if a in SCORE_REFERENCE_ATTACKS]
    found = []
    for dataset in config["datasets"]:
        found.append(resolution(dataset, FIXED_ROWS, eval_size, top_fraction))
        if reference:
            rows = scored_rows(config, dataset, reference[0], eval_size)
            found.append(resolution(dataset, REFERENCE_ROWS, rows, top_fraction))
    return found
