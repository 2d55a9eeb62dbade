"""The base hook of every SQL connector: one engine per hook, built from the hook's connection."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from airflow.sdk import BaseHook

from connectors.sql.engine import create_engine
from connectors.sql.url import sqlalchemy_url


class SqlAlchemyHook(BaseHook):
    """A SQL database reached through SQLAlchemy, configured only by its Airflow connection id."""

    conn_name_attr: ClassVar[str] = "conn_id"
    default_conn_name: ClassVar[str] = ""
    conn_type: ClassVar[str] = "generic"
    hook_name: ClassVar[str] = "SQL database (SQLAlchemy)"
    # A hook that only reads (the legacy source) never takes a database's write lock.
    read_only: ClassVar[bool] = False

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name
        self._engine: sa.Engine | None = None

    @property
    def url(self) -> sa.URL:
        """The database URL from the connection (render it only with the password hidden)."""
        return sqlalchemy_url(self.get_connection(self.conn_id))

    def get_conn(self) -> sa.Engine:
        """The hook's engine, created on first use."""
        if self._engine is None:
            self._engine = create_engine(self.url, read_only=self.read_only)
        return self._engine

    @property
    def dialect(self) -> str:
        """The dialect name (sqlite, postgresql, mysql, …)."""
        return self.get_conn().dialect.name

    def test_connection(self) -> tuple[bool, str]:
        """Connect and run a trivial query; never raises."""
        try:
            with self.get_conn().connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # any driver error is a failed test, reported as text
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"connected to {self.url.render_as_string(hide_password=True)}"

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
