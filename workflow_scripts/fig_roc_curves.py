"""Rule fig_roc_curves: Figure 5, log-log ROC curves of dense models and tickets."""

from lottery_mia import figures
from lottery_mia.attack_scores import read_score_files
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    figures.plot_roc_curves(
        read_score_files(snakemake.params.score_keys, snakemake.params.scores),
        snakemake.params.attacks,
        snakemake.output.png,
        snakemake.output.pdf,
        snakemake.params.style,
    )
