"""Every figure rule's entry script: the drawing step of the rule's figure module
(``figures.drawing``: the module whose ``RULE`` names this job's rule), with the rule's named
inputs read as tables (``.parquet``, ``.csv``) and its outputs and params as keyword arguments."""

from lottery_mia import figures
from lottery_mia.snakemake_job import read_tables, run_step

run_step(snakemake, figures.drawing(snakemake.rule), **read_tables(snakemake.input))
