"""The legacy generator on MariaDB and PostgreSQL: the same database as on SQLite, value for value."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.legacy import LEGACY_TABLES, generate_legacy

SCALE = 0.01
SEED = 7


def _content(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(tuple(row) for row in conn.execute(sa.select(table)))
                for name, table in LEGACY_TABLES.items()
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sqlite_reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, int], dict[str, list[tuple]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'legacy.sqlite'}"
    summary = generate_legacy(url, scale=SCALE, seed=SEED)
    return summary.rows, _content(url)


@pytest.mark.integration
@pytest.mark.parametrize("server", ["mariadb_url", "postgres_url"])
def test_server_gets_the_same_tables_rows_and_values_as_sqlite(
    server: str,
    request: pytest.FixtureRequest,
    sqlite_reference: tuple[dict[str, int], dict[str, list[tuple]]],
) -> None:
    url = request.getfixturevalue(server)
    summary = generate_legacy(url, scale=SCALE, seed=SEED)
    rows, content = sqlite_reference
    assert summary.rows == rows
    stored = _content(url)
    assert {name: len(values) for name, values in stored.items()} == rows
    # Upper-case names survive PostgreSQL; text (padding, U+3000, zero-width, CRLF) survives utf8mb4.
    engine = sa.create_engine(url)
    assert set(sa.inspect(engine).get_table_names()) >= set(LEGACY_TABLES)
    engine.dispose()
    for name in LEGACY_TABLES:
        assert stored[name] == content[name], name


@pytest.mark.integration
def test_generating_twice_on_a_server_replaces_the_tables(postgres_url: str, tmp_path: Path) -> None:
    generate_legacy(postgres_url, scale=0.02, seed=1)
    summary = generate_legacy(postgres_url, scale=SCALE, seed=1, truth_path=tmp_path / "truth.parquet")
    assert _content(postgres_url)["T_QY_JBXX"].__len__() == summary.rows["T_QY_JBXX"]
    assert (tmp_path / "truth.parquet").stat().st_size > 0
