"""Whether two MariaDB key columns order values alike, from their own or their table's collation."""

from __future__ import annotations

from pipeline_checks import legacy_hook_after


def test_key_columns_compare_alike_only_under_the_same_collation(mariadb_url, use_connections):
    hook = legacy_hook_after(
        mariadb_url,
        use_connections,
        "CREATE TABLE p (K VARCHAR(32) PRIMARY KEY) COLLATE utf8mb4_general_ci",
        "CREATE TABLE same (K VARCHAR(32)) COLLATE utf8mb4_general_ci",
        "CREATE TABLE other (K VARCHAR(32)) COLLATE utf8mb4_bin",
        "CREATE TABLE own (K VARCHAR(32) COLLATE utf8mb4_bin) COLLATE utf8mb4_general_ci",
    )
    assert hook.collation("p", "K") == hook.collation("same", "K") == "utf8mb4_general_ci"
    assert hook.collation("p", "K") != hook.collation("other", "K")
    assert hook.collation("own", "K") == hook.collation("other", "K") == "utf8mb4_bin"
    hook.dispose()
