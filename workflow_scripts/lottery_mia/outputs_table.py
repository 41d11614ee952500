"""The ``outputs.parquet`` contract: one row per attack sample, identical rows for every model.

Columns (design.md): ``sample_id`` (index in its pool), ``pool`` (``train``/``test``), ``member``
(true = the model was trained on it), ``label``, ``logits`` (list<float32>, one per class), ``loss``,
``correct``, and ``attack_eval`` (true = one of the fixed, disjoint attack-evaluation rows).
Optional: ``logits_flipped``, the logits of the horizontally mirrored image (``outputs.query_flips``),
LiRA's second query; only the attacks that use it read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lottery_mia.atomic import PathLike

if TYPE_CHECKING:  # annotations only: the export job writes with pyarrow and needs no pandas
    import pandas as pd

OUTPUT_SCHEMA = pa.schema(
    [
        ("sample_id", pa.int64()),
        ("pool", pa.string()),
        ("member", pa.bool_()),
        ("label", pa.int64()),
        ("logits", pa.list_(pa.float32())),
        ("loss", pa.float32()),
        ("correct", pa.bool_()),
        ("attack_eval", pa.bool_()),
    ]
)

#: The mirrored image's logits: an optional column, LiRA's second query.
FLIPPED_COLUMN = "logits_flipped"


def output_schema(flipped: bool) -> pa.Schema:
    """The schema of an outputs file, with the mirrored-image logits or without."""
    if not flipped:
        return OUTPUT_SCHEMA
    return OUTPUT_SCHEMA.append(pa.field(FLIPPED_COLUMN, pa.list_(pa.float32())))


def validate_outputs(
    table: pa.Table, source: str, expected_member: np.ndarray | None = None
) -> None:
    """Raise ``ValueError`` naming ``source`` unless ``table`` follows the outputs contract.

    ``member`` must be true exactly for the train pool's rows (a target model), or, for a
    reference model, equal ``expected_member``: its keep column, the rows it trained on.
    """
    missing = [name for name in OUTPUT_SCHEMA.names if name not in table.column_names]
    if missing:
        raise ValueError(
            f"{source}: missing column(s) {missing}; expected columns {OUTPUT_SCHEMA.names}"
        )
    for field in OUTPUT_SCHEMA:
        found = table.schema.field(field.name).type
        if found != field.type:
            raise ValueError(
                f"{source}: column {field.name!r} has type {found}, expected {field.type}"
            )
    if table.num_rows == 0:
        raise ValueError(f"{source}: no rows; expected one row per attack sample")
    lengths = pc.list_value_length(table.column("logits")).to_numpy()
    if lengths.min() != lengths.max() or lengths.min() < 2:
        raise ValueError(
            f"{source}: logits lengths range from {lengths.min()} to {lengths.max()}; "
            "expected the same number of classes (>= 2) in every row"
        )
    if FLIPPED_COLUMN in table.column_names:
        _validate_flipped(table, source, lengths)
    labels = table.column("label").to_numpy()
    if labels.min() < 0 or labels.max() >= lengths.min():
        raise ValueError(
            f"{source}: labels range from {labels.min()} to {labels.max()}; "
            f"expected 0..{lengths.min() - 1} (one logit per class)"
        )
    pools = set(table.column("pool").to_pylist())
    if not pools <= {"train", "test"}:
        raise ValueError(f"{source}: pool values {sorted(pools)}; expected only 'train' and 'test'")
    member = table.column("member").to_numpy(zero_copy_only=False)
    if expected_member is None:
        from_train = np.asarray(table.column("pool").to_pylist()) == "train"
        if not np.array_equal(member, from_train):
            raise ValueError(
                f"{source}: 'member' must be true exactly for rows of the 'train' pool"
            )
    elif not np.array_equal(member, expected_member):
        raise ValueError(
            f"{source}: 'member' differs from the reference's keep column in "
            f"{int((member != expected_member).sum())} row(s); expected the rows it trained on"
        )


def _validate_flipped(table: pa.Table, source: str, lengths: np.ndarray) -> None:
    found = table.schema.field(FLIPPED_COLUMN).type
    if found != pa.list_(pa.float32()):
        raise ValueError(
            f"{source}: column {FLIPPED_COLUMN!r} has type {found}, expected list<float32>"
        )
    flipped_lengths = pc.list_value_length(table.column(FLIPPED_COLUMN)).to_numpy()
    if not np.array_equal(flipped_lengths, lengths):
        raise ValueError(
            f"{source}: {FLIPPED_COLUMN!r} rows do not have one value per class as 'logits' do"
        )


def read_outputs(
    path: PathLike, expected_member: np.ndarray | None = None, flipped: bool = False
) -> pd.DataFrame:
    """Read and validate one ``outputs.parquet``; logits come back as a float32 matrix column.

    ``expected_member``: a reference model's keep column (default: a target's train pool).
    ``flipped``: also return ``logits_flipped`` if the file has it (only LiRA reads it, so the
    other attacks do not hold a second copy of every logit).
    """
    try:
        names = pq.read_schema(path).names
        wanted = [name for name in names if flipped or name != FLIPPED_COLUMN]
        table = pq.read_table(path, columns=wanted)
    except (OSError, pa.ArrowException) as err:
        raise ValueError(f"{path}: not a readable parquet file ({err})") from err
    validate_outputs(table, str(path), expected_member)
    return table.to_pandas()


def logits_matrix(frame: pd.DataFrame, column: str = "logits") -> np.ndarray:
    """Stack the ``logits`` (or ``logits_flipped``) column into an (n_rows, n_classes) float32
    array."""
    return np.stack(frame[column].to_numpy()).astype(np.float32, copy=False)
