from __future__ import annotations

import builtins
import sqlite3
import uuid
from dataclasses import asdict
from typing import Any

import orjson

from ecc.storage.errors import Conflict, NotFound
from ecc.storage.lifecycle import acknowledged, escalated, resolved
from ecc.storage.models import (
    Alert,
    AlertEvent,
    AlertState,
    NewAlert,
    Severity,
    SourceType,
    open_key,
)
from ecc.storage.sqlite.db import Database

# `open_key` is set while an alert is unresolved and NULL after: its UNIQUE constraint is what
# keeps one open alert per (source, kind, metric), even with several workers writing.
SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    metric TEXT,
    value REAL,
    threshold REAL,
    message TEXT NOT NULL,
    raised_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    acknowledged_at REAL,
    acknowledged_by TEXT,
    resolved_at REAL,
    require_ack INTEGER NOT NULL,
    open_key TEXT UNIQUE,
    history TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_raised ON alerts (raised_at);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, raised_at)
"""

_COLUMNS = (
    "id, kind, severity, state, source_type, source_id, metric, value, threshold, message,"
    " raised_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, require_ack, history"
)


_FIELDS = tuple(name.strip() for name in _COLUMNS.split(","))


def _row(row: tuple[Any, ...]) -> Alert:
    fields = dict(zip(_FIELDS, row, strict=True))
    fields["require_ack"] = bool(fields["require_ack"])
    fields["history"] = tuple(AlertEvent(**e) for e in orjson.loads(fields["history"]))
    return Alert(**fields)


def _history(alert: Alert) -> bytes:
    return orjson.dumps([asdict(e) for e in alert.history])


class SQLiteAlerts:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, new: NewAlert) -> Alert:
        alert = Alert(
            id=uuid.uuid4().hex,
            kind=new.kind,
            severity=new.severity,
            state="active",
            source_type=new.source_type,
            source_id=new.source_id,
            metric=new.metric,
            value=new.value,
            threshold=new.threshold,
            message=new.message,
            raised_at=new.raised_at,
            updated_at=new.raised_at,
            require_ack=new.require_ack,
            history=(AlertEvent(new.raised_at, "raised", new.severity, new.value, new.threshold),),
        )
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO alerts ({_COLUMNS}, open_key)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        alert.id,
                        alert.kind,
                        alert.severity,
                        alert.state,
                        alert.source_type,
                        alert.source_id,
                        alert.metric,
                        alert.value,
                        alert.threshold,
                        alert.message,
                        alert.raised_at,
                        alert.updated_at,
                        None,
                        None,
                        None,
                        int(alert.require_ack),
                        _history(alert),
                        alert.open_key,
                    ),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"an alert is already open for {alert.open_key}") from None
        return alert

    def _change(self, alert_id: str, change: Any) -> Alert:
        with self._db.write() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no alert {alert_id}")
            alert: Alert = change(_row(row))
            conn.execute(
                "UPDATE alerts SET severity = ?, state = ?, value = ?, threshold = ?, message = ?,"
                " updated_at = ?, acknowledged_at = ?, acknowledged_by = ?, resolved_at = ?,"
                " open_key = ?, history = ? WHERE id = ?",
                (
                    alert.severity,
                    alert.state,
                    alert.value,
                    alert.threshold,
                    alert.message,
                    alert.updated_at,
                    alert.acknowledged_at,
                    alert.acknowledged_by,
                    alert.resolved_at,
                    None if alert.state == "resolved" else alert.open_key,
                    _history(alert),
                    alert_id,
                ),
            )
        return alert

    def escalate(
        self,
        alert_id: str,
        severity: Severity,
        value: float | None,
        threshold: float | None,
        message: str,
        ts: float,
    ) -> Alert:
        return self._change(
            alert_id, lambda a: escalated(a, severity, value, threshold, message, ts)
        )

    def acknowledge(self, alert_id: str, by: str, ts: float, note: str | None = None) -> Alert:
        return self._change(alert_id, lambda a: acknowledged(a, by, ts, note))

    def resolve(
        self, alert_id: str, ts: float, by: str | None = None, value: float | None = None
    ) -> Alert:
        return self._change(alert_id, lambda a: resolved(a, ts, by, value))

    def get(self, alert_id: str) -> Alert:
        row = (
            self._db.conn()
            .execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        return _row(row)

    def find_open(
        self, source_type: SourceType, source_id: str, kind: str, metric: str | None
    ) -> Alert | None:
        row = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM alerts WHERE open_key = ?",
                (open_key(source_type, source_id, kind, metric),),
            )
            .fetchone()
        )
        return None if row is None else _row(row)

    def list(
        self, state: AlertState | None = None, since: float | None = None, limit: int = 1000
    ) -> list[Alert]:
        where = ["raised_at >= ?"]
        args: list[object] = [since if since is not None else float("-inf")]
        if state is not None:
            where.append("state = ?")
            args.append(state)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM alerts WHERE {' AND '.join(where)}"
                " ORDER BY raised_at DESC, id DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_row(r) for r in reversed(rows)]

    def list_open(self) -> builtins.list[Alert]:
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM alerts WHERE open_key IS NOT NULL ORDER BY raised_at, id"
            )
            .fetchall()
        )
        return [_row(r) for r in rows]
