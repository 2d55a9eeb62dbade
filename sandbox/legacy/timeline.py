"""Dates of the legacy world: the fixed "today", when records were made, and how their timestamps look.

Nothing reads the clock: every database generated with one seed is the same, whenever it is generated.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

#: "Today" for every generated database: validity, status and future timestamps are judged against it.
REFERENCE_DATE = datetime.date(2026, 11, 28)
#: The legacy went live in April 2009; certificates issued before were migrated without an application.
SYSTEM_LIVE = datetime.date(2009, 4, 1)
#: GXSJ was added in 2012: rows not touched since have none.
GXSJ_INTRODUCED = datetime.date(2012, 1, 1)
LAST_DAY = REFERENCE_DATE - datetime.timedelta(days=1)

_DAY_SECONDS = 86_400


@dataclass(frozen=True)
class DateSpread:
    """When the records of a table were made: between two dates, growing by a factor each year."""

    start: datetime.date
    end: datetime.date = LAST_DAY
    growth: float = 1.0

    @property
    def _days(self) -> int:
        return (self.end - self.start).days

    def draw(self, rng: random.Random) -> datetime.date:
        """Return one date, later years more likely when the spread grows."""
        return self.start + datetime.timedelta(days=round(self._offset(rng.random())))

    def _offset(self, u: float) -> float:
        if self.growth == 1.0:
            return u * self._days
        years = self._days / 365.25
        # Inverse of the CDF of a density proportional to growth ** years_since_start.
        return math.log1p(u * (self.growth**years - 1)) / math.log(self.growth) * 365.25

    def share_before(self, cutoff: datetime.date) -> float:
        """Return the expected share of dates before ``cutoff``."""
        if cutoff <= self.start:
            return 0.0
        if cutoff > self.end:
            return 1.0
        if self.growth == 1.0:
            return (cutoff - self.start).days / self._days
        years, part = self._days / 365.25, (cutoff - self.start).days / 365.25
        return (self.growth**part - 1) / (self.growth**years - 1)


def add_years(day: datetime.date, years: int) -> datetime.date:
    """Return the same day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity_end(start: datetime.date, years: int) -> datetime.date:
    """Return the last valid day of a validity of ``years`` years starting on ``start``."""
    return add_years(start, years) - datetime.timedelta(days=1)


def at_office_hours(rng: random.Random, day: datetime.date) -> datetime.datetime:
    """Return a moment during office hours of a day, to the second."""
    return datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(
        seconds=rng.randint(8 * 3600, 18 * 3600)
    )


def later(rng: random.Random, day: datetime.date, low: int, high: int) -> datetime.date:
    """Return a day ``low``..``high`` days after ``day``, but never after the last day before "today"."""
    return min(day + datetime.timedelta(days=rng.randint(low, high)), LAST_DAY)


def update_time(rng: random.Random, created: datetime.date) -> datetime.datetime:
    """Return a GXSJ for a row created at ``created``: a moment after it (and after 2012), before "today"."""
    if not isinstance(created, datetime.datetime):
        created = datetime.datetime.combine(created, datetime.time())
    first = max(created, datetime.datetime.combine(GXSJ_INTRODUCED, datetime.time()))
    span = (datetime.datetime.combine(REFERENCE_DATE, datetime.time()) - first).total_seconds()
    # Most rows were last touched soon after they were made; some years later.
    return first + datetime.timedelta(seconds=int(span * rng.random() ** 2))


def future_time(rng: random.Random) -> datetime.datetime:
    """Return a GXSJ days after "today", as a server with a wrong clock writes it."""
    return datetime.datetime.combine(REFERENCE_DATE, datetime.time()) + datetime.timedelta(
        seconds=rng.randint(_DAY_SECONDS, 90 * _DAY_SECONDS)
    )


def timestamp_text(moment: datetime.datetime | None) -> str | None:
    """Return a timestamp as the truth file writes it (``YYYY-MM-DD HH:MM:SS``)."""
    return None if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"
