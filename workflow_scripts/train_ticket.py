"""Rule train_ticket: rewind to w0 under the mask and retrain (training_steps.train_ticket)."""

from lottery_mia import training_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, training_steps.train_ticket, torch_threads=True)
