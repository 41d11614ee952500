"""Rule run_attack: one attack model on one model's outputs (see analysis_steps.run_attack)."""

from lottery_mia import analysis_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    analysis_steps.run_attack(
        key=snakemake.params.key,
        params=snakemake.params.settings,
        outputs_path=snakemake.input.outputs,
        record_path=snakemake.input.record,
        result_path=snakemake.output.result,
    )
