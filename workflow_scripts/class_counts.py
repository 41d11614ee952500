"""Rule class_counts: training rows per class, after the class profile (exposure_steps.class_counts)."""

from lottery_mia import exposure_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, exposure_steps.class_counts)
