"""Rule table1: Table 1, dense baseline vs lottery ticket with the tested difference, per attack."""

import logging

import pandas as pd

from lottery_mia import figures, tables
from lottery_mia.attack_scores import read_score_files
from lottery_mia.logs import log_to_file
from lottery_mia.tables import verdict_sentence

with log_to_file(snakemake.log[0]):
    table = tables.table1(
        figures.rows_of_method(pd.read_parquet(snakemake.input.summary), snakemake.params.method),
        attacks=snakemake.params.attacks,
        ticket_sparsity=snakemake.params.ticket_sparsity,
        scores=read_score_files(snakemake.params.score_keys, snakemake.params.scores),
        margin=snakemake.params.margin,
        n_resamples=snakemake.params.bootstrap["resamples"],
        bootstrap_seed=snakemake.params.bootstrap["seed"],
    )
    tables.write_table1(table, snakemake.output.csv, snakemake.output.md)
    for row in table.to_dict("records"):
        logging.getLogger("table1").info(verdict_sentence(row))
