"""Rule per_class: attack AUC per class label, dense vs ticket (table and figure)."""

import pandas as pd

from lottery_mia import figures, tables
from lottery_mia.attack_scores import read_score_files
from lottery_mia.logs import log_to_file
from lottery_mia.per_class_table import per_class_table

with log_to_file(snakemake.log[0]):
    class_counts = {
        dataset: pd.read_parquet(path).set_index("label")["class_frequency"].to_dict()
        for dataset, path in zip(
            snakemake.params.count_datasets, snakemake.input.counts, strict=True
        )
    }
    table = per_class_table(
        read_score_files(snakemake.params.score_keys, snakemake.params.scores),
        ticket_sparsity=snakemake.params.ticket_sparsity,
        n_resamples=snakemake.params.bootstrap["resamples"],
        bootstrap_seed=snakemake.params.bootstrap["seed"],
        class_counts=class_counts,
    )
    tables.write_table(table, snakemake.output.csv, snakemake.output.md)
    figures.plot_per_class(
        table, snakemake.output.png, snakemake.output.pdf, snakemake.params.style
    )
    figures.plot_per_class_frequency(
        table,
        snakemake.output.frequency_png,
        snakemake.output.frequency_pdf,
        snakemake.params.style,
    )
