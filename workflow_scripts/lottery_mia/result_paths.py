"""Where the workflow writes: the path templates of every rule (``{dataset}``, ``{arch}``,
``{run}``, ``{model}``, ... are Snakemake wildcards) and the file names of figures and tables.

Plain strings and nothing imported beyond ``attack_paths``: ``rules/common.smk`` and the grid
(``grid``) build every path with these.
"""

from __future__ import annotations

from collections.abc import Sequence

from lottery_mia.attack_paths import attack_folder

RESULTS = "results"
# {run} is seed{N} (a target) or ref{k} (reference model k, made the same way).
RUN_DIR = "results/{dataset}/{arch}/{run}"
# Any model of a run: the dense one (model = sparsity0) or a ticket (model = <method>/sparsity<p>).
MODEL_DIR = f"{RUN_DIR}/{{model}}"
ATTACK_DIR = attack_folder(MODEL_DIR, "{n}", reference=False)
REFERENCE_ATTACK_DIR = attack_folder(MODEL_DIR, "{n}", reference=True)
TICKET_DIR = f"{RUN_DIR}/{{method}}/sparsity{{sparsity}}"
DENSE_DIR = f"{RUN_DIR}/sparsity0"
INIT = f"{RUN_DIR}/init.pt"
MODEL_OUTPUTS = f"{MODEL_DIR}/outputs.parquet"
REFERENCE_KEEP = "results/{dataset}/reference_keep.parquet"
REFERENCE_STATISTICS = f"{MODEL_DIR}/reference_statistics.npz"
CLASS_COUNTS = "results/{dataset}/class_counts.parquet"
LOGS = "results/logs"
BENCHMARKS = "results/benchmarks"
FIGURES = "results/figures"
TABLES = "results/tables"


def figure_paths(name: str) -> list[str]:
    """A figure's two files: the PNG (in the report) and the PDF."""
    return [f"{FIGURES}/{name}.png", f"{FIGURES}/{name}.pdf"]


def figure_files(name: str, datasets: Sequence[str]) -> list[str]:
    """The files of figure ``name``, once per dataset where the name has ``{dataset}``."""
    names = [name.format(dataset=d) for d in datasets] if "{dataset}" in name else [name]
    return [path for each in names for path in figure_paths(each)]


def exposure_files(dataset: str) -> list[str]:
    """The tables the per-example exposure rule (rules/exposure.smk) writes for a dataset (its
    figures are the figure rule's)."""
    return [
        f"{TABLES}/exposure_{dataset}.parquet",
        f"{TABLES}/exposure_{dataset}.md",
        f"{TABLES}/exposure_agreement_{dataset}.csv",
        f"{TABLES}/exposure_memorisation_{dataset}.csv",
    ]
