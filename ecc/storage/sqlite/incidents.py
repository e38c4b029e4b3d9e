"""Incidents in SQLite: one row per incident holding its document (JSON), and two link tables.

`incident_alerts` is keyed by the alert: its primary key is what keeps an alert in one incident
at most. `incident_vehicles` finds the incidents that have tasks for a vehicle (the vehicle page,
the geofence) without reading every incident. Every change runs in one write transaction
(BEGIN IMMEDIATE takes the database's write lock), which also serializes the automatic rule's
open-or-join across processes sharing the file.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Callable
from dataclasses import replace

import orjson

from ecc.storage.errors import Conflict, NotFound
from ecc.storage.incident_doc import alert_ids, from_doc, task_vehicles, to_doc
from ecc.storage.models import Incident, IncidentState
from ecc.storage.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    opened_at REAL NOT NULL,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_opened ON incidents (opened_at);
CREATE INDEX IF NOT EXISTS incidents_state ON incidents (state, opened_at);
CREATE TABLE IF NOT EXISTS incident_alerts (
    alert_id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS incident_vehicles (
    vehicle_id TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    PRIMARY KEY (vehicle_id, incident_id)
) WITHOUT ROWID
"""

_COLUMNS = "id, rev, doc"


def _row(row: tuple[str, int, str]) -> Incident:
    incident_id, rev, doc = row
    return from_doc(incident_id, rev, orjson.loads(doc))


def _read(conn: sqlite3.Connection, incident_id: str) -> Incident:
    row = conn.execute(f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return _row(row)


def _open(conn: sqlite3.Connection) -> list[Incident]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM incidents WHERE state != 'closed' ORDER BY opened_at, id"
    ).fetchall()
    return [_row(r) for r in rows]


def _write(conn: sqlite3.Connection, before: Incident | None, after: Incident) -> Incident:
    """Insert or update `after` (with its rev bumped) and bring the link tables in line."""
    stored = replace(after, rev=0 if before is None else before.rev + 1)
    doc = orjson.dumps(to_doc(stored)).decode()
    if before is None:
        try:
            conn.execute(
                "INSERT INTO incidents (id, state, opened_at, rev, doc) VALUES (?, ?, ?, ?, ?)",
                (stored.id, stored.state, stored.opened_at, stored.rev, doc),
            )
        except sqlite3.IntegrityError:
            raise Conflict(f"incident {stored.id} exists") from None
    else:
        conn.execute(
            "UPDATE incidents SET state = ?, opened_at = ?, rev = ?, doc = ? WHERE id = ?",
            (stored.state, stored.opened_at, stored.rev, doc, stored.id),
        )
    had = set() if before is None else alert_ids(before)
    has = alert_ids(stored)
    for alert_id in sorted(has - had):
        try:
            conn.execute("INSERT INTO incident_alerts VALUES (?, ?)", (alert_id, stored.id))
        except sqlite3.IntegrityError:
            raise Conflict(f"alert {alert_id} is linked to another incident") from None
    for alert_id in had - has:
        conn.execute(
            "DELETE FROM incident_alerts WHERE alert_id = ? AND incident_id = ?",
            (alert_id, stored.id),
        )
    conn.execute("DELETE FROM incident_vehicles WHERE incident_id = ?", (stored.id,))
    conn.executemany(
        "INSERT INTO incident_vehicles VALUES (?, ?)",
        [(v, stored.id) for v in sorted(task_vehicles(stored))],
    )
    return stored


class SQLiteIncidents:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, incident: Incident) -> Incident:
        with self._db.write() as conn:
            return _write(conn, None, incident)

    def get(self, incident_id: str) -> Incident:
        return _read(self._db.conn(), incident_id)

    def change(self, incident_id: str, apply: Callable[[Incident], Incident]) -> Incident:
        with self._db.write() as conn:
            before = _read(conn, incident_id)
            after = apply(before)
            if after.id != before.id:
                raise ValueError("a change cannot give an incident another id")
            if after == before:
                return before
            return _write(conn, before, after)

    def open_or_join(self, alert_id: str, decide: Callable[[list[Incident]], Incident]) -> Incident:
        with self._db.write() as conn:
            linked = conn.execute(
                "SELECT incident_id FROM incident_alerts WHERE alert_id = ?", (alert_id,)
            ).fetchone()
            if linked is not None:
                raise Conflict(f"alert {alert_id} is linked to incident {linked[0]}")
            candidates = _open(conn)
            after = decide(candidates)
            before = next((i for i in candidates if i.id == after.id), None)
            return _write(conn, before, after)

    def for_alert(self, alert_id: str) -> Incident | None:
        row = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM incidents WHERE id ="
                " (SELECT incident_id FROM incident_alerts WHERE alert_id = ?)",
                (alert_id,),
            )
            .fetchone()
        )
        return None if row is None else _row(row)

    def for_vehicle(self, vehicle_id: str) -> builtins.list[Incident]:
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM incidents WHERE state != 'closed' AND id IN"
                " (SELECT incident_id FROM incident_vehicles WHERE vehicle_id = ?)"
                " ORDER BY opened_at, id",
                (vehicle_id,),
            )
            .fetchall()
        )
        return [_row(r) for r in rows]

    def list(
        self,
        state: IncidentState | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[Incident]:
        if limit <= 0:
            return []
        where = ["opened_at >= ?"]
        args: list[object] = [since if since is not None else float("-inf")]
        if state is not None:
            where.append("state = ?")
            args.append(state)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM incidents WHERE {' AND '.join(where)}"
                " ORDER BY opened_at DESC, id DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_row(r) for r in reversed(rows)]

    def list_open(self) -> builtins.list[Incident]:
        return _open(self._db.conn())
