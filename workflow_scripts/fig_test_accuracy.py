"""Rule fig_test_accuracy: Figure 1, test accuracy vs sparsity."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    figures.plot_test_accuracy(
        pd.read_parquet(snakemake.input.summary),
        snakemake.output.png,
        snakemake.output.pdf,
        snakemake.params.style,
    )
