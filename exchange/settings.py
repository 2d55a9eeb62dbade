"""Where the toolkit keeps its files, from the environment, with defaults for one machine."""

from __future__ import annotations

import os
from pathlib import Path

# One folder holds staging batches and reports; in a multi-machine deployment it is a shared volume.
HOME_ENV = "SDX_HOME"
BATCH_SIZE_ENV = "SDX_BATCH_SIZE"


def home() -> Path:
    """The toolkit's working folder (default ./var)."""
    return Path(os.environ.get(HOME_ENV, "var")).resolve()


def batch_size() -> int:
    """Rows per extraction and standardization batch: bounds memory, not correctness."""
    return int(os.environ.get(BATCH_SIZE_ENV, "20000"))


DELIVER_BATCH_ENV = "SDX_DELIVER_BATCH_ROWS"


def deliver_batch_rows() -> int:
    """Records per exchange-database batch (one transaction and one push-log row each)."""
    return int(os.environ.get(DELIVER_BATCH_ENV, "2000"))
