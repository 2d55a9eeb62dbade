"""The quarantine: every refused record with its reason, kept in the curated database until fixed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from catalog import Resource
from quality.issues import issue_kind
from quality.standardize.person_ids import mask_name, mask_phone, mask_resident_id

MASKS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "name": mask_name,
    "id": mask_resident_id,
    "phone": mask_phone,
}


# Free text from outside (a receiver's reason for refusing a record) may quote an ID number or a phone.
_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_free_text(text: str) -> str:
    """`text` with every ID number and mobile number in it masked; names cannot be told apart in prose."""
    text = _ID_IN_TEXT.sub(lambda m: str(mask_resident_id(m.group(0))), text)
    return _PHONE_IN_TEXT.sub(lambda m: str(mask_phone(m.group(0))), text)


def quarantine_table(metadata: sa.MetaData) -> sa.Table:
    """One row per record, issue and item; reopened when the problem returns, resolved when it goes."""
    if "sdx_quarantine" in metadata.tables:
        return metadata.tables["sdx_quarantine"]
    return sa.Table(
        "sdx_quarantine",
        metadata,
        sa.Column("resource", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("issue", sa.String(64), primary_key=True),
        sa.Column("item", sa.String(64), primary_key=True),  # '' for record-level issues
        sa.Column("source_table", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=False),
        sa.Column("division", sa.String(12)),
        sa.Column("value_masked", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("fix", sa.Text, nullable=False),
        sa.Column("first_run_id", sa.String(250), nullable=False),
        sa.Column("last_run_id", sa.String(250), nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
        sa.Column("resolved_at", sa.DateTime),
        sa.Column("resolved_run_id", sa.String(250)),
    )


def masked_values(resource: Resource, findings: pd.DataFrame) -> pd.Series:
    """The findings' values as text, masked where the item holds personal data."""
    values = findings["value"].map(
        lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
    )
    for item in resource.items:
        mask = MASKS.get(item.personal or "")
        selected = findings["item"] == item.name
        if mask and selected.any():
            values[selected] = mask(values[selected]).to_numpy()
    return values.astype(object)


def _existing_rows(
    conn: sa.Connection,
    table: sa.Table,
    resource: Resource,
    record_ids: list[str],
    issues: Collection[str] | None,
) -> dict[tuple[str, str, str], sa.Row]:
    # The resource's quarantine rows (open or resolved) of these records. A full night sees every record
    # of a resource, far more than it has quarantine rows: then reading the resource's rows once beats
    # looking up each record id.
    of_resource = [table.c.resource == resource.name]
    if issues is not None:
        of_resource.append(table.c.issue.in_(list(issues)))
    rows = conn.execute(sa.select(sa.func.count()).select_from(table).where(*of_resource)).scalar_one()
    if rows <= len(record_ids):
        wanted = set(record_ids)
        found = conn.execute(sa.select(table).where(*of_resource))
        return {(r.record_id, r.issue, r.item): r for r in found if r.record_id in wanted}
    existing: dict[tuple[str, str, str], sa.Row] = {}
    for start in range(0, len(record_ids), 1000):
        chunk = record_ids[start : start + 1000]
        found = conn.execute(sa.select(table).where(*of_resource, table.c.record_id.in_(chunk)))
        existing.update({(r.record_id, r.issue, r.item): r for r in found})
    return existing


