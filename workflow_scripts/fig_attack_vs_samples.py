"""Rule fig_attack_vs_samples: Figure 3, attack metrics vs sample count at fixed sparsity."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    figures.plot_attack_vs_samples(
        pd.read_parquet(snakemake.input.summary),
        snakemake.params.style["sparsity"],
        snakemake.params.style["attack"],
        snakemake.output.png,
        snakemake.output.pdf,
        snakemake.params.style,
    )
