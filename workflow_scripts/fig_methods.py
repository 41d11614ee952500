"""Rule fig_methods: attack AUC and test accuracy vs sparsity, one line per pruning method."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(snakemake, figures.plot_methods, summary=pd.read_parquet(snakemake.input.summary))
