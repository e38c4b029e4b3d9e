"""Vehicle tracks in SQLite: one row per position, keyed as the contract identifies it."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from ecc.storage.models import Position
from ecc.storage.sqlite.db import Database

# `vehicle_latest` keeps each vehicle's newest position, so the vehicle list needs no scan.
SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    vehicle_id TEXT NOT NULL,
    ts REAL NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    speed REAL,
    heading REAL,
    accuracy REAL,
    PRIMARY KEY (vehicle_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vehicle_latest (
    vehicle_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    speed REAL,
    heading REAL,
    accuracy REAL
) WITHOUT ROWID
"""

_COLUMNS = "vehicle_id, ts, lat, lon, speed, heading, accuracy"
_INSERT = f"INSERT INTO positions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
_LATEST = f"""
INSERT INTO vehicle_latest ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (vehicle_id) DO UPDATE SET ts = excluded.ts, lat = excluded.lat,
    lon = excluded.lon, speed = excluded.speed, heading = excluded.heading,
    accuracy = excluded.accuracy
WHERE excluded.ts > vehicle_latest.ts
"""


def _row(p: Position) -> tuple[Any, ...]:
    return (p.vehicle_id, float(p.ts), p.lat, p.lon, p.speed, p.heading, p.accuracy)


class SQLitePositions:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, batch: Sequence[Position]) -> builtins.list[Position]:
        new: list[Position] = []
        newest: dict[str, Position] = {}
        with self._db.write() as conn:
            cur = conn.cursor()
            for p in batch:
                cur.execute(_INSERT, _row(p))
                if cur.rowcount != 1:
                    continue
                new.append(p)
                if p.vehicle_id not in newest or newest[p.vehicle_id].ts < p.ts:
                    newest[p.vehicle_id] = p
            cur.executemany(_LATEST, [_row(p) for p in newest.values()])
        return new

    def track(
        self, vehicle_id: str, start: float, end: float, limit: int = 100_000
    ) -> builtins.list[Position]:
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM positions WHERE vehicle_id = ? AND ts >= ? AND ts <= ?"
                " ORDER BY ts DESC LIMIT ?",
                (vehicle_id, start, end, limit),
            )
            .fetchall()
        )
        return [Position(*r) for r in reversed(rows)]

    def latest(self, vehicle_id: str | None = None) -> builtins.list[Position]:
        conn = self._db.conn()
        if vehicle_id is None:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM vehicle_latest ORDER BY vehicle_id"
            ).fetchall()
        else:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM vehicle_latest WHERE vehicle_id = ?", (vehicle_id,)
            ).fetchall()
        return [Position(*r) for r in rows]

    def count(self, vehicle_id: str | None = None) -> int:
        conn = self._db.conn()
        if vehicle_id is None:
            return int(conn.execute("SELECT count(*) FROM positions").fetchone()[0])
        return int(
            conn.execute(
                "SELECT count(*) FROM positions WHERE vehicle_id = ?", (vehicle_id,)
            ).fetchone()[0]
        )
