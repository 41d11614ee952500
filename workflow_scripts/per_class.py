"""Rule per_class: attack AUC per class label, dense vs ticket (table and figure)."""

from lottery_mia import figures
from lottery_mia.figures.comparison import read_score_files
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    table = figures.per_class_table(
        read_score_files(snakemake.params.score_keys, snakemake.params.scores),
        ticket_sparsity=snakemake.params.ticket_sparsity,
        n_resamples=snakemake.params.bootstrap["resamples"],
        bootstrap_seed=snakemake.params.bootstrap["seed"],
    )
    figures.write_table(table, snakemake.output.csv, snakemake.output.md)
    figures.plot_per_class(
        table, snakemake.output.png, snakemake.output.pdf, snakemake.params.style
    )
