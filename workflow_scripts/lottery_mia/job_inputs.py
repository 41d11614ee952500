"""What the model jobs read: their data and the model spec it implies, a trained model, a mask.

Shared by the stages (``training_steps``, ``pruning_steps``, ``export_steps``) and the pruning
methods (``prune``), so no stage reaches into another's private helpers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from torch import nn

from lottery_mia.atomic import PathLike, read_json
from lottery_mia.data import Dataset, DatasetInfo, load_dataset
from lottery_mia.data.reference_pool import reference_dataset
from lottery_mia.models import ModelSpec, build_model, load_state_dict, load_weights
from lottery_mia.pruning import Mask, validate_mask
from lottery_mia.reference_keep import reference_population

log = logging.getLogger(__name__)


def model_spec(arch: str, info: DatasetInfo, model_settings: Mapping[str, Any]) -> ModelSpec:
    """The model of ``arch`` for a dataset of ``info`` (classes, channels, image size)."""
    return ModelSpec(
        arch=arch,
        num_classes=info.num_classes,
        in_channels=info.in_channels,
        image_size=info.image_size,
        width=model_settings["width"],
        zero_init_residual=model_settings["zero_init_residual"],
    )


def dataset_and_spec(
    key: Mapping[str, Any], settings: Mapping[str, Any]
) -> tuple[Dataset, ModelSpec]:
    """The job's data and the model spec it implies (classes, channels, image size, width).

    A reference model (``settings["reference"]``) trains on its keep-half of the exported rows
    plus the unexported train-pool rows (``data.reference_pool``); its "test" pool is its OUT half.
    """
    dataset = load_dataset(key["dataset"], settings["data"])
    spec = model_spec(key["arch"], dataset.info, settings["model"])
    reference = settings.get("reference")
    if reference is None:
        return dataset, spec
    train_ids, test_ids, keep = reference_population(
        reference, len(dataset.train), len(dataset.test)
    )
    log.info(
        "reference %d trains on %d of %d exported rows plus %d unexported train-pool rows",
        reference["index"], int(keep.sum()), keep.size, len(dataset.train) - len(train_ids),
    )  # fmt: skip
    return reference_dataset(dataset, train_ids, test_ids, keep), spec


def spec_from_record(record_path: PathLike) -> ModelSpec:
    """The model spec a training record (``train.json``) was trained with."""
    record = read_json(record_path)
    try:
        return ModelSpec(**record["model_spec"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{record_path}: no valid 'model_spec' entry ({err})") from err


def load_trained(model_path: PathLike, record_path: PathLike) -> nn.Module:
    """A trained model: the spec of its record, the weights of ``model_path``."""
    model = build_model(spec_from_record(record_path))
    load_weights(model, model_path)
    return model


def load_mask(path: PathLike, model: nn.Module) -> Mask:
    """A mask file, checked against ``model`` (names, shapes, bool dtype)."""
    return validate_mask(model, load_state_dict(path), str(path))
