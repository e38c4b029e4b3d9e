"""The recording index in SQLite: segments, retention pins, deletion counts."""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from ecc.storage.errors import NotFound
from ecc.storage.models import SEGMENT_MAX_S, Deletions, Pin, Segment
from ecc.storage.sqlite.db import Database, matching, where

SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    path TEXT NOT NULL UNIQUE,
    bytes INTEGER NOT NULL,
    init_bytes INTEGER NOT NULL,
    keyframes TEXT NOT NULL,
    codec TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    init_id TEXT NOT NULL,
    motion INTEGER
);
CREATE INDEX IF NOT EXISTS recordings_source_start ON recordings (source, start);
CREATE INDEX IF NOT EXISTS recordings_start ON recordings (start);
CREATE TABLE IF NOT EXISTS recording_pins (
    owner TEXT NOT NULL,
    source TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    until REAL,
    PRIMARY KEY (owner, source)
);
CREATE TABLE IF NOT EXISTS recording_deletions (
    reason TEXT PRIMARY KEY,
    segments INTEGER NOT NULL,
    bytes INTEGER NOT NULL
)
"""

_COLUMNS = (
    'id, source, start, "end", path, bytes, init_bytes, keyframes, codec, width, height,'
    " init_id, motion"
)
# No pin in force at the time given covers the segment `r`.
_UNPINNED = """NOT EXISTS (
    SELECT 1 FROM recording_pins p
    WHERE p.source = r.source AND p.start < r."end" AND p."end" > r.start
      AND (p.until IS NULL OR p.until > ?))"""


def _segment(row: tuple[Any, ...]) -> Segment:
    i, source, start, end, path, size, init, keyframes, codec, width, height, init_id, motion = row
    return Segment(
        source=source,
        start=start,
        end=end,
        path=path,
        bytes=size,
        init_bytes=init,
        keyframes=tuple(orjson.loads(keyframes)),
        codec=codec,
        width=width,
        height=height,
        init_id=init_id,
        motion=None if motion is None else bool(motion),
        id=i,
    )


class SQLiteRecordings:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, segment: Segment) -> Segment:
        s = segment
        with self._db.write() as conn:
            row = conn.execute("SELECT id FROM recordings WHERE path = ?", (s.path,)).fetchone()
            ident = row[0] if row else (s.id or uuid.uuid4().hex)
            conn.execute(
                f"INSERT OR REPLACE INTO recordings ({_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ident,
                    s.source,
                    s.start,
                    s.end,
                    s.path,
                    s.bytes,
                    s.init_bytes,
                    orjson.dumps(list(s.keyframes)).decode(),
                    s.codec,
                    s.width,
                    s.height,
                    s.init_id,
                    None if s.motion is None else int(s.motion),
                ),
            )
        return dataclasses.replace(s, id=ident)

    def get(self, segment_id: str) -> Segment:
        row = (
            self._db.conn()
            .execute(f"SELECT {_COLUMNS} FROM recordings WHERE id = ?", (segment_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no recording segment {segment_id!r}")
        return _segment(row)

    def range(self, source: str, start: float, end: float, limit: int = 100_000) -> list[Segment]:
        # The lower bound on `start` keeps the scan to the range's own part of the index.
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLUMNS} FROM recordings WHERE source = ? AND start >= ?"
                ' AND start <= ? AND "end" > ? ORDER BY start LIMIT ?',
                (source, start - SEGMENT_MAX_S, end, start, limit),
            )
            .fetchall()
        )
        return [_segment(r) for r in rows]

    def paths(self, source: str) -> dict[str, str]:
        rows = (
            self._db.conn()
            .execute("SELECT path, id FROM recordings WHERE source = ?", (source,))
            .fetchall()
        )
        return dict(rows)

    def usage(self) -> dict[str, tuple[int, int]]:
        rows = (
            self._db.conn()
            .execute("SELECT source, COUNT(*), COALESCE(SUM(bytes), 0) FROM recordings GROUP BY 1")
            .fetchall()
        )
        return {source: (n, size) for source, n, size in rows}

    def oldest(
        self, now: float, limit: int, source: str | None = None, before: float | None = None
    ) -> builtins.list[Segment]:
        conditions = [_UNPINNED]
        args: list[object] = [now]
        if source is not None:
            conditions.append("r.source = ?")
            args.append(source)
        if before is not None:
            conditions.append('r."end" <= ?')
            args.append(before)
        columns = ", ".join(f"r.{c.strip()}" for c in _COLUMNS.split(","))
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {columns} FROM recordings r WHERE {' AND '.join(conditions)}"
                " ORDER BY r.start LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_segment(r) for r in rows]

    def delete(self, ids: Sequence[str], reason: str) -> builtins.list[Segment]:
        if not ids:
            return []
        gone: list[Segment] = []
        with self._db.write() as conn:
            for chunk in _chunks(list(ids), 500):
                marks = ", ".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM recordings WHERE id IN ({marks})", chunk
                ).fetchall()
                conn.execute(f"DELETE FROM recordings WHERE id IN ({marks})", chunk)
                gone.extend(_segment(r) for r in rows)
            gone.sort(key=lambda s: (s.start, s.source))
            if gone:
                conn.execute(
                    "INSERT INTO recording_deletions (reason, segments, bytes) VALUES (?, ?, ?)"
                    " ON CONFLICT (reason) DO UPDATE SET segments = segments + excluded.segments,"
                    " bytes = bytes + excluded.bytes",
                    (reason, len(gone), sum(s.bytes for s in gone)),
                )
        return gone

    def deletions(self) -> builtins.list[Deletions]:
        rows = (
            self._db.conn()
            .execute("SELECT reason, segments, bytes FROM recording_deletions ORDER BY reason")
            .fetchall()
        )
        return [Deletions(*r) for r in rows]

    def mark_motion(self, source: str, start: float, end: float) -> int:
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE recordings SET motion = 1 WHERE source = ? AND start >= ? AND start <= ?"
                ' AND "end" > ?',
                (source, start - SEGMENT_MAX_S, end, start),
            )
        return int(cursor.rowcount)

    def pin(
        self, source: str, start: float, end: float, owner: str, until: float | None = None
    ) -> Pin:
        with self._db.write() as conn:
            conn.execute(
                'INSERT OR REPLACE INTO recording_pins (owner, source, start, "end", until)'
                " VALUES (?, ?, ?, ?, ?)",
                (owner, source, start, end, until),
            )
        return Pin(owner, source, start, end, until)

    def unpin(self, owner: str, source: str | None = None) -> int:
        with self._db.write() as conn:
            if source is None:
                cursor = conn.execute("DELETE FROM recording_pins WHERE owner = ?", (owner,))
            else:
                cursor = conn.execute(
                    "DELETE FROM recording_pins WHERE owner = ? AND source = ?", (owner, source)
                )
        return int(cursor.rowcount)

    def pins(self, source: str | None = None, owner: str | None = None) -> builtins.list[Pin]:
        conditions, args = matching(source=source, owner=owner)
        clause = where(conditions)
        rows = (
            self._db.conn()
            .execute(
                f'SELECT owner, source, start, "end", until FROM recording_pins {clause}'
                " ORDER BY source, start, owner",
                args,
            )
            .fetchall()
        )
        return [Pin(*r) for r in rows]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
