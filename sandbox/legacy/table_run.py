"""One table being generated: its random stream, its quirk pickers, and the quirks every table shares.

Table modules build clean rows and call ``spoil`` (text, null stand-ins, dates, counts), ``timestamp``
and ``soft_delete`` here; quirks that need to know what a value means (codes, divisions, IDs) they apply
themselves through ``pick`` and ``record``.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from sandbox.legacy import distortions
from sandbox.legacy.quirks import QUIRKS
from sandbox.legacy.quotas import NOTHING, QuirkPicker
from sandbox.legacy.timeline import GXSJ_INTRODUCED, future_time, timestamp_text, update_time, validity_end
from sandbox.legacy.truth import TruthWriter

Row = dict[str, Any]

_ALL = frozenset(QUIRKS)
# Which text quirks fit a value, by (it has characters to widen, it is long enough to break).
_TEXT_FITS = {
    (True, True): _ALL,
    (True, False): _ALL - {"text.line_break"},
    (False, True): _ALL - {"text.fullwidth"},
    (False, False): _ALL - {"text.fullwidth", "text.line_break"},
}
#: Date quirks after which the date still says which day it is.
DATE_SHAPES = frozenset(
    {"date.slash", "date.compact", "date.dotted", "date.chinese", "date.with_time", "date.excel_serial"}
)
#: Quirks of YXQZ that make the validity itself wrong (the record is quarantined).
VALIDITY_QUIRKS = frozenset({"validity.reversed", "validity.too_long"})
_DATE_VERDICTS = {
    "date.impossible": ("quarantined", "date.impossible"),
    "date.zero": ("quarantined", "date.placeholder"),
    "date.placeholder": ("quarantined", "date.placeholder"),
}
# Which timestamp quirks fit a row, by (created before 2012, created before the last bulk fix).
_GXSJ_FITS = {
    (True, True): _ALL,
    (True, False): _ALL - {"gxsj.bulk"},
    (False, True): _ALL - {"gxsj.null"},
    (False, False): _ALL - {"gxsj.null", "gxsj.bulk"},
}
_BULK_STAMPS_PER_TABLE = 3
# Coordinates of places far from Changzhou (Nanjing, Shanghai, Beijing, Hefei): plainly outside its box.
_FAR_AWAY = (
    ("118.796877", "32.060255"),
    ("121.473701", "31.230416"),
    ("116.407526", "39.904030"),
    ("117.227239", "31.820587"),
)
# Soft-delete flags of live rows: mostly '0', sometimes NULL or ''.
_LIVE_FLAGS = ("0",) * 17 + (None, None, "")


@dataclass
class TableRun:
    """Everything one table's generator needs.

    Attributes:
        table: legacy table name.
        rows: how many rows the table gets.
        rng: the table's own random stream (tables do not share one, so each is reproducible alone).
        pickers: quirk pickers of the table's targets, by column.
        truth: where quirk instances are recorded.

    """

    table: str
    rows: int
    rng: random.Random
    pickers: dict[str, QuirkPicker]
    truth: TruthWriter
    _bulk_stamps: list[datetime.datetime] = field(default_factory=list)

    def pick(self, column: str, allowed: Container[str] | None = None) -> str | None:
        """Return the quirk the next value of ``column`` gets, or None (also when the column gets none)."""
        picker = self.pickers.get(column)
        return None if picker is None else picker.pick(allowed)

    def record(
        self,
        key: str,
        column: str | None,
        quirk: str,
        raw: str | None,
        expected: str | None,
        outcome: str,
        issue: str | None = None,
        *,
        decidable: bool = True,
        note: str | None = None,
    ) -> None:
        """Record a quirk instance of this table in the truth file."""
        self.truth.record(
            self.table, key, column, quirk, raw, expected, outcome, issue, decidable=decidable, note=note
        )

    def spoil(
        self, row: Row, key: str, column: str, *, allowed: Container[str] | None = None, unit: str = "人"
    ) -> str | None:
        """Give one text, date or count cell the quirk its picker chooses, and record it.

        Args:
            row: the row, changed in place.
            key: the row's primary key.
            column: the cell's column; it holds clean text, an ISO date or a count (or None).
            allowed: restricts the quirks (None: any that fits the value).
            unit: the unit a count is written with (number.text).

        Returns:
            The quirk applied, or None.

        """
        picker = self.pickers.get(column)
        if picker is None:
            return None
        value = row[column]
        if value is None:
            picker.pick(NOTHING)
            return None
        quirk = picker.pick(allowed if allowed is not None else _text_fits(value))
        if quirk is not None:
            row[column] = self.apply(quirk, key, column, value, unit)
        return quirk

    def apply(self, quirk: str, key: str, column: str, value: str, unit: str = "人") -> str:
        """Apply a text, date or count quirk already picked to a clean value; record it, return the result."""
        if quirk.startswith("date."):
            return self._apply_date(quirk, key, column, value)
        if quirk == "null.standin":
            raw = self.rng.choice(distortions.NULL_STANDINS)
            self.record(key, column, quirk, raw, None, "nulled")
            return raw
        if quirk == "number.text":
            raw = distortions.approximate_number(self.rng, value, unit)
            self.record(key, column, quirk, raw, value, "standardized", "number.approximate")
            return raw
        raw = distortions.TEXT_DISTORTIONS[quirk](self.rng, value)
        self.record(key, column, quirk, raw, value, "standardized")
        return raw

    def _apply_date(self, quirk: str, key: str, column: str, value: str) -> str:
        day = datetime.date.fromisoformat(value[:10])
        raw = distortions.reshape_date(quirk, self.rng, day)
        outcome, issue = _DATE_VERDICTS.get(quirk, ("standardized", None))
        self.record(
            key, column, quirk, raw, day.isoformat() if outcome == "standardized" else None, outcome, issue
        )
        return raw

    def timestamp(self, row: Row, key: str, created: datetime.date) -> None:
        """Set GXSJ of a row created at ``created`` (a date or a moment), with its timestamp quirk if any."""
        day = created.date() if isinstance(created, datetime.datetime) else created
        stamps = self._bulk_stamps or self._plan_bulk_stamps()
        quirk = self.pick("GXSJ", _GXSJ_FITS[day < GXSJ_INTRODUCED, day < stamps[-1].date()])
        if quirk == "gxsj.bulk":
            stamp = self.rng.choice([stamp for stamp in stamps if stamp.date() > day])
            self._record_timestamp(row, key, quirk, stamp, "one bulk fix set this GXSJ on many rows", False)
        elif quirk == "gxsj.future":
            stamp = future_time(self.rng)
            self._record_timestamp(
                row, key, quirk, stamp, "after the reference date 2026-11-28: a wrong server clock"
            )
        elif quirk == "gxsj.null":
            self._record_timestamp(row, key, quirk, None, "not updated since GXSJ was added in 2012")
        else:
            row["GXSJ"] = update_time(self.rng, created)

    def _record_timestamp(
        self,
        row: Row,
        key: str,
        quirk: str,
        stamp: datetime.datetime | None,
        note: str,
        decidable: bool = True,
    ) -> None:
        row["GXSJ"] = stamp
        text = timestamp_text(stamp)
        self.record(key, "GXSJ", quirk, text, text, "accepted", decidable=decidable, note=note)

    def _plan_bulk_stamps(self) -> list[datetime.datetime]:
        # Bulk fixes ran late (2023-2026) at night, so nearly every row existed by then.
        self._bulk_stamps = sorted(
            datetime.datetime(2023, 1, 1, 2, 0) + datetime.timedelta(days=self.rng.randint(0, 1400))
            for _ in range(_BULK_STAMPS_PER_TABLE)
        )
        return self._bulk_stamps

    def spoil_validity(
        self,
        row: Row,
        key: str,
        start: datetime.date,
        years: int,
        start_column: str,
        *,
        legal_years: int | None = None,
    ) -> tuple[str | None, datetime.date]:
        """Give YXQZ its quirk: a date shape, or a validity reversed or longer than the legal ``years``.

        Args:
            row: the row, its ``start_column`` and YXQZ holding clean ISO dates.
            key: the row's primary key.
            start: the first valid day.
            years: the certificate's validity in years.
            start_column: the column holding ``start`` (swapped with YXQZ by validity.reversed).
            legal_years: the type's legal maximum, where a certificate may be issued for less (0202: one
                or two years, at most two): a validity "too long" must exceed it, not ``years``.

        Returns:
            The quirk (or None) and the last valid day the stored YXQZ means.

        """
        quirk = self.pick("YXQZ")
        end = validity_end(start, years)
        if quirk == "validity.reversed":
            end = start
            row[start_column], row["YXQZ"] = row["YXQZ"], row[start_column]
            self.record(key, "YXQZ", quirk, row["YXQZ"], None, "quarantined", quirk)
        elif quirk == "validity.too_long":
            end = validity_end(start, (legal_years or years) + self.rng.randint(1, 4))
            row["YXQZ"] = end.isoformat()
            self.record(key, "YXQZ", quirk, row["YXQZ"], None, "quarantined", quirk)
        elif quirk is not None:
            row["YXQZ"] = self.apply(quirk, key, "YXQZ", row["YXQZ"])
        return quirk, end

    def locate(self, row: Row, key: str, lon: str, lat: str) -> None:
        """Set JD and WD, with the coordinate quirk the row's JD picker chooses (it covers the pair)."""
        quirk = self.pick("JD")
        if quirk == "coord.swapped":
            row["JD"], row["WD"] = lat, lon
            self.record(key, "JD", quirk, lat, lon, "standardized", "coord.swapped")
            self.record(key, "WD", quirk, lon, lat, "standardized", "coord.swapped")
            return
        if quirk is None:
            row["JD"], row["WD"] = lon, lat
            return
        if quirk == "coord.zero":
            row["JD"] = row["WD"] = self.rng.choice(("0", "0.0", "0.000000"))
        else:
            row["JD"], row["WD"] = self.rng.choice(_FAR_AWAY)
        self.record(key, "JD", quirk, row["JD"], None, "nulled", quirk)
        self.record(key, "WD", quirk, row["WD"], None, "nulled", quirk)

    def soft_delete(self, row: Row, key: str, *, allowed: Container[str] | None = None) -> bool:
        """Set SCBZ: deleted ('1') when the row gets scbz.deleted, else a live flag ('0', NULL or '')."""
        if self.pick("SCBZ", allowed) == "scbz.deleted":
            row["SCBZ"] = "1"
            self.record(
                key,
                None,
                "scbz.deleted",
                "1",
                None,
                "accepted",
                note="soft-deleted: a delete at every receiver",
            )
            return True
        row["SCBZ"] = self.rng.choice(_LIVE_FLAGS)
        return False


def _text_fits(value: str) -> frozenset[str]:
    """Return the quirks a text value can take (width changes need Latin letters, digits or brackets)."""
    return _TEXT_FITS[distortions.can_widen(value), len(value) >= 4]
