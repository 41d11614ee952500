"""Rule fig_transfer: Figure 4, the transfer heatmap of one dataset (from the transfer cells)."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(snakemake, figures.plot_transfer_heatmap, cells=pd.read_parquet(snakemake.input.cells))
