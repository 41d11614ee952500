"""Rule fig_transfer: Figure 4, the transfer heatmap of one dataset."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    figures.plot_transfer_heatmap(
        pd.read_parquet(snakemake.input.matrix),
        snakemake.params.style["transfer_metric"],
        snakemake.output.png,
        snakemake.output.pdf,
        snakemake.params.style,
        dataset=snakemake.wildcards.dataset,
    )
