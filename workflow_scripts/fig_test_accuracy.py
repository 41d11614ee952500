"""Rule fig_test_accuracy: Figure 1, test accuracy vs sparsity."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(
    snakemake,
    figures.with_method(figures.plot_test_accuracy),
    summary=pd.read_parquet(snakemake.input.summary),
)
