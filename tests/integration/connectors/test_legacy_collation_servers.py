"""Whether two MariaDB key columns order values alike, from their own or their table's collation."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.legacy.hook import LegacySupervisionHook


def test_key_columns_compare_alike_only_under_the_same_collation(mariadb_url, use_connections):
    use_connections(legacy_supervision=mariadb_url)
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE p (K VARCHAR(32) PRIMARY KEY) COLLATE utf8mb4_general_ci"))
        conn.execute(sa.text("CREATE TABLE same (K VARCHAR(32)) COLLATE utf8mb4_general_ci"))
        conn.execute(sa.text("CREATE TABLE other (K VARCHAR(32)) COLLATE utf8mb4_bin"))
        conn.execute(
            sa.text("CREATE TABLE own (K VARCHAR(32) COLLATE utf8mb4_bin) COLLATE utf8mb4_general_ci")
        )
    engine.dispose()
    hook = LegacySupervisionHook()
    assert hook.collation("p", "K") == hook.collation("same", "K") == "utf8mb4_general_ci"
    assert hook.collation("p", "K") != hook.collation("other", "K")
    assert hook.collation("own", "K") == hook.collation("other", "K") == "utf8mb4_bin"
    hook.dispose()
