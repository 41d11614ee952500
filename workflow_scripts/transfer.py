"""Rule transfer: source model x target model attack matrix (analysis_steps.transfer)."""

from lottery_mia import analysis_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, analysis_steps.transfer)
