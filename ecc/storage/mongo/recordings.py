"""The recording index in MongoDB: `recordings` (segments, `_id` the segment id, unique path),
`recording_pins` (unique (owner, source)) and `recording_deletions` (`_id` the reason, $inc)."""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Sequence

from pymongo import ASCENDING
from pymongo.database import Database

from ecc.storage.errors import NotFound
from ecc.storage.models import SEGMENT_MAX_S, Deletions, Pin, Segment
from ecc.storage.mongo.db import Document, no_rows, translated


@translated
def create_indexes(db: Database[Document]) -> None:
    c = db["recordings"]
    c.create_index([("source", ASCENDING), ("start", ASCENDING)], name="source_start")
    c.create_index("start", name="start")
    c.create_index("path", name="path", unique=True)
    # A plain unique index rather than an embedded-document _id: mongomock fails upserts on those.
    db["recording_pins"].create_index(
        [("owner", ASCENDING), ("source", ASCENDING)], name="owner_source", unique=True
    )


def _document(s: Segment, ident: str) -> Document:
    return {
        "_id": ident,
        "source": s.source,
        "start": s.start,
        "end": s.end,
        "path": s.path,
        "bytes": s.bytes,
        "init_bytes": s.init_bytes,
        "keyframes": list(s.keyframes),
        "codec": s.codec,
        "width": s.width,
        "height": s.height,
        "init_id": s.init_id,
        "motion": s.motion,
    }


def _segment(d: Document) -> Segment:
    return Segment(
        source=d["source"],
        start=float(d["start"]),
        end=float(d["end"]),
        path=d["path"],
        bytes=int(d["bytes"]),
        init_bytes=int(d["init_bytes"]),
        keyframes=tuple(float(k) for k in d["keyframes"]),
        codec=d["codec"],
        width=int(d["width"]),
        height=int(d["height"]),
        init_id=d["init_id"],
        motion=None if d.get("motion") is None else bool(d["motion"]),
        id=d["_id"],
    )


def _pin(d: Document) -> Pin:
    until = d.get("until")
    return Pin(
        owner=d["owner"],
        source=d["source"],
        start=float(d["start"]),
        end=float(d["end"]),
        until=None if until is None else float(until),
    )


def _overlapping(source: str, start: float, end: float) -> Document:
    # The lower bound on `start` keeps the scan to the range's own part of the index.
    return {
        "source": source,
        "start": {"$gte": start - SEGMENT_MAX_S, "$lte": end},
        "end": {"$gt": start},
    }


class MongoRecordings:
    def __init__(self, db: Database[Document]) -> None:
        self._segments = db["recordings"]
        self._pins = db["recording_pins"]
        self._deletions = db["recording_deletions"]

    @translated
    def add(self, segment: Segment) -> Segment:
        found = self._segments.find_one({"path": segment.path}, {"_id": 1})
        ident = found["_id"] if found else (segment.id or uuid.uuid4().hex)
        self._segments.replace_one({"_id": ident}, _document(segment, ident), upsert=True)
        return dataclasses.replace(segment, id=ident)

    @translated
    def get(self, segment_id: str) -> Segment:
        doc = self._segments.find_one({"_id": segment_id})
        if doc is None:
            raise NotFound(f"no recording segment {segment_id!r}")
        return _segment(doc)

    @translated
    def range(
        self, source: str, start: float, end: float, limit: int = 100_000
    ) -> builtins.list[Segment]:
        if no_rows(limit):
            return []
        cursor = (
            self._segments.find(_overlapping(source, start, end))
            .sort([("start", ASCENDING)])
            .limit(limit)
        )
        return [_segment(d) for d in cursor]

    @translated
    def paths(self, source: str) -> dict[str, str]:
        return {d["path"]: d["_id"] for d in self._segments.find({"source": source}, {"path": 1})}

    @translated
    def usage(self) -> dict[str, tuple[int, int]]:
        rows = self._segments.aggregate(
            [{"$group": {"_id": "$source", "n": {"$sum": 1}, "bytes": {"$sum": "$bytes"}}}]
        )
        return {r["_id"]: (int(r["n"]), int(r["bytes"])) for r in rows}

    @translated
    def oldest(
        self, now: float, limit: int, source: str | None = None, before: float | None = None
    ) -> builtins.list[Segment]:
        if no_rows(limit):
            return []
        query: Document = {}
        if source is not None:
            query["source"] = source
        if before is not None:
            query["end"] = {"$lte": before}
        # Pins are few (one per incident and source): leave out what each covers.
        covered: list[Document] = [
            {"source": p.source, "start": {"$lt": p.end}, "end": {"$gt": p.start}}
            for p in self._in_force(now, source)
        ]
        if covered:
            query["$nor"] = covered
        cursor = self._segments.find(query).sort([("start", ASCENDING)]).limit(limit)
        return [_segment(d) for d in cursor]

    def _in_force(self, now: float, source: str | None) -> builtins.list[Pin]:
        query: Document = {"$or": [{"until": None}, {"until": {"$gt": now}}]}
        if source is not None:
            query["source"] = source
        return [_pin(d) for d in self._pins.find(query)]

    @translated
    def delete(self, ids: Sequence[str], reason: str) -> builtins.list[Segment]:
        gone: list[Segment] = []
        # One at a time: a segment that two retention passes race for is counted by the one
        # whose delete removed it.
        for ident in ids:
            doc = self._segments.find_one_and_delete({"_id": ident})
            if doc is not None:
                gone.append(_segment(doc))
        gone.sort(key=lambda s: (s.start, s.source))
        if gone:
            self._deletions.update_one(
                {"_id": reason},
                {"$inc": {"segments": len(gone), "bytes": sum(s.bytes for s in gone)}},
                upsert=True,
            )
        return gone

    @translated
    def deletions(self) -> builtins.list[Deletions]:
        return [
            Deletions(d["_id"], int(d["segments"]), int(d["bytes"]))
            for d in self._deletions.find().sort([("_id", ASCENDING)])
        ]

    @translated
    def mark_motion(self, source: str, start: float, end: float) -> int:
        result = self._segments.update_many(
            _overlapping(source, start, end), {"$set": {"motion": True}}
        )
        return int(result.matched_count)

    @translated
    def pin(
        self, source: str, start: float, end: float, owner: str, until: float | None = None
    ) -> Pin:
        self._pins.update_one(
            {"owner": owner, "source": source},
            {"$set": {"start": start, "end": end, "until": until}},
            upsert=True,
        )
        return Pin(owner, source, start, end, until)

    @translated
    def unpin(self, owner: str, source: str | None = None) -> int:
        query: Document = {"owner": owner}
        if source is not None:
            query["source"] = source
        return int(self._pins.delete_many(query).deleted_count)

    @translated
    def pins(self, source: str | None = None, owner: str | None = None) -> builtins.list[Pin]:
        query: Document = {}
        if source is not None:
            query["source"] = source
        if owner is not None:
            query["owner"] = owner
        found = [_pin(d) for d in self._pins.find(query)]
        return sorted(found, key=lambda p: (p.source, p.start, p.owner))
