"""Rule summarize: every attack result in results/summary.parquet (see analysis_steps)."""

from lottery_mia import analysis_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    analysis_steps.summarize(snakemake.input, snakemake.output.summary)
