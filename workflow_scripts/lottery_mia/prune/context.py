"""What a pruning method may read: ``PruneContext``, one argument for every ``mask(context)``.

The job hands over paths; a method loads only what it needs (its registry entry says which, and the
DAG wires only those files): the trained dense model, the previous IMP round's ticket, or w0 with
the job's data and seeded training batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lottery_mia.atomic import PathLike
from lottery_mia.data import Dataset
from lottery_mia.job_inputs import dataset_and_spec, load_mask, load_trained
from lottery_mia.models import ModelSpec, build_model, load_weights
from lottery_mia.pruning import Mask

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class PruneContext:
    """One prune job: the target sparsity, the method's settings, the run's key and its files."""

    sparsity: float
    settings: Mapping[str, Any]
    key: Mapping[str, Any]
    dense_model_path: PathLike | None = None
    dense_record_path: PathLike | None = None
    init_path: PathLike | None = None
    previous_model_path: PathLike | None = None
    previous_mask_path: PathLike | None = None

    @property
    def exclude(self) -> Sequence[str]:
        """``pruning.exclude``: module-name patterns that are never pruned."""
        return self.settings["exclude"]

    @property
    def seed(self) -> int:
        return self.key["seed"]

    def dense_model(self) -> nn.Module:
        """The trained dense model."""
        return load_trained(self.required("dense_model_path"), self.required("dense_record_path"))

    def previous_ticket(self) -> tuple[nn.Module, Mask]:
        """The previous IMP round's trained ticket and its mask."""
        trained = load_trained(
            self.required("previous_model_path"), self.required("dense_record_path")
        )
        return trained, load_mask(self.required("previous_mask_path"), trained)

    def initial_model(self) -> tuple[nn.Module, ModelSpec, Dataset]:
        """The run's model at w0, its spec and the job's data."""
        dataset, spec = dataset_and_spec(self.key, self.settings)
        model = build_model(spec)
        load_weights(model, self.required("init_path"))
        return model, spec, dataset

    def score_batches(self, dataset: Dataset) -> list[Batch]:
        """``score_batches`` seeded batches of the training pool (without augmentation), CPU."""
        size = self.settings["batch_size"] * self.settings["score_batches"]
        order = np.random.default_rng(self.seed).permutation(len(dataset.train))[:size]
        return list(
            dataset.train.batches(
                order, self.settings["batch_size"], torch.device("cpu"), augment=False
            )
        )

    def required(self, name: str) -> PathLike:
        path = getattr(self, name)
        if path is None:
            raise ValueError(f"this pruning method needs {name}")
        return path
