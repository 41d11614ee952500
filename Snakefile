# Membership-inference attacks on lottery-ticket networks.
# `snakemake --cores all` runs the grid of config.yaml; `--configfile configs/<name>.yaml` another one.
from snakemake.utils import min_version

min_version("9.0")


# config.yaml is the default experiment. `--configfile other.yaml` replaces it rather than being
# merged into it, so another grid never inherits the demo's datasets.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/resources.smk"
include: "rules/train.smk"
include: "rules/prune.smk"
include: "rules/outputs.smk"
include: "rules/attack.smk"
include: "rules/transfer.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
