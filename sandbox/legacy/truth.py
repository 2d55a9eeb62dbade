"""The truth file: one Parquet row per quirk the generator put into the legacy database, with the answer.

Columns:
    table: legacy table name.
    key: the row's primary-key value.
    column: the column the quirk is in; null for row-level quirks (orphans, duplicates, soft deletes).
    quirk: a name from ``quirks.QUIRKS``.
    raw: the value as stored (timestamps as ``YYYY-MM-DD HH:MM:SS``); null when NULL is stored.
    expected: what the standardized value must be: dates ``YYYY-MM-DD``, codes upper-case canonical,
        certificate status as the catalogue's code (01 有效, 04 注销, 05 过期, 07 吊销); null when it must
        become null or the record is quarantined. For ``enterprise.duplicate`` the QYID of the
        enterprise's first row.
    outcome: ``standardized`` (fixed to ``expected``), ``nulled`` (becomes null), ``accepted`` (stored
        value is right as it is) or ``quarantined`` (the record cannot be fixed).
    issue: the code of quality/issues.yaml the standardizer must report, or null.
    decidable: whether a standardizer can tell this quirk from a clean value at all.
    note: why, when the answer needs explaining (undecidable quirks, resolutions through a twin row).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

OUTCOMES = ("standardized", "nulled", "accepted", "quarantined")

TRUTH_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("key", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("quirk", pa.string(), nullable=False),
        pa.field("raw", pa.string()),
        pa.field("expected", pa.string()),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("issue", pa.string()),
        pa.field("decidable", pa.bool_(), nullable=False),
        pa.field("note", pa.string()),
    ]
)

TruthRow = tuple[str, str, str | None, str, str | None, str | None, str, str | None, bool, str | None]


class TruthWriter:
    """Collects truth rows and writes them to Parquet in batches; counts quirks even without a file."""

    def __init__(self, path: Path | None, *, batch_rows: int = 50_000) -> None:
        """Write to ``path`` (None: only count), ``batch_rows`` rows at a time."""
        self.path = path
        self.counts: Counter[str] = Counter()
        self._batch_rows = batch_rows
        self._rows: list[TruthRow] = []
        self._writer: pq.ParquetWriter | None = None

    def record(
        self,
        table: str,
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
        """Record one quirk instance (see the module docstring for what each argument means)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self.counts[quirk] += 1
        if self.path is None:
            return
        self._rows.append((table, key, column, quirk, raw, expected, outcome, issue, decidable, note))
        if len(self._rows) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, TRUTH_SCHEMA, compression="zstd")
        columns = list(zip(*self._rows, strict=True)) if self._rows else [()] * len(TRUTH_SCHEMA)
        batch = pa.Table.from_arrays(
            [pa.array(values, type=field.type) for values, field in zip(columns, TRUTH_SCHEMA, strict=True)],
            schema=TRUTH_SCHEMA,
        )
        self._writer.write_table(batch)
        self._rows.clear()

    def close(self) -> None:
        """Write what is left and close the file (an empty file with the schema when nothing was recorded)."""
        if self.path is not None and (self._rows or self._writer is None):
            self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> TruthWriter:
        """Return the writer itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the file, also when generation failed (the rows so far are kept)."""
        self.close()


def read_truth(path: Path | str) -> pd.DataFrame:
    """Read a truth file back, one row per quirk instance, in the order they were generated."""
    return pq.read_table(path, schema=TRUTH_SCHEMA).to_pandas()
