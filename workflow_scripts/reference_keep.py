"""Rule reference_keep: which rows each reference model trains on (attack_steps.write_reference_keep)."""

from lottery_mia import attack_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, attack_steps.write_reference_keep)
