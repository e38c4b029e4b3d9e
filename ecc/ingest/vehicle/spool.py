"""Positions waiting for the center, on disk: they survive a lost link, the agent's restart and a
power cut, and leave only once the center has answered for them.

A SQLite file (the standard library's), one row per position keyed by its time to the
millisecond, as the center identifies it: a fix recorded twice is kept once, and a batch the
center stored but whose answer was lost is sent again and stored there once. Bounded: past
`max_positions` (about a week at one a second) the oldest go, counted and logged, so a vehicle
that never reaches the center does not fill its disk.

Methods block (sqlite3); the agent calls them in a worker thread.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from ecc.ingest.vehicle.nmea import Fix

log = logging.getLogger(__name__)

MAX_POSITIONS = 600_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    ts REAL PRIMARY KEY,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    speed REAL,
    heading REAL,
    accuracy REAL
) WITHOUT ROWID
"""


class SpoolBusy(Exception):
    """Another agent process uses this spool (two agents for one vehicle would take each
    other's stream over and over)."""


class Spool:
    def __init__(self, path: Path, max_positions: int = MAX_POSITIONS) -> None:
        self.path = path
        self.max_positions = max_positions
        self.dropped = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._owner = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._owner)
            raise SpoolBusy(f"{path} is in use by another `ecc vehicle`") from None
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a position is in the spool once put() returns, power cut or not.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(SCHEMA)
        self._count = int(self._conn.execute("SELECT count(*) FROM positions").fetchone()[0])

    def put(self, fix: Fix) -> bool:
        """Keep a fix; False if one of the same millisecond is kept already."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO positions VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (round(fix.ts, 3), fix.lat, fix.lon, fix.speed, fix.heading, fix.accuracy),
            )
            if cur.rowcount != 1:
                return False
            self._count += 1
            if self._count > self.max_positions:
                excess = self._count - self.max_positions
                self._conn.execute(
                    "DELETE FROM positions WHERE ts IN"
                    " (SELECT ts FROM positions ORDER BY ts LIMIT ?)",
                    (excess,),
                )
                self._count -= excess
                self.dropped += excess
                log.warning(
                    "position spool full (%d): dropped the oldest %d", self.max_positions, excess
                )
            return True

    def peek(self, limit: int) -> list[Fix]:
        """The oldest `limit` positions, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT ts, lat, lon, speed, heading, accuracy FROM positions ORDER BY ts LIMIT ?",
                (limit,),
            ).fetchall()
        return [Fix(*row) for row in rows]

    def remove(self, stamps: Sequence[float]) -> None:
        """Forget positions the center has answered for."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.executemany(
                    "DELETE FROM positions WHERE ts = ?", [(round(ts, 3),) for ts in stamps]
                )
                self._count -= max(0, cur.rowcount)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @property
    def count(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        os.close(self._owner)  # and with it the lock
