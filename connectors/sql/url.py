"""Turning an Airflow connection into a SQLAlchemy URL."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa

# Airflow connection type → SQLAlchemy dialect+driver. Pure-Python or binary-wheel drivers only, so
# nothing needs compiling on a user's machine. Oracle and SQL Server work the same way through an
# explicit `sqlalchemy_url` extra with their driver installed.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
    "oracle": "oracle+oracledb",
    "mssql": "mssql+pymssql",
}


class ConnectionLike(Protocol):
    """The fields of an Airflow connection this module reads."""

    conn_id: str
    conn_type: str | None
    host: str | None
    port: int | None
    login: str | None
    password: str | None
    schema: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...  # noqa: D102


class ConnectionConfigError(ValueError):
    """An Airflow connection cannot describe a SQL database; the message names the connection id."""


def sqlalchemy_url(conn: ConnectionLike) -> sa.URL:
    """The SQLAlchemy URL of a connection; an explicit `sqlalchemy_url` extra wins."""
    explicit = conn.extra_dejson.get("sqlalchemy_url")
    if explicit:
        return sa.make_url(explicit)
    conn_type = (conn.conn_type or "").lower()
    if conn_type not in DRIVERS:
        raise ConnectionConfigError(
            f"connection {conn.conn_id!r} has type {conn.conn_type!r}; expected one of {sorted(DRIVERS)} "
            "or an extra field 'sqlalchemy_url'"
        )
    if conn_type == "sqlite":
        # Airflow's SQLite connections keep the file path in `host`.
        path = conn.host or conn.schema or ""
        if not path:
            raise ConnectionConfigError(
                f"connection {conn.conn_id!r}: a SQLite connection needs the file path as host"
            )
        return sa.URL.create("sqlite", database=path)
    query = {"charset": "utf8mb4"} if DRIVERS[conn_type].startswith("mysql") else {}
    return sa.URL.create(
        DRIVERS[conn_type],
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
        query=query,
    )
