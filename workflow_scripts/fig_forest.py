"""Rule fig_forest: Table 1's ticket - dense AUC difference of every attack, as a forest plot."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.snakemake_job import run_step

run_step(snakemake, figures.plot_forest, table=pd.read_csv(snakemake.input.table))
