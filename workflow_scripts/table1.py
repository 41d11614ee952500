"""Rule table1: Table 1, attack accuracy and precision, baseline vs lottery ticket."""

import pandas as pd

from lottery_mia import figures
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    table = figures.table1(
        pd.read_parquet(snakemake.input.summary),
        attack=snakemake.params.attack,
        ticket_sparsity=snakemake.params.ticket_sparsity,
    )
    figures.write_table(table, snakemake.output.csv, snakemake.output.md)
