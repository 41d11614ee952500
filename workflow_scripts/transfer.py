"""Rule transfer: source model x target model attack matrix (see analysis_steps.transfer)."""

from lottery_mia import analysis_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    analysis_steps.transfer(
        model_keys=snakemake.params.models,
        outputs_paths=snakemake.input.outputs,
        attack=snakemake.wildcards.attack,
        n_samples=int(snakemake.wildcards.n),
        params=snakemake.params.settings,
        matrix_path=snakemake.output.matrix,
    )
