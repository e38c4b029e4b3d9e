from __future__ import annotations

import builtins
from typing import Any

from ecc.storage.models import Delivery
from ecc.storage.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    webhook TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    event TEXT NOT NULL,
    severity TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    ts REAL NOT NULL,
    ok INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_key ON deliveries (key, attempt);
CREATE INDEX IF NOT EXISTS deliveries_ts ON deliveries (ts);
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries (alert_id, ts)
"""

_COLUMNS = (
    "id, key, webhook, alert_id, event, severity, attempt, ts, ok, status, error, duration_ms"
)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    i, key, webhook, alert_id, event, severity, attempt, ts, ok, status, error, ms = row
    return Delivery(
        key, webhook, alert_id, event, severity, attempt, ts, bool(ok), status, error, ms, str(i)
    )


class SQLiteDeliveries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, attempt: Delivery) -> None:
        a = attempt
        with self._db.write() as conn:
            conn.execute(
                f"INSERT INTO deliveries ({_COLUMNS.removeprefix('id, ')})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    a.key,
                    a.webhook,
                    a.alert_id,
                    a.event,
                    a.severity,
                    a.attempt,
                    a.ts,
                    int(a.ok),
                    a.status,
                    a.error,
                    a.duration_ms,
                ),
            )

    def attempts(self, key: str) -> builtins.list[Delivery]:
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM deliveries WHERE key = ? ORDER BY attempt, ts, id", (key,)
            )
            .fetchall()
        )
        return [_delivery(r) for r in rows]

    def list(
        self, since: float | None = None, alert_id: str | None = None, limit: int = 1000
    ) -> builtins.list[Delivery]:
        where: builtins.list[str] = ["ts >= ?"]
        args: builtins.list[float | str] = [since if since is not None else float("-inf")]
        if alert_id is not None:
            where.append("alert_id = ?")
            args.append(alert_id)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM deliveries WHERE {' AND '.join(where)}"
                " ORDER BY ts DESC, id DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_delivery(r) for r in reversed(rows)]
