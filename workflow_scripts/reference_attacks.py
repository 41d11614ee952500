"""Rule reference_attacks: LiRA, RMIA and shadow_mlp on one target (attack_steps.run_reference_attacks)."""

from lottery_mia import attack_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, attack_steps.run_reference_attacks)
