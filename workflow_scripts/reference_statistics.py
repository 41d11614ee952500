"""Rule reference_statistics: LiRA's and RMIA's statistics of one target and its references
(attack_steps.reference_statistics)."""

from lottery_mia import attack_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, attack_steps.reference_statistics)
