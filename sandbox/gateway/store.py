"""What the stand-in holds, in one SQLite file: records, tokens, nonces and stored answers survive a restart."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.canonical import sorted_lines_digest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    receiver TEXT NOT NULL, resource TEXT NOT NULL, record_id TEXT NOT NULL,
    seq INTEGER NOT NULL, op TEXT NOT NULL, digest TEXT NOT NULL, received_at TEXT NOT NULL, data TEXT,
    PRIMARY KEY (receiver, resource, record_id)
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, app_key TEXT NOT NULL, scope TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    app_key TEXT NOT NULL, nonce TEXT NOT NULL, seen_at REAL NOT NULL, PRIMARY KEY (app_key, nonce)
);
CREATE TABLE IF NOT EXISTS answers (
    scope TEXT NOT NULL, app_key TEXT NOT NULL, request_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT NOT NULL, stored_at REAL NOT NULL,
    PRIMARY KEY (scope, app_key, request_id)
);
-- Expired nonces and answers are purged on every call: by index, not by a scan.
CREATE INDEX IF NOT EXISTS nonces_seen ON nonces (seen_at);
CREATE INDEX IF NOT EXISTS answers_stored ON answers (stored_at);
"""


@dataclass(frozen=True)
class HeldRecord:
    """One record as a receiver holds it (the latest applied version)."""

    record_id: str
    seq: int
    op: str
    digest: str
    received_at: str
    data: Any


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept for replay under its request id."""

    fingerprint: str
    status: int
    body: dict[str, Any]


class GatewayStore:
    """The stand-in's state; one connection guarded by a lock, since requests run on several threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of the process loses nothing
        # committed (only a power cut could), and a push no longer waits for the disk (a fifth of its time).
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self.lock = threading.RLock()

    def close(self) -> None:
        """Close the file."""
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: a push applies all of its records and stores its answer together, or nothing."""
        with self.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- tokens and nonces ----
    def add_token(self, token: str, app_key: str, scope: str, expires_at: float) -> None:
        """Remember an issued token."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)", (token, app_key, scope, expires_at))

    def token(self, token: str) -> tuple[str, str, float] | None:
        """(app key, scope, expiry) of a token, or None when never issued."""
        with self.lock:
            row = self._conn.execute(
                "SELECT app_key, scope, expires_at FROM tokens WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def end_token(self, token: str) -> None:
        """End a token early (the receiver's right, answered by 40101)."""
        with self.transaction() as conn:
            conn.execute("UPDATE tokens SET expires_at = 0 WHERE token = ?", (token,))

    def use_nonce(self, app_key: str, nonce: str, now: float, window: float) -> bool:
        """Record a nonce; False when the app key used it within `window` seconds."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM nonces WHERE seen_at < ?", (now - window,))
            seen = conn.execute(
                "SELECT 1 FROM nonces WHERE app_key = ? AND nonce = ?", (app_key, nonce)
            ).fetchone()
            if seen:
                return False
            conn.execute("INSERT INTO nonces VALUES (?, ?, ?)", (app_key, nonce, now))
            return True

    # ---- idempotency ----
    def answer(
        self, scope: str, app_key: str, request_id: str, now: float, window: float
    ) -> StoredAnswer | None:
        """The answer stored for a request id within `window` seconds, or None."""
        with self.lock:
            self._conn.execute("DELETE FROM answers WHERE stored_at < ?", (now - window,))
            row = self._conn.execute(
                "SELECT fingerprint, status, body FROM answers WHERE scope = ? AND app_key = ? AND request_id = ?",
                (scope, app_key, request_id),
            ).fetchone()
        return None if row is None else StoredAnswer(row[0], row[1], json.loads(row[2]))

    @staticmethod
    def store_answer(
        conn: sqlite3.Connection, key: tuple[str, str, str], answer: StoredAnswer, now: float
    ) -> None:
        """Keep an answer for replay (inside the transaction that applied the request)."""
        conn.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*key, answer.fingerprint, answer.status, json.dumps(answer.body, ensure_ascii=False), now),
        )

    # ---- records ----
    @staticmethod
    def held(
        conn: sqlite3.Connection, receiver: str, resource: str, record_id: str
    ) -> tuple[int, str] | None:
        """(seq, digest) of the version held, or None."""
        row = conn.execute(
            "SELECT seq, digest FROM records WHERE receiver = ? AND resource = ? AND record_id = ?",
            (receiver, resource, record_id),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    @staticmethod
    def put(conn: sqlite3.Connection, receiver: str, resource: str, record: HeldRecord) -> None:
        """Upsert a record version."""
        conn.execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                receiver,
                resource,
                record.record_id,
                record.seq,
                record.op,
                record.digest,
                record.received_at,
                None if record.data is None else json.dumps(record.data, ensure_ascii=False),
            ),
        )

    def records(self, receiver: str, resource: str, offset: int = 0, limit: int = -1) -> list[HeldRecord]:
        """Held records ordered by record id in UTF-8 byte order (SQLite's BINARY collation on UTF-8 text)."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT record_id, seq, op, digest, received_at, data FROM records"
                " WHERE receiver = ? AND resource = ? ORDER BY record_id LIMIT ? OFFSET ?",
                (receiver, resource, limit, offset),
            ).fetchall()
        return [
            HeldRecord(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else json.loads(r[5])) for r in rows
        ]

    def total(self, receiver: str, resource: str) -> int:
        """How many records are held, live and deleted."""
        with self.lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM records WHERE receiver = ? AND resource = ?", (receiver, resource)
            ).fetchone()
        return int(row[0])

    def summary(self, receiver: str, resource: str) -> dict[str, Any]:
        """Live and deleted counts and the SM3 over the live records' sorted `recordId:digest` lines."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT record_id, op, digest FROM records WHERE receiver = ? AND resource = ?",
                (receiver, resource),
            ).fetchall()
        live = [(rid, digest) for rid, op, digest in rows if op != "D"]
        return {"live": len(live), "deleted": len(rows) - len(live), "digest": sorted_lines_digest(live)}
