import json

import pytest

from connectors.sql.url import ConnectionConfigError, sqlalchemy_url


class FakeConnection:
    def __init__(
        self, conn_id, conn_type, host=None, port=None, login=None, password=None, schema=None, extra=None
    ):
        self.conn_id, self.conn_type, self.host, self.port = conn_id, conn_type, host, port
        self.login, self.password, self.schema, self._extra = login, password, schema, extra or {}

    @property
    def extra_dejson(self):
        return self._extra


def test_mysql_connection_uses_pymysql_and_utf8mb4():
    url = sqlalchemy_url(FakeConnection("legacy", "mysql", "db.local", 3306, "reader", "s3cret", "ajj"))
    assert url.drivername == "mysql+pymysql"
    assert url.query["charset"] == "utf8mb4"
    assert (url.host, url.port, url.database, url.username) == ("db.local", 3306, "ajj", "reader")
    assert "s3cret" not in url.render_as_string(hide_password=True)


def test_postgres_connection_uses_psycopg3():
    assert (
        sqlalchemy_url(FakeConnection("c", "postgres", "h", 5432, "u", None, "d")).drivername
        == "postgresql+psycopg"
    )


def test_sqlite_connection_takes_the_path_from_host():
    assert sqlalchemy_url(FakeConnection("c", "sqlite", "/tmp/x.db")).database == "/tmp/x.db"


def test_explicit_sqlalchemy_url_wins():
    conn = FakeConnection("c", "generic", extra={"sqlalchemy_url": "oracle+oracledb://u:p@h/svc"})
    assert sqlalchemy_url(conn).drivername == "oracle+oracledb"


def test_unknown_type_names_the_connection():
    with pytest.raises(ConnectionConfigError, match="'legacy_supervision'"):
        sqlalchemy_url(FakeConnection("legacy_supervision", "ftp"))


def test_hook_reads_its_connection_from_the_environment(monkeypatch, tmp_path):
    from connectors.legacy.hook import LegacySupervisionHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_LEGACY_SUPERVISION", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "l.db")})
    )
    ok, message = LegacySupervisionHook().test_connection()
    assert ok, message


def test_hook_test_connection_reports_failure_without_raising(monkeypatch, tmp_path):
    from connectors.legacy.hook import LegacySupervisionHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_LEGACY_SUPERVISION",
        json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "no" / "dir.db")}),
    )
    ok, message = LegacySupervisionHook().test_connection()
    assert not ok and "OperationalError" in message
