"""Where attack results lie: one folder per attack job, two files per attack in it.

``run_attacks`` writes every attack that needs no reference model, on one model at one sample
count n, to ``{model}/attack/n{n}/``; ``reference_attacks`` writes LiRA, RMIA and shadow_mlp to
``{model}/reference_attack/n{n}/``. In the folder, ``{attack}.scores.parquet`` holds the score of
every evaluation row and ``{attack}.json`` the metrics computed from it (``attack_scores``).

Plain strings and nothing imported: the Snakefile builds every path of the grid with these.
"""

from __future__ import annotations

from typing import NamedTuple

ATTACK_FOLDER = "attack"
REFERENCE_ATTACK_FOLDER = "reference_attack"


class AttackFiles(NamedTuple):
    scores: str
    record: str


def attack_folder(model_dir: object, n_samples: int | str, reference: bool) -> str:
    """The folder of the job that runs a model's attacks at n (``reference``: the attacks that
    read reference models, in their own job)."""
    folder = REFERENCE_ATTACK_FOLDER if reference else ATTACK_FOLDER
    return f"{model_dir}/{folder}/n{n_samples}"


def result_files(folder: object, attack: str) -> AttackFiles:
    """Where ``attack``'s scores and metrics lie in its job's folder."""
    return AttackFiles(f"{folder}/{attack}.scores.parquet", f"{folder}/{attack}.json")
