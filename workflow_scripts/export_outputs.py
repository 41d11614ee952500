"""Rule export_outputs: the model's logits on the attack samples (export_steps.export_outputs)."""

from lottery_mia import export_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, export_steps.export_outputs, torch_threads=True)
