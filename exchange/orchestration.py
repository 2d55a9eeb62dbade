"""Settings every DAG shares. Light on purpose: DAG files import this at parse time."""

from __future__ import annotations

import datetime as dt

TIMEZONE = "Asia/Shanghai"
OWNER = "data-management-centre"

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "execution_timeout": dt.timedelta(hours=2),
}
