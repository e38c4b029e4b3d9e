"""Readings in MongoDB: one document per station message, whose _id is the reading's identity.

Why not a time-series collection: a time-series collection cannot carry a unique index, and the
contract identifies a reading by (station_id, ts) so that a redelivered message is stored once.
Making that pair the _id gives the uniqueness for free. On servers >= 5.3 the collection is
clustered on _id, so documents lie in (station, ts) order and a range of one station is a single
bounded scan of the collection itself, close to what time-series buckets would give.

`_id` is {"s": station_id, "t": ts}, always in that field order: BSON compares embedded documents
field by field, so _id order is station first, then time, and "one station between two instants"
is a range of _id. `t` is always stored as a double, so a ts sent as 5 and as 5.0 is one reading.

`latest` holds the newest value of each (station_id, metric), so dashboards need no scan.

`reading_versions` holds one counter per station ({"_id": station_id, "v": n}) for
ReadingRepo.tally. Without a transaction it cannot move with the insert, so it moves right after
it, by the station's whole batch: a batch redelivered after a crash between the two writes is
all duplicates, and must still move it for the readings the crash left uncounted.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure

from ecc.storage.models import Bucket, Latest, Point, Reading, Tally
from ecc.storage.mongo.db import Document, duplicate_indexes, no_rows, translated

# The server's code for "a collection of that name exists" (lost a race to create it).
_NAMESPACE_EXISTS = 48


@translated
def create_indexes(db: Database[Document]) -> None:
    if not db.list_collection_names(filter={"name": "readings"}):
        try:
            _create(db, clusteredIndex={"key": {"_id": 1}, "unique": True})
        except (OperationFailure, NotImplementedError):
            # A server before 5.3 refuses the option, and so does mongomock (with
            # NotImplementedError): a plain collection's unique _id index gives the same
            # guarantee, only without the storage order.
            _create(db)
    db["latest"].create_index(
        [("station_id", ASCENDING), ("metric", ASCENDING)], unique=True, name="station_metric"
    )


def _create(db: Database[Document], **options: Any) -> None:
    try:
        db.create_collection("readings", **options)
    except CollectionInvalid:
        pass  # it exists: another process made it between our look and our create
    except OperationFailure as e:
        if e.code != _NAMESPACE_EXISTS:
            raise


class MongoReadings:
    def __init__(self, db: Database[Document]) -> None:
        self._readings = db["readings"]
        self._latest = db["latest"]
        self._versions = db["reading_versions"]

    @translated
    def insert(self, batch: Sequence[Reading]) -> list[Reading]:
        # Without a transaction (which needs a replica set) insert_many is not atomic: a batch
        # cut short raises, the caller does not acknowledge it, and the redelivered batch stores
        # the rest while its stored part comes back as duplicates. Idempotency stands in for
        # atomicity here.
        if not batch:
            return []
        try:
            self._readings.insert_many([_document(r) for r in batch], ordered=False)
            new = list(batch)
        except BulkWriteError as e:
            seen = duplicate_indexes(e)
            new = [r for i, r in enumerate(batch) if i not in seen]
        # From the whole batch, not only the new readings: if the process died between the
        # writes, the redelivered batch is all duplicates and must still bring `latest` and the
        # versions up to date. A duplicate has the ts of the stored reading, so it never
        # replaces that value; it does raise a version, which only costs a reader a reload.
        self._raise_versions(batch)
        self._update_latest(batch)
        return new

    def _raise_versions(self, batch: Sequence[Reading]) -> None:
        per_station: dict[str, int] = {}
        for r in batch:
            per_station[r.station_id] = per_station.get(r.station_id, 0) + 1
        # $inc with upsert is atomic on the server; two first upserts of a station at once
        # can still both try the insert, so the loser's increment is tried once more.
        ops = [
            UpdateOne({"_id": s}, {"$inc": {"v": n}}, upsert=True) for s, n in per_station.items()
        ]
        for _ in range(2):
            try:
                self._versions.bulk_write(ops, ordered=False)
                return
            except BulkWriteError as e:
                ops = [ops[i] for i in sorted(duplicate_indexes(e))]

    def _update_latest(self, batch: Sequence[Reading]) -> None:
        newest: dict[tuple[str, str], tuple[float, float]] = {}
        for r in batch:
            ts = float(r.ts)
            battery = [] if r.battery is None else [("battery", r.battery)]
            for metric, value in [*r.values.items(), *battery]:
                key = (r.station_id, metric)
                if key not in newest or newest[key][0] < ts:
                    newest[key] = (ts, float(value))
        ops = [
            UpdateOne(
                {"station_id": s, "metric": m, "ts": {"$lt": ts}},
                {"$set": {"ts": ts, "value": v}},
                upsert=True,
            )
            for (s, m), (ts, v) in newest.items()
        ]
        # A duplicate key means the filter missed and the upsert found the key taken: either the
        # stored value is as new or newer (done), or another writer created the key between our
        # miss and our insert. One more try tells the two apart, since the key now exists.
        for _ in range(2):
            if not ops:
                return
            try:
                self._latest.bulk_write(ops, ordered=False)
                return
            except BulkWriteError as e:
                ops = [ops[i] for i in sorted(duplicate_indexes(e))]

    @translated
    def range(
        self, station_id: str, metric: str, start: float, end: float, limit: int = 100_000
    ) -> list[Point]:
        if no_rows(limit):
            return []
        field = _field(metric)
        cursor = (
            self._readings.find(
                {**_span(station_id, start, end), field: {"$type": "number"}}, {field: 1}
            )
            .sort("_id", DESCENDING)
            .limit(limit)
        )
        points = [Point(float(d["_id"]["t"]), float(d["values"][metric])) for d in cursor]
        points.reverse()
        return points

    @translated
    def downsample(
        self, station_id: str, metric: str, start: float, end: float, step: float
    ) -> list[Bucket]:
        if not step > 0 or not math.isfinite(step):
            raise ValueError("step must be a positive number of seconds")
        field = _field(metric)
        # Grouped on the server (mongomock runs this pipeline too), so only buckets travel.
        pipeline: list[Document] = [
            {"$match": {**_span(station_id, start, end), field: {"$type": "number"}}},
            {
                "$group": {
                    "_id": {"$floor": {"$divide": ["$_id.t", float(step)]}},
                    "min": {"$min": f"${field}"},
                    "avg": {"$avg": f"${field}"},
                    "max": {"$max": f"${field}"},
                    "count": {"$sum": 1},
                }
            },
            {"$sort": {"_id": ASCENDING}},
        ]
        return [
            Bucket(
                ts=float(d["_id"]) * step,
                min=float(d["min"]),
                avg=float(d["avg"]),
                max=float(d["max"]),
                count=int(d["count"]),
            )
            for d in self._readings.aggregate(pipeline)
        ]

    @translated
    def latest(self, station_id: str | None = None) -> list[Latest]:
        query: Document = {} if station_id is None else {"station_id": station_id}
        cursor = self._latest.find(query, {"_id": 0}).sort(
            [("station_id", ASCENDING), ("metric", ASCENDING)]
        )
        return [
            Latest(d["station_id"], d["metric"], float(d["ts"]), float(d["value"])) for d in cursor
        ]

    @translated
    def tally(self, after: Mapping[str, float]) -> dict[str, Tally]:
        if not after:
            return {}
        # The versions first: a reading counted in a version was written before it, so the
        # count and newest stamp read next include it.
        versions = {
            d["_id"]: int(d["v"]) for d in self._versions.find({"_id": {"$in": list(after)}})
        }
        out: dict[str, Tally] = {}
        for station, ts in after.items():
            n = 0 if ts == math.inf else self._readings.count_documents(_after(station, ts))
            newest = self._readings.find_one(
                _span(station, -math.inf, math.inf), {"_id": 1}, sort=[("_id", DESCENDING)]
            )
            out[station] = Tally(
                versions.get(station, 0), n, None if newest is None else float(newest["_id"]["t"])
            )
        return out

    @translated
    def count(self, station_id: str | None = None) -> int:
        if station_id is None:
            return self._readings.count_documents({})
        return self._readings.count_documents(_span(station_id, -math.inf, math.inf))


def _document(r: Reading) -> Document:
    ts = float(r.ts)
    doc: Document = {"_id": {"s": r.station_id, "t": ts}, "values": {}}
    for metric, value in r.values.items():
        doc["values"][_metric(metric)] = value
    if r.battery is not None:
        doc["battery"] = r.battery
    # The instant as a BSON date too, for people reading the collection and for a TTL index
    # should retention ever be wanted; skipped where Python's datetime cannot hold it.
    with contextlib.suppress(OverflowError, ValueError, OSError):
        doc["at"] = datetime.fromtimestamp(ts, UTC)
    return doc


def _span(station_id: str, start: float, end: float) -> Document:
    return {
        "_id": {
            "$gte": {"s": station_id, "t": float(start)},
            "$lte": {"s": station_id, "t": float(end)},
        }
    }


def _after(station_id: str, ts: float) -> Document:
    return {
        "_id": {
            "$gt": {"s": station_id, "t": float(ts)},
            "$lte": {"s": station_id, "t": math.inf},
        }
    }


def _metric(metric: str) -> str:
    # Metric names come from the registry ([a-z0-9_]); a '.' or a leading '$' would be read as
    # a path or an operator, so refuse them rather than store what no query can find.
    if not metric or "." in metric or metric.startswith("$"):
        raise ValueError(f"{metric!r} cannot be a metric name")
    return metric


def _field(metric: str) -> str:
    return f"values.{_metric(metric)}"
