from __future__ import annotations

from collections.abc import Sequence

from ecc.storage.models import DeadLetter
from ecc.storage.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_received ON dead_letters (received_at)
"""


class SQLiteDeadLetters:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO dead_letters (received_at, topic, reason, raw) VALUES (?, ?, ?, ?)",
                [(d.received_at, d.topic, d.reason, d.raw) for d in letters],
            )

    def list(self, since: float | None = None, limit: int = 1000) -> list[DeadLetter]:
        rows = (
            self._db.conn()
            .execute(
                "SELECT id, received_at, topic, reason, raw FROM dead_letters"
                " WHERE received_at >= ? ORDER BY received_at DESC, id DESC LIMIT ?",
                (since if since is not None else float("-inf"), limit),
            )
            .fetchall()
        )
        return [
            DeadLetter(topic=t, reason=r, raw=bytes(raw), received_at=ts, id=str(i))
            for i, ts, t, r, raw in reversed(rows)
        ]

    def count(self) -> int:
        return int(self._db.conn().execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def count_by_reason(self) -> dict[str, int]:
        rows = (
            self._db.conn()
            .execute(
                "SELECT CASE WHEN instr(reason, ':') > 0"
                " THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS cat,"
                " count(*) FROM dead_letters GROUP BY cat"
            )
            .fetchall()
        )
        return {cat: int(n) for cat, n in rows}
