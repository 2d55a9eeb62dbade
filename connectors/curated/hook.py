"""The curated city safety database hook."""

from __future__ import annotations

from typing import ClassVar

from connectors.sql.hook import SqlAlchemyHook


class CuratedDatabaseHook(SqlAlchemyHook):
    """The curated database (PostgreSQL in production, SQLite in the demo) on connection `curated`."""

    default_conn_name: ClassVar[str] = "curated"
    hook_name: ClassVar[str] = "Curated city safety database"
