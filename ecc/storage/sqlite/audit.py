from __future__ import annotations

from typing import Any

import orjson

from ecc.storage.models import AuditEntry
from ecc.storage.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    action TEXT NOT NULL,
    username TEXT,
    target TEXT,
    address TEXT,
    status INTEGER,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action, ts)
"""


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    i, ts, action, username, target, address, status, detail = row
    return AuditEntry(
        ts=ts,
        action=action,
        username=username,
        target=target,
        address=address,
        status=status,
        detail=None if detail is None else orjson.loads(detail),
        id=str(i),
    )


class SQLiteAudit:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, entry: AuditEntry) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO audit (ts, action, username, target, address, status, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.ts,
                    entry.action,
                    entry.username,
                    entry.target,
                    entry.address,
                    entry.status,
                    None if entry.detail is None else orjson.dumps(entry.detail).decode(),
                ),
            )

    def list(
        self,
        since: float | None = None,
        username: str | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        where = ["ts >= ?"]
        args: list[object] = [since if since is not None else float("-inf")]
        if username is not None:
            where.append("username = ?")
            args.append(username)
        if action is not None:
            where.append("action = ?")
            args.append(action)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT * FROM audit WHERE {' AND '.join(where)}"
                " ORDER BY ts DESC, id DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_entry(r) for r in reversed(rows)]

    def count(
        self,
        action: str,
        since: float,
        username: str | None = None,
        address: str | None = None,
    ) -> int:
        where, args = ["action = ?", "ts >= ?"], [action, since]
        if username is not None:
            where.append("username = ?")
            args.append(username)
        if address is not None:
            where.append("address = ?")
            args.append(address)
        sql = f"SELECT count(*) FROM audit WHERE {' AND '.join(where)}"
        return int(self._db.conn().execute(sql, args).fetchone()[0])
