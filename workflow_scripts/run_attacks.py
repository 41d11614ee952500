"""Rule run_attacks: every attack of the grid on one model's outputs (attack_steps.run_attacks)."""

from lottery_mia import attack_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, attack_steps.run_attacks)
