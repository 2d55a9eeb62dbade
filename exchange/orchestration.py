"""Settings every DAG shares. Light on purpose: DAG files import this at parse time."""

from __future__ import annotations

import datetime as dt

from catalog import default_catalog
from catalog.checks import BIGDATA_CENTRE, GATEWAY_RECEIVERS

TIMEZONE = "Asia/Shanghai"

# incremental: rows changed since the watermark (minus the look-back); snapshot: every row read, only those
# whose content hash changed go on, vanished rows become deletes; full: every row re-standardized, vanished
# rows become deletes; backfill: rows changed within [since, until), the watermark untouched.
RUN_MODES = ("incremental", "snapshot", "full", "backfill")
OWNER = "data-management-centre"

# Every receiver, by connection id (the catalogue's checks name them): the big-data centre's exchange
# database, then the gateway receivers. Each gateway receiver's deliver task runs in the Airflow pool of its
# name, so that tasks on several workers share the receiver's granted rate instead of each taking all of it
# (docs/operations.md, Pools).
RECEIVERS = (BIGDATA_CENTRE, *GATEWAY_RECEIVERS)

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "execution_timeout": dt.timedelta(hours=2),
}


def curated_asset_uris() -> list[str]:
    """The Airflow Asset URI of every catalogued resource (read from the catalogue's files only)."""
    return [resource.asset_uri for _, resource in sorted(default_catalog().resources.items())]


def resource_names() -> list[str]:
    """Every catalogued resource's name, for DAG params (read from the catalogue's files only)."""
    return sorted(default_catalog().resources)
