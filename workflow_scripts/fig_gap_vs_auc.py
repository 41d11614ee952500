"""Rule fig_gap_vs_auc: Figure 6, generalisation gap vs attack AUC of every model."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(
    snakemake,
    figures.with_method(figures.plot_gap_vs_auc),
    summary=pd.read_parquet(snakemake.input.summary),
)
