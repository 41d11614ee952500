"""Rule run_attacks: every attack of the grid on one model's outputs for one sample count."""

from lottery_mia import analysis_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    analysis_steps.run_attacks(
        key=snakemake.params.key,
        params=snakemake.params.settings,
        outputs_path=snakemake.input.outputs,
        record_path=snakemake.input.record,
        result_paths=dict(zip(snakemake.params.attacks, snakemake.output.results, strict=True)),
    )
