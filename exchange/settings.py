"""Where the toolkit keeps its files, from the environment, with defaults for one machine."""

from __future__ import annotations

import os
from pathlib import Path

# One folder holds staging batches and reports; in a multi-machine deployment it is a shared volume.
HOME_ENV = "SDX_HOME"
BATCH_SIZE_ENV = "SDX_BATCH_SIZE"
DELIVER_BATCH_ENV = "SDX_DELIVER_BATCH_ROWS"
# Airflow 3.3's `dags test` cannot finish a DAG that has Deadline Alerts (it hands the run the encoded
# alerts where the scheduler hands their ids), so the demo and the in-process DAG tests turn them off.
DEADLINE_ALERTS_ENV = "SDX_DEADLINE_ALERTS"
WORKERS_ENV = "SDX_WORKERS"


def home() -> Path:
    """The toolkit's working folder (default ./var)."""
    return Path(os.environ.get(HOME_ENV, "var")).resolve()


def batch_size() -> int:
    """Rows per extraction and standardization batch: bounds memory, not correctness."""
    return int(os.environ.get(BATCH_SIZE_ENV, "20000"))


def deadline_alerts() -> bool:
    """Whether DAGs carry their deadline alerts (default yes; `off` for `airflow dags test`)."""
    return os.environ.get(DEADLINE_ALERTS_ENV, "on").lower() not in ("off", "0", "false", "no")


def deliver_batch_rows() -> int:
    """Records per exchange-database batch (one transaction and one push-log row each)."""
    return int(os.environ.get(DELIVER_BATCH_ENV, "2000"))


def workers() -> int:
    """Processes `sdx run` works on sources with at once, on server databases (`SDX_WORKERS`; default: cores)."""
    return max(1, int(os.environ.get(WORKERS_ENV, "0")) or os.cpu_count() or 1)
