"""Rule fig_attack_vs_samples: Figure 3, attack metrics vs sample count at fixed sparsity."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(
    snakemake,
    figures.with_method(figures.plot_attack_vs_samples),
    summary=pd.read_parquet(snakemake.input.summary),
)
