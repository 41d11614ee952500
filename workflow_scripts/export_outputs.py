"""Rule export_outputs: the model's outputs on the attack samples (see training_steps)."""

import torch

from lottery_mia import training_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    training_steps.export_outputs(
        key=snakemake.params.key,
        params=snakemake.params.settings,
        model_path=snakemake.input.model,
        record_path=snakemake.input.record,
        outputs_path=snakemake.output.outputs,
    )
