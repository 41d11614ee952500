"""Rule initialise: the run's initial weights w0 (training_steps.initialise)."""

from lottery_mia import training_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, training_steps.initialise, torch_threads=True)
