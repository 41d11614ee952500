"""Rule prune: the mask of one ticket, by its method (pruning_steps.prune)."""

from lottery_mia import pruning_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, pruning_steps.prune, torch_threads=True)
