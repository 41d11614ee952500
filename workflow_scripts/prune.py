"""Rule prune: one-shot global magnitude mask of the dense weights (see training_steps.prune)."""

import torch

from lottery_mia import training_steps
from lottery_mia.logs import log_to_file

with log_to_file(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    training_steps.prune(
        sparsity=snakemake.params.sparsity,
        exclude=snakemake.params.pruning["exclude"],
        dense_model_path=snakemake.input.dense_model,
        dense_record_path=snakemake.input.dense_record,
        mask_path=snakemake.output.mask,
    )
