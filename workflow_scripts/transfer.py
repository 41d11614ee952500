"""Rule transfer: source model x target model attack matrix (attack_steps.transfer)."""

from lottery_mia import attack_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, attack_steps.transfer)
