"""Rule fig_attack_vs_sparsity: Figure 2, attack accuracy and AUC vs sparsity at fixed n."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    figures.plot_attack_vs_sparsity(
        pd.read_parquet(snakemake.input.summary),
        snakemake.params.n_samples,
        snakemake.params.style["attack"],
        snakemake.output.png,
        snakemake.output.pdf,
        snakemake.params.style,
    )
