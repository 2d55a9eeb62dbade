"""The legacy tables parsed from the project's copy of the DDL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sandbox.legacy.tables import LEGACY_SPECS, LEGACY_TABLES, parse_schema, read_schema_sql


def test_every_create_table_becomes_a_table_in_ddl_order() -> None:
    ddl = read_schema_sql()
    assert (
        list(LEGACY_TABLES)
        == [spec.name for spec in LEGACY_SPECS]
        == list(
            dict.fromkeys(line.split()[2] for line in ddl.splitlines() if line.startswith("CREATE TABLE"))
        )
    )
    assert len(LEGACY_TABLES) == 12


def test_columns_keep_names_types_keys_and_not_null() -> None:
    enterprises = LEGACY_TABLES["T_QY_JBXX"]
    assert enterprises.name == "T_QY_JBXX" and getattr(enterprises.name, "quote", None) is True
    assert [column.name for column in enterprises.primary_key] == ["QYID"]
    qyid, flag = enterprises.c.QYID.type, enterprises.c.SFWHQY.type
    assert isinstance(qyid, sa.String) and qyid.length == 32 and not enterprises.c.QYID.nullable
    assert isinstance(flag, sa.String) and flag.length == 1  # CHAR(1) becomes a string of 1
    assert isinstance(enterprises.c.GXSJ.type, sa.DateTime) and enterprises.c.GXSJ.nullable
    assert isinstance(LEGACY_TABLES["T_DM_SXLX"].c.YXQNS.type, sa.Integer)
    attributes = LEGACY_TABLES["T_XK_KZ"]
    assert not attributes.c.ZSID.nullable and not attributes.c.SXMC.nullable and attributes.c.SXZ.nullable
    assert all(
        column.name.isupper() and getattr(column.name, "quote", None)
        for table in LEGACY_TABLES.values()
        for column in table.c
    )


def test_comments_travel_with_the_columns() -> None:
    assert LEGACY_TABLES["T_QY_JBXX"].c.SCBZ.comment == "删除标志 '1' = deleted"
    assert (LEGACY_TABLES["T_XK_KZ"].comment or "").startswith("许可扩展属性")


def test_an_unreadable_column_line_fails_loudly() -> None:
    with pytest.raises(ValueError, match="BROKEN"):
        parse_schema("CREATE TABLE T_X (  -- x\n  A VARCHAR(2),\n  BROKEN BLOB\n);")


def test_tables_create_on_sqlite(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'schema.sqlite'}")
    next(iter(LEGACY_TABLES.values())).metadata.create_all(engine)
    assert set(sa.inspect(engine).get_table_names()) == set(LEGACY_TABLES)
    engine.dispose()
