# Membership-inference attacks on lottery-ticket networks.
# `snakemake --cores all` runs the grid of config.yaml; `--configfile configs/<name>.yaml` another one.
from pathlib import Path

import yaml
from snakemake.utils import min_version, update_config

min_version("9.0")


# config.yaml is the default experiment. A config that names its `datasets` (`--configfile
# configs/paper.yaml`) is a whole experiment and replaces it, so another grid never inherits the
# demo's datasets; without `datasets` (`--config figures='{palette: deep}'`) it overrides keys of
# config.yaml. Done on the `config` dict, not with the `configfile:` directive, which would merge
# config.yaml into every --configfile. (`--replace-workflow-config` does not help: profiles are not
# applied inside cluster jobs, which would then see the merged config.) config.yaml is read from
# the working directory, as Snakemake reads `configfile:`, else from beside this file (a run
# elsewhere with `--directory`).
if "datasets" not in config:
    _local = Path("config.yaml")
    _defaults_path = (
        _local if _local.exists() else Path(workflow.basedir) / "config.yaml"
    )
    _defaults = yaml.safe_load(_defaults_path.read_text())
    update_config(_defaults, config)  # the command line's keys win
    config.clear()
    config.update(_defaults)


# `snakemake --report results/report.html` (`make report`): every figure and table, captioned.
report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/resources.smk"
include: "rules/train.smk"
include: "rules/prune.smk"
include: "rules/outputs.smk"
include: "rules/attack.smk"
include: "rules/references.smk"
include: "rules/transfer.smk"
include: "rules/exposure_inputs.smk"
include: "rules/figure_files.smk"
include: "rules/exposure.smk"
include: "rules/figures.smk"


# The summary, transfer matrices and tables (grid.final_targets), and every figure its rule adds
# through figure_output (rules/figure_files.smk).
rule all:
    default_target: True
    input:
        final_targets(),
        FIGURE_TARGETS,
