"""SQL is built with bound parameters and SQLAlchemy's quoting: no statement text is pasted together.

Every call that hands text to a database (`text()`, `exec_driver_sql()`, `execute()`, `executescript()`) in
the packages must get a literal string. The few that cannot (a statement with an identifier in it where no
bound parameter may stand) are listed below with why the identifier is safe.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("catalog", "schemas", "quality", "connectors", "exchange", "sandbox", "dags")
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executescript", "executemany"}
# file → the statement's first word, with why its identifier cannot carry anything but a table name.
JUSTIFIED = {
    ("connectors/exchange_db/hook.py", "LOCK"): "PostgreSQL's LOCK TABLE takes no bound parameter; the "
    "name is the catalogue's table, quoted by the dialect's identifier preparer",
    ("connectors/sql/bulk.py", "ANALYZE"): "ANALYZE takes no bound parameter; the name is one of our "
    "tables, quoted by the dialect's identifier preparer",
}


def _is_pasted(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return any(isinstance(side, (ast.Constant, ast.JoinedStr)) for side in (node.left, node.right))
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def _first_word(node: ast.expr) -> str:
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str) and part.value.strip():
            return part.value.split()[0].upper()
    return ""


def pasted_statements(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line, first word) of every SQL call in the packages whose statement is pasted together."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if name in SQL_CALLS and _is_pasted(node.args[0]):
                    found.append((str(path.relative_to(root)), node.lineno, _first_word(node.args[0])))
    return found


def test_every_statement_is_a_literal_or_justified():
    unjustified = [
        f"{f}:{line} ({word})" for f, line, word in pasted_statements() if (f, word) not in JUSTIFIED
    ]
    assert unjustified == [], (
        "SQL pasted together; bind the values or quote the identifier and justify it here"
    )


def test_the_check_finds_pasted_statements(tmp_path):
    (tmp_path / "exchange").mkdir()
    (tmp_path / "exchange" / "bad.py").write_text(
        "def f(conn, name, sa):\n"
        "    conn.execute(sa.text(f'SELECT * FROM t WHERE name = {name}'))\n"
        "    conn.exec_driver_sql('DELETE FROM t WHERE id = %s' % name)\n"
        "    conn.execute(sa.text('SELECT 1 WHERE x = :x'), {'x': name})\n"
    )
    assert sorted((line, word) for _, line, word in pasted_statements(tmp_path)) == [
        (2, "SELECT"),
        (3, "DELETE"),
    ]


def test_justified_statements_still_exist():
    # An entry whose statement is gone must be removed, or it would excuse a new one.
    assert {(f, word) for f, _, word in pasted_statements()} >= set(JUSTIFIED)
