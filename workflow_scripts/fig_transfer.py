"""Rule fig_transfer: Figure 4, the transfer heatmap of one dataset."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(snakemake, figures.plot_transfer_heatmap, matrix=pd.read_parquet(snakemake.input.matrix))
