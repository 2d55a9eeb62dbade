"""What every step of one run knows: its id, its logical date, its mode and the hooks it talks through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from catalog import Catalog, default_catalog
from connectors.curated.hook import CuratedDatabaseHook
from connectors.exchange_db.hook import SHANGHAI
from connectors.legacy.hook import LegacySupervisionHook
from exchange.orchestration import RUN_MODES

MODES = RUN_MODES


def shanghai_now() -> dt.datetime:
    """Asia/Shanghai wall-clock time without zone: the legacy database and the contracts use it."""
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


@dataclass
class RunContext:
    """One run: `logical_date` is the day its checks judge expiry against."""

    run_id: str
    logical_date: dt.date
    mode: str = "incremental"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    catalog: Catalog = field(default_factory=default_catalog)
    legacy: LegacySupervisionHook = field(default_factory=LegacySupervisionHook)
    curated: CuratedDatabaseHook = field(default_factory=CuratedDatabaseHook)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.mode == "backfill" and (self.since is None or self.until is None or self.since >= self.until):
            raise ValueError("a backfill needs a window: since < until")