def record_quarantine(
    conn: sa.Connection,
    table: sa.Table,
    resource: Resource,
    *,
    source_table: str,
    errors: pd.DataFrame,
    seen_record_ids: list[str],
    run_id: str,
    now: dt.datetime,
    issues: Collection[str] | None = None,
) -> dict[str, int]:
    """Open or refresh a row per error finding; resolve open rows of seen records that no longer fail.

    `errors` has record_id, source_key, division, item, issue, value, and optionally message (else the
    issue's own words). With `issues`, only rows of those issues are resolved: a receiver's feedback
    settles its refusals, not the standardization findings. Runs inside the caller's transaction, the one
    that also loads the curated records and moves the watermark.
    """
    current = {(r.record_id, r.issue, r.item or ""): r for r in errors.itertuples(index=False)}
    existing = _existing_rows(conn, table, resource, seen_record_ids, issues)
    masked = dict(zip(current.keys(), masked_values(resource, errors), strict=True)) if len(errors) else {}
    inserts, refreshes, seen_again = [], [], []
    for key, f in current.items():
        kind = issue_kind(f.issue)
        message = getattr(f, "message", None) or kind.message
        values = {"value_masked": masked[key], "message": message, "fix": kind.fix, "division": f.division,
                  "last_run_id": run_id, "last_seen": now, "resolved_at": None, "resolved_run_id": None}  # fmt: skip
        if key in existing and _unchanged(existing[key], values):
            seen_again.append(key)
        elif key in existing:
            refreshes.append({"k_record_id": key[0], "k_issue": key[1], "k_item": key[2], **values})
        else:
            inserts.append({"resource": resource.name, "record_id": key[0], "issue": key[1], "item": key[2],
                            "source_table": source_table, "source_key": f.source_key, "first_run_id": run_id,
                            "first_seen": now, **values})  # fmt: skip
    resolved = [
        {"k_record_id": k[0], "k_issue": k[1], "k_item": k[2]}
        for k, row in existing.items()
        if k not in current and row.resolved_at is None
    ]
    if inserts:
        conn.execute(table.insert(), inserts)
    where = _by_key(table, resource)
    if refreshes:
        conn.execute(table.update().where(where), refreshes)
    if seen_again:
        _mark_seen(conn, table, resource, seen_again, {"last_run_id": run_id, "last_seen": now})
    if resolved:
        conn.execute(table.update().where(where).values(resolved_at=now, resolved_run_id=run_id), resolved)
    return {"opened": len(inserts), "still_open": len(refreshes) + len(seen_again), "resolved": len(resolved)}


_CONTENT = ("value_masked", "message", "fix", "division")


def _by_key(table: sa.Table, resource: Resource) -> sa.ColumnElement[bool]:
    # One row of the resource, by the bound parameters k_record_id, k_issue and k_item (an executemany).
    return sa.and_(
        table.c.resource == resource.name,
        table.c.record_id == sa.bindparam("k_record_id"),
        table.c.issue == sa.bindparam("k_issue"),
        table.c.item == sa.bindparam("k_item"),
    )


def _unchanged(row: sa.Row, values: dict[str, object]) -> bool:
    # An open row whose finding reads the same as before only needs to say it was seen again.
    return row.resolved_at is None and all(getattr(row, name) == values[name] for name in _CONTENT)


def _mark_seen(
    conn: sa.Connection, table: sa.Table, resource: Resource, keys: list[tuple[str, str, str]], values: dict
) -> None:
    """Set `values` on the rows of `keys` (record id, issue, item).

    Every run reads the records in quarantine again, so a night marks most open rows seen: on PostgreSQL
    in one statement joined against the keys as arrays (one UPDATE per row took a minute at ten times city
    scale), elsewhere one UPDATE per row.
    """
    if conn.dialect.name == "postgresql":
        ids, issues, items = (list(column) for column in zip(*keys, strict=True))
        text_array = postgresql.ARRAY(sa.Text)
        keyed = (
            sa.func.unnest(
                sa.bindparam("ids", ids, type_=text_array),
                sa.bindparam("issues", issues, type_=text_array),
                sa.bindparam("items", items, type_=text_array),
            )
            .table_valued("record_id", "issue", "item")
            .render_derived(name="seen")
        )
        matched = sa.tuple_(table.c.record_id, table.c.issue, table.c.item).in_(
            sa.select(keyed.c.record_id, keyed.c.issue, keyed.c.item)
        )
        conn.execute(table.update().where(table.c.resource == resource.name, matched).values(**values))
        return
    conn.execute(
        table.update().where(_by_key(table, resource)).values(**values),
        [{"k_record_id": r, "k_issue": i, "k_item": t} for r, i, t in keys],
    )


def resolve_vanished(
    conn: sa.Connection,
    table: sa.Table,
    resource: Resource,
    read_keys: set[str],
    *,
    run_id: str,
    now: dt.datetime,
) -> int:
    """Resolve the open rows of records whose source row a full read no longer finds (hard-deleted).

    Such a record was never curated, so no delete reaches it; without this its rows would stay open for ever.
    """
    open_rows = conn.execute(
        sa.select(table.c.source_key)
        .where(table.c.resource == resource.name, table.c.resolved_at.is_(None))
        .distinct()
    )
    gone = sorted({key for (key,) in open_rows} - read_keys)
    for start in range(0, len(gone), 1000):
        conn.execute(
            table.update()
            .where(
                table.c.resource == resource.name,
                table.c.resolved_at.is_(None),
                table.c.source_key.in_(gone[start : start + 1000]),
            )
            .values(resolved_at=now, resolved_run_id=run_id)
        )
    return len(gone)
