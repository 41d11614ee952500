"""Rule train_ticket: rewind to w0 under the mask and retrain (see training_steps.train_ticket)."""

import torch

from lottery_mia import training_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    training_steps.train_ticket(
        key=snakemake.params.key,
        params=snakemake.params.settings,
        init_path=snakemake.input.init,
        mask_path=snakemake.input.mask,
        dense_record_path=snakemake.input.dense_record,
        model_path=snakemake.output.model,
        record_path=snakemake.output.record,
        checkpoint_path=snakemake.params.checkpoint,
    )
