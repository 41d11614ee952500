"""Rule summarize: every attack result in results/summary.parquet (attack_steps.summarize)."""

from lottery_mia import attack_steps
from lottery_mia.snakemake_job import run_step

run_step(snakemake, attack_steps.summarize)
