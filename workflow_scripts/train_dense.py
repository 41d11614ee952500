"""Rule train_dense: initialise w0, train the dense network (see training_steps.train_dense)."""

import torch

from lottery_mia import training_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    training_steps.train_dense(
        key=snakemake.params.key,
        params=snakemake.params.settings,
        init_path=snakemake.output.init,
        model_path=snakemake.output.model,
        record_path=snakemake.output.record,
        checkpoint_path=snakemake.params.checkpoint,
    )
