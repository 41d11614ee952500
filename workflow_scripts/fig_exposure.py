"""Rule fig_exposure: per-example exposure dense vs ticket (Figure 8) and memorisation vs exposure
(Figure 9), drawn from the exposure table."""

import pandas as pd

from lottery_mia.figures import exposure
from lottery_mia.snakemake_job import run_step

run_step(
    snakemake,
    exposure.plot_exposure_figures,
    table=pd.read_parquet(snakemake.input.table),
    agreement=pd.read_csv(snakemake.input.agreement),
)
