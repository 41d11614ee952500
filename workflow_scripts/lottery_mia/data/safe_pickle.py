"""A restricted unpickler for the pickled dataset files (CIFAR, Downsampled ImageNet).

Those files are dicts of numpy arrays, lists, numbers and strings. ``pickle.load`` would import and
call whatever global a file names (``os.system`` included), so a tampered file could run code;
this unpickler rebuilds numpy arrays and plain containers and refuses every other global.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

# Globals a dataset pickle may reference: numpy array reconstruction (numpy 1 and 2 module names,
# pickle protocols 2 and 5) and ``_codecs.encode``, which Python 3 uses for bytes in protocol 2.
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle asked for a global outside the allowed set: refuse rather than run its code."""


class ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and plain containers, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise ForbiddenGlobalError(f"{module}.{name}")
        # numpy 2 renamed numpy.core to numpy._core; map old pickles without a deprecation warning.
        if module.startswith("numpy.core.") and int(np.__version__.split(".")[0]) >= 2:
            module = "numpy._core." + module.removeprefix("numpy.core.")
        return super().find_class(module, name)


def load_pickled_dict(
    dataset: str, title: str, path: Path, fix: str, truncated_fix: str = ""
) -> dict[Any, Any]:
    """Unpickle one dataset file that must hold a dict, with ``ArrayOnlyUnpickler``.

    Every failure is a ``ValueError`` that starts with ``dataset``, names ``path`` and says what
    was expected; ``fix`` (a sentence) follows, and ``truncated_fix`` (a clause) after it when the
    file is corrupt or truncated. Python 2 strings come back as bytes (``encoding="bytes"``).
    """
    a_title = f"{'an' if title[:1].lower() in 'aeiou' else 'a'} {title}"
    try:
        with path.open("rb") as handle:
            record = ArrayOnlyUnpickler(handle, encoding="bytes").load()
    except ForbiddenGlobalError as err:
        raise ValueError(
            f"{dataset}: {path} is not {a_title} file: it references {err}, and only numpy "
            f"arrays are unpickled (anything else could run code). {fix}."
        ) from err
    except Exception as err:  # any failure of a truncated/corrupt pickle: report the file
        raise ValueError(
            f"{dataset}: cannot read {path}: the file is corrupt or truncated "
            f"({type(err).__name__}: {err}). {fix}{truncated_fix}."
        ) from err
    if not isinstance(record, dict):
        raise ValueError(
            f"{dataset}: {path} is not {a_title} file: expected a pickled dict, "
            f"found {type(record).__name__}"
        )
    return record
