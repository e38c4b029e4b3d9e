"""Vehicle tracks in MongoDB: one document per position, whose _id is the position's identity.

`_id` is the string `"{vehicle_id}|{repr(float(ts))}"`: the repr of a double is canonical (5 and
5.0 give the same key), and a string _id upserts alike on a server and on mongomock, which
mishandles embedded-document ids in upserts (see README). Queries go through the
(vehicle_id, ts) index. `vehicle_latest` holds each vehicle's newest position under
`_id = vehicle_id`, so the vehicle list needs no scan.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from ecc.storage.models import Position
from ecc.storage.mongo.db import Document, duplicate_indexes, no_rows, translated

_FIELDS = ("lat", "lon", "speed", "heading", "accuracy")


@translated
def create_indexes(db: Database[Document]) -> None:
    db["positions"].create_index([("vehicle_id", ASCENDING), ("ts", ASCENDING)], name="vehicle_ts")


def _key(vehicle_id: str, ts: float) -> str:
    return f"{vehicle_id}|{float(ts)!r}"


def _document(p: Position) -> Document:
    doc: Document = {"_id": _key(p.vehicle_id, p.ts), "vehicle_id": p.vehicle_id, "ts": float(p.ts)}
    for name in _FIELDS:
        doc[name] = getattr(p, name)
    # The instant as a BSON date too, for people reading the collection (and a TTL index).
    with contextlib.suppress(OverflowError, ValueError, OSError):
        doc["at"] = datetime.fromtimestamp(float(p.ts), UTC)
    return doc


def _position(d: Document) -> Position:
    def number(name: str) -> float | None:
        value = d.get(name)
        return None if value is None else float(value)

    return Position(
        vehicle_id=str(d["vehicle_id"]),
        ts=float(d["ts"]),
        lat=float(d["lat"]),
        lon=float(d["lon"]),
        speed=number("speed"),
        heading=number("heading"),
        accuracy=number("accuracy"),
    )


class MongoPositions:
    def __init__(self, db: Database[Document]) -> None:
        self._positions = db["positions"]
        self._latest = db["vehicle_latest"]

    @translated
    def insert(self, batch: Sequence[Position]) -> builtins.list[Position]:
        if not batch:
            return []
        # A batch may repeat a position (a queue sent twice in one upload): the first counts.
        unique: dict[str, Position] = {}
        for p in batch:
            unique.setdefault(_key(p.vehicle_id, p.ts), p)
        items = list(unique.values())
        try:
            self._positions.insert_many([_document(p) for p in items], ordered=False)
            new = items
        except BulkWriteError as e:
            seen = duplicate_indexes(e)
            new = [p for i, p in enumerate(items) if i not in seen]
        # From the whole batch, as readings do: a batch redelivered after a crash between the
        # two writes is all duplicates and must still bring `vehicle_latest` up to date.
        self._update_latest(items)
        return new

    def _update_latest(self, batch: Sequence[Position]) -> None:
        newest: dict[str, Position] = {}
        for p in batch:
            if p.vehicle_id not in newest or newest[p.vehicle_id].ts < p.ts:
                newest[p.vehicle_id] = p
        ops = [
            UpdateOne(
                {"_id": v, "ts": {"$lt": float(p.ts)}},
                {
                    "$set": {
                        "vehicle_id": v,
                        "ts": float(p.ts),
                        **{n: getattr(p, n) for n in _FIELDS},
                    }
                },
                upsert=True,
            )
            for v, p in newest.items()
        ]
        # A duplicate key: the filter missed and the id exists, so the stored one is as new or
        # newer (done), or another writer made it between our miss and our insert: one more try.
        for _ in range(2):
            if not ops:
                return
            try:
                self._latest.bulk_write(ops, ordered=False)
                return
            except BulkWriteError as e:
                ops = [ops[i] for i in sorted(duplicate_indexes(e))]

    @translated
    def track(
        self, vehicle_id: str, start: float, end: float, limit: int = 100_000
    ) -> builtins.list[Position]:
        if no_rows(limit):
            return []
        cursor = (
            self._positions.find(
                {"vehicle_id": vehicle_id, "ts": {"$gte": float(start), "$lte": float(end)}}
            )
            .sort("ts", DESCENDING)
            .limit(limit)
        )
        found = [_position(d) for d in cursor]
        found.reverse()
        return found

    @translated
    def latest(self, vehicle_id: str | None = None) -> builtins.list[Position]:
        query: Document = {} if vehicle_id is None else {"_id": vehicle_id}
        return [_position(d) for d in self._latest.find(query).sort("_id", ASCENDING)]

    @translated
    def count(self, vehicle_id: str | None = None) -> int:
        query: Document = {} if vehicle_id is None else {"vehicle_id": vehicle_id}
        return self._positions.count_documents(query)
