"""Send a job's logging and warnings to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from lottery_mia.atomic import PathLike

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def log_to_file(path: PathLike) -> Iterator[logging.Logger]:
    """Route the root logger, warnings and stderr to ``path`` for the duration of a job."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    with open(path, "a") as stream, contextlib.redirect_stderr(stream):
        try:
            yield root
        except BaseException:
            root.exception("job failed")
            raise
        finally:
            root.removeHandler(handler)
            handler.close()
            sys.stderr.flush()
