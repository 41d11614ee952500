"""Stage 4, the export: a trained model's outputs on the fixed attack rows, with plain arguments
instead of ``snakemake``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lottery_mia.atomic import PathLike
from lottery_mia.config import queries_flipped
from lottery_mia.data import load_dataset, with_defaults
from lottery_mia.job_inputs import load_trained
from lottery_mia.reference_keep import reference_population
from lottery_mia.selection import select_samples
from lottery_mia.training import TrainSettings, prepare_model, resolve_device

log = logging.getLogger(__name__)


def export_outputs(
    key: Mapping[str, Any],
    settings: Mapping[str, Any],
    model_path: PathLike,
    record_path: PathLike,
    outputs_path: PathLike,
) -> None:
    """Stage 4: the model's logits, loss and correctness on the fixed attack samples, in eval mode."""
    # Imported here: it writes Parquet (pandas, pyarrow), which no other step of this module needs.
    from lottery_mia import outputs

    dataset = load_dataset(key["dataset"], settings["data"])
    model = load_trained(model_path, record_path)
    train_settings = TrainSettings.from_config(settings["training"])
    device = resolve_device(train_settings.device)
    prepare_model(model, device, train_settings.uses_channels_last(device))
    selection = select_samples(
        len(dataset.train),
        len(dataset.test),
        eval_size=settings["eval_size"],
        max_per_pool=settings["outputs"]["max_per_pool"],
        seed=settings["outputs"]["selection_seed"],
    )
    member = None
    if "reference" in settings:  # a reference's members are its keep-half, not the train pool
        *_, member = reference_population(
            settings["reference"], len(dataset.train), len(dataset.test)
        )
    augmentation = with_defaults(key["dataset"], settings["data"])["augmentation"]
    flip = queries_flipped(settings["outputs"]["query_flips"], augmentation)
    log.info(
        "exporting %d train-pool and %d test-pool rows%s",
        selection.per_pool,
        selection.per_pool,
        " with their mirror images" if flip else "",
    )
    outputs.export_outputs(
        model, dataset, selection, train_settings, device, outputs_path, member=member, flip=flip
    )
