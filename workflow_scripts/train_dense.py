"""Rule train_dense: train the dense network from w0 (training_steps.train_dense)."""

from lottery_mia import training_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, training_steps.train_dense, torch_threads=True)
