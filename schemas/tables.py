"""Target tables derived from the catalogue: the curated copy of each resource and its exchange table."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from catalog import Item, Resource

CURATED_PREFIX = "cur_"
# Control columns of every exchange table (contracts/README.md, section 1), lower case because the
# exchange database creates names unquoted.
EXCHANGE_CONTROL_COLUMNS = (
    "hj_jlid", "hj_czlx", "hj_pch", "hj_xh", "hj_sjzw", "hj_xzqhdm", "hj_xydw", "hj_tssj", "hj_zt", "hj_fkxx",
    "hj_qssj",
)  # fmt: skip


# Contract: control timestamps are local time to the second; on SQLite, text 'YYYY-MM-DD HH:MM:SS'.
CONTROL_TIMESTAMP = sa.DateTime().with_variant(
    sqlite.DATETIME(storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"),
    "sqlite",
)


def _sql_type(item: Item) -> sa.types.TypeEngine:
    family = item.sql_family
    if family == "date":
        return sa.Date()
    if family == "integer":
        return sa.BigInteger()
    if family == "decimal":
        return sa.Numeric(18, 6)
    # VARCHAR where the catalogue gives a length, TEXT otherwise; never CHAR (no padding in digests).
    return sa.String(item.length) if item.length and item.length <= 4000 else sa.Text()


def arrow_type(item: Item) -> pa.DataType:
    """The Arrow type of an item's standardized values."""
    family = item.sql_family
    return {"date": pa.date32(), "integer": pa.int64(), "decimal": pa.float64()}.get(family, pa.string())


def arrow_schema(resource: Resource) -> pa.Schema:
    """The Arrow schema of a resource's standardized records (items only, in catalogue order)."""
    return pa.schema([pa.field(it.name, arrow_type(it)) for it in resource.items])


def curated_table(resource: Resource, metadata: sa.MetaData) -> sa.Table:
    """The curated table: one row per record, its latest valid version, digest and seq."""
    name = CURATED_PREFIX + resource.name
    if name in metadata.tables:
        return metadata.tables[name]
    return sa.Table(
        name,
        metadata,
        sa.Column("record_id", sa.String(64), primary_key=True),
        *(sa.Column(it.name, _sql_type(it), comment=it.title) for it in resource.items),
        sa.Column("sdx_source_key", sa.String(64), nullable=False),
        sa.Column("sdx_deleted", sa.Boolean, nullable=False, default=False),
        sa.Column("sdx_digest", sa.String(64), nullable=False),
        sa.Column("sdx_seq", sa.BigInteger, nullable=False),
        sa.Column("sdx_warnings", sa.Text),
        sa.Column("sdx_run_id", sa.String(250), nullable=False),
        sa.Column("sdx_updated_at", sa.DateTime, nullable=False),
        comment=resource.title,
    )


def exchange_table_name(resource: Resource) -> str:
    """The resource's table in the big-data centre's exchange database."""
    return str(resource.receivers["bigdata_centre"]["table"]).lower()


def exchange_table(resource: Resource, metadata: sa.MetaData) -> sa.Table:
    """The exchange table: the resource's data columns plus the contract's control columns."""
    name = exchange_table_name(resource)
    if name in metadata.tables:
        return metadata.tables[name]
    return sa.Table(
        name,
        metadata,
        sa.Column("hj_jlid", sa.String(64), primary_key=True),
        sa.Column("hj_czlx", sa.CHAR(1), nullable=False),
        sa.Column("hj_pch", sa.String(64), nullable=False),
        sa.Column("hj_xh", sa.BigInteger, nullable=False, index=True),
        sa.Column("hj_sjzw", sa.CHAR(64), nullable=False),
        sa.Column("hj_xzqhdm", sa.String(12), nullable=False),
        sa.Column("hj_xydw", sa.String(18), nullable=False),
        sa.Column("hj_tssj", CONTROL_TIMESTAMP, nullable=False),
        sa.Column("hj_zt", sa.CHAR(1), nullable=False, server_default="0"),
        sa.Column("hj_fkxx", sa.String(500)),
        sa.Column("hj_qssj", CONTROL_TIMESTAMP),
        *(sa.Column(it.name, _sql_type(it), comment=it.title) for it in resource.items),
        comment=resource.title,
    )


def push_log_table(metadata: sa.MetaData) -> sa.Table:
    """EX_TSRZ, the exchange database's push log: one row per batch that wrote something."""
    if "ex_tsrz" in metadata.tables:
        return metadata.tables["ex_tsrz"]
    return sa.Table(
        "ex_tsrz",
        metadata,
        sa.Column("pch", sa.String(64), primary_key=True),
        sa.Column("bm", sa.String(64), nullable=False),
        sa.Column("zs", sa.Integer, nullable=False),
        sa.Column("xzs", sa.Integer, nullable=False),
        sa.Column("gxs", sa.Integer, nullable=False),
        sa.Column("scs", sa.Integer, nullable=False),
        sa.Column("zwhz", sa.CHAR(64), nullable=False),
        sa.Column("kssj", CONTROL_TIMESTAMP, nullable=False),
        sa.Column("jssj", CONTROL_TIMESTAMP, nullable=False),
    )
