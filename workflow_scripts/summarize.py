"""Rule summarize: every attack result in results/summary.parquet (analysis_steps.summarize)."""

from lottery_mia import analysis_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, analysis_steps.summarize)
