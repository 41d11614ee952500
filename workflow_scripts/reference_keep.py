"""Rule reference_keep: which rows each reference model trains on (analysis_steps.write_reference_keep)."""

from lottery_mia import analysis_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, analysis_steps.write_reference_keep)
