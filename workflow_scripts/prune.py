"""Rule prune: one-shot global magnitude mask of the dense weights (training_steps.prune)."""

from lottery_mia import training_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, training_steps.prune, torch_threads=True)
