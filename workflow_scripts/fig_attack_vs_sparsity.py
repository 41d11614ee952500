"""Rule fig_attack_vs_sparsity: Figure 2, attack accuracy and AUC vs sparsity at fixed n."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(
    snakemake,
    figures.with_method(figures.plot_attack_vs_sparsity),
    summary=pd.read_parquet(snakemake.input.summary),
)
