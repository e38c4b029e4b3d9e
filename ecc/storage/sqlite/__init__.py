"""The embedded backend: one SQLite file (stdlib sqlite3, WAL)."""

from __future__ import annotations

from pathlib import Path

from ecc.storage.sqlite import (
    alerts,
    audit,
    dead_letters,
    deliveries,
    incidents,
    motion_events,
    positions,
    readings,
    recordings,
    state,
    users,
)
from ecc.storage.sqlite.db import Database

SCHEMAS = [
    readings.SCHEMA,
    dead_letters.SCHEMA,
    alerts.SCHEMA,
    users.SCHEMA,
    audit.SCHEMA,
    state.SCHEMA,
    motion_events.SCHEMA,
    deliveries.SCHEMA,
    positions.SCHEMA,
    recordings.SCHEMA,
    incidents.SCHEMA,
]


class SQLiteStore:
    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.db = Database(path, SCHEMAS)
        self.readings = readings.SQLiteReadings(self.db)
        self.dead_letters = dead_letters.SQLiteDeadLetters(self.db)
        self.alerts = alerts.SQLiteAlerts(self.db)
        self.users = users.SQLiteUsers(self.db)
        self.audit = audit.SQLiteAudit(self.db)
        self.state = state.SQLiteState(self.db)
        self.motion_events = motion_events.SQLiteMotionEvents(self.db)
        self.deliveries = deliveries.SQLiteDeliveries(self.db)
        self.recordings = recordings.SQLiteRecordings(self.db)
        self.positions = positions.SQLitePositions(self.db)
        self.incidents = incidents.SQLiteIncidents(self.db)

    def ping(self) -> bool:
        return bool(self.db.conn().execute("SELECT 1").fetchone() == (1,))

    def close(self) -> None:
        self.db.close()
