"""Motion events in SQLite; an event going on has a NULL end."""

from __future__ import annotations

import builtins
from typing import Any

from ecc.storage.errors import NotFound
from ecc.storage.models import MotionEvent
from ecc.storage.sqlite.db import Database, matching, where

SCHEMA = """
CREATE TABLE IF NOT EXISTS motion_events (
    id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    zone TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL,
    peak_score REAL NOT NULL,
    box_x REAL NOT NULL,
    box_y REAL NOT NULL,
    box_w REAL NOT NULL,
    box_h REAL NOT NULL,
    thumbnail TEXT,
    alert_id TEXT,
    announced INTEGER NOT NULL,
    label TEXT
);
CREATE INDEX IF NOT EXISTS motion_events_camera ON motion_events (camera_id, start);
CREATE INDEX IF NOT EXISTS motion_events_start ON motion_events (start)
"""

_COLUMNS = (
    'id, camera_id, zone, start, "end", peak_score, box_x, box_y, box_w, box_h,'
    " thumbnail, alert_id, announced, label"
)


def _event(row: tuple[Any, ...]) -> MotionEvent:
    i, camera, zone, start, end, peak, x, y, w, h, thumbnail, alert_id, announced, label = row
    return MotionEvent(
        i, camera, zone, start, end, peak, (x, y, w, h), thumbnail, alert_id, bool(announced), label
    )


class SQLiteMotionEvents:
    def __init__(self, db: Database) -> None:
        self._db = db
        with db.write() as conn:
            # Files made before events had a label: add the column (inside the write lock, so
            # two processes opening the file at once do not both add it).
            columns = {row[1] for row in conn.execute("PRAGMA table_info(motion_events)")}
            if "label" not in columns:
                conn.execute("ALTER TABLE motion_events ADD COLUMN label TEXT")

    def put(self, event: MotionEvent) -> None:
        e = event
        with self._db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO motion_events ({_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    e.id,
                    e.camera_id,
                    e.zone,
                    e.start,
                    e.end,
                    e.peak_score,
                    *e.box,
                    e.thumbnail,
                    e.alert_id,
                    int(e.announced),
                    e.label,
                ),
            )

    def get(self, event_id: str) -> MotionEvent:
        row = (
            self._db.conn()
            .execute(f"SELECT {_COLUMNS} FROM motion_events WHERE id = ?", (event_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no motion event {event_id!r}")
        return _event(row)

    def list(
        self,
        camera_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        zone: str | None = None,
        limit: int = 1000,
    ) -> list[MotionEvent]:
        conditions, args = matching(camera_id=camera_id, zone=zone)
        if end is not None:
            conditions.append("start <= ?")
            args.append(end)
        if start is not None:
            conditions.append('("end" IS NULL OR "end" >= ?)')
            args.append(start)
        clause = where(conditions)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM motion_events {clause}"
                " ORDER BY start DESC, id DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_event(r) for r in reversed(rows)]

    def delete_before(self, ts: float, camera_id: str | None = None) -> builtins.list[MotionEvent]:
        conditions, args = matching(camera_id=camera_id)
        conditions.append('"end" IS NOT NULL AND "end" < ?')
        args.append(ts)
        clause = where(conditions)
        with self._db.write() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM motion_events {clause}", args).fetchall()
            conn.execute(f"DELETE FROM motion_events {clause}", args)
        return [_event(r) for r in rows]
