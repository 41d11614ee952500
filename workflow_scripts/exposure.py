"""Rule exposure: the per-example exposure table, dense-vs-ticket agreement, and their summary
(exposure_steps.exposure)."""

from lottery_mia import exposure_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, exposure_steps.exposure)
