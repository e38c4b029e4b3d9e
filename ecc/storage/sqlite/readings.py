from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import orjson

from ecc.storage.models import Bucket, Latest, Point, Reading, Tally
from ecc.storage.sqlite.db import Database

# One row per station message, keyed as the contract identifies a reading: (station_id, ts).
# `latest` keeps the newest value of each (station, metric) so dashboards need no scan.
# `reading_versions` counts the readings stored per station, raised in the insert's own
# transaction (ReadingRepo.tally); it starts at 0 for stations stored before it existed, which
# does not matter, since readers compare versions and never take one for a count of rows.
SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    station_id TEXT NOT NULL,
    ts REAL NOT NULL,
    vals TEXT NOT NULL,
    battery REAL,
    PRIMARY KEY (station_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    station_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts REAL NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (station_id, metric)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reading_versions (
    station_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID
"""

_INSERT = "INSERT INTO readings VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
_LATEST = """
INSERT INTO latest VALUES (?, ?, ?, ?)
ON CONFLICT (station_id, metric) DO UPDATE SET ts = excluded.ts, value = excluded.value
WHERE excluded.ts > latest.ts
"""
_VERSION = """
INSERT INTO reading_versions VALUES (?, ?)
ON CONFLICT (station_id) DO UPDATE SET version = version + excluded.version
"""
# One statement, so one snapshot: the version and the readings it counts are read together.
# (The instant is bound as a REAL: passed as text it could come back an ulp off the stored ts.)
_TALLY = """
SELECT coalesce((SELECT version FROM reading_versions WHERE station_id = ?1), 0),
    (SELECT count(*) FROM readings WHERE station_id = ?1 AND ts > ?2),
    (SELECT max(ts) FROM readings WHERE station_id = ?1)
"""


class SQLiteReadings:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, batch: Sequence[Reading]) -> list[Reading]:
        new: list[Reading] = []
        newest: dict[tuple[str, str], tuple[float, float]] = {}
        stored: dict[str, int] = {}
        with self._db.write() as conn:
            cur = conn.cursor()
            for r in batch:
                cur.execute(_INSERT, (r.station_id, r.ts, orjson.dumps(r.values), r.battery))
                if cur.rowcount != 1:
                    continue
                new.append(r)
                stored[r.station_id] = stored.get(r.station_id, 0) + 1
                for metric, value in r.values.items():
                    key = (r.station_id, metric)
                    if key not in newest or newest[key][0] < r.ts:
                        newest[key] = (r.ts, value)
                if r.battery is not None:
                    key = (r.station_id, "battery")
                    if key not in newest or newest[key][0] < r.ts:
                        newest[key] = (r.ts, r.battery)
            cur.executemany(_LATEST, [(s, m, ts, v) for (s, m), (ts, v) in newest.items()])
            cur.executemany(_VERSION, stored.items())
        return new

    def range(
        self, station_id: str, metric: str, start: float, end: float, limit: int = 100_000
    ) -> list[Point]:
        rows = (
            self._db.conn()
            .execute(
                "SELECT ts, v FROM (SELECT ts, json_extract(vals, ?) AS v FROM readings"
                " WHERE station_id = ? AND ts >= ? AND ts <= ?) WHERE v IS NOT NULL"
                " ORDER BY ts DESC LIMIT ?",
                (_path(metric), station_id, start, end, limit),
            )
            .fetchall()
        )
        return [Point(ts, float(v)) for ts, v in reversed(rows)]

    def downsample(
        self, station_id: str, metric: str, start: float, end: float, step: float
    ) -> list[Bucket]:
        if not step > 0 or not math.isfinite(step):
            raise ValueError("step must be a positive number of seconds")
        rows = (
            self._db.conn()
            .execute(
                "SELECT CAST(floor(ts / ?) AS INTEGER) AS b, min(v), avg(v), max(v), count(v)"
                " FROM (SELECT ts, json_extract(vals, ?) AS v FROM readings"
                " WHERE station_id = ? AND ts >= ? AND ts <= ?) WHERE v IS NOT NULL"
                " GROUP BY b ORDER BY b",
                (step, _path(metric), station_id, start, end),
            )
            .fetchall()
        )
        return [Bucket(b * step, float(lo), float(avg), float(hi), n) for b, lo, avg, hi, n in rows]

    def latest(self, station_id: str | None = None) -> list[Latest]:
        conn = self._db.conn()
        if station_id is None:
            rows = conn.execute("SELECT * FROM latest ORDER BY station_id, metric").fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM latest WHERE station_id = ? ORDER BY metric", (station_id,)
            ).fetchall()
        return [Latest(*row) for row in rows]

    def count(self, station_id: str | None = None) -> int:
        conn = self._db.conn()
        if station_id is None:
            return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])
        return int(
            conn.execute(
                "SELECT count(*) FROM readings WHERE station_id = ?", (station_id,)
            ).fetchone()[0]
        )

    def tally(self, after: Mapping[str, float]) -> dict[str, Tally]:
        conn = self._db.conn()
        out: dict[str, Tally] = {}
        for station, ts in after.items():
            version, n, newest = conn.execute(_TALLY, (station, ts)).fetchone()
            out[station] = Tally(int(version), int(n), newest)
        return out


def _path(metric: str) -> str:
    # Metric names come from the registry ([a-z0-9_]); quote anyway so no name is a JSON path.
    return '$."' + metric.replace('"', "") + '"'
