"""Motion events in MongoDB; `_id` is the event's own id, so storing its end replaces it."""

from __future__ import annotations

import builtins

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from ecc.storage.errors import NotFound
from ecc.storage.models import MotionEvent
from ecc.storage.mongo.db import Document, no_rows, translated


@translated
def create_indexes(db: Database[Document]) -> None:
    c = db["motion_events"]
    c.create_index([("camera_id", ASCENDING), ("start", ASCENDING)], name="camera_start")
    c.create_index("start", name="start")


def _document(e: MotionEvent) -> Document:
    return {
        "_id": e.id,
        "camera_id": e.camera_id,
        "zone": e.zone,
        "start": e.start,
        "end": e.end,
        "peak_score": e.peak_score,
        "box": list(e.box),
        "thumbnail": e.thumbnail,
        "alert_id": e.alert_id,
        "announced": e.announced,
        "label": e.label,
    }


def _event(d: Document) -> MotionEvent:
    x, y, w, h = (float(v) for v in d["box"])
    return MotionEvent(
        id=d["_id"],
        camera_id=d["camera_id"],
        zone=d["zone"],
        start=float(d["start"]),
        end=None if d["end"] is None else float(d["end"]),
        peak_score=float(d["peak_score"]),
        box=(x, y, w, h),
        thumbnail=d["thumbnail"],
        alert_id=d["alert_id"],
        announced=bool(d["announced"]),
        label=d.get("label"),
    )


class MongoMotionEvents:
    def __init__(self, db: Database[Document]) -> None:
        self._events = db["motion_events"]

    @translated
    def put(self, event: MotionEvent) -> None:
        self._events.replace_one({"_id": event.id}, _document(event), upsert=True)

    @translated
    def get(self, event_id: str) -> MotionEvent:
        doc = self._events.find_one({"_id": event_id})
        if doc is None:
            raise NotFound(f"no motion event {event_id!r}")
        return _event(doc)

    @translated
    def list(
        self,
        camera_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        zone: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[MotionEvent]:
        if no_rows(limit):
            return []
        query = _query(camera_id, zone)
        if end is not None:
            query["start"] = {"$lte": end}
        if start is not None:
            query["$or"] = [{"end": None}, {"end": {"$gte": start}}]
        cursor = (
            self._events.find(query).sort([("start", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        )
        events = [_event(d) for d in cursor]
        events.reverse()
        return events

    @translated
    def delete_before(self, ts: float, camera_id: str | None = None) -> builtins.list[MotionEvent]:
        query = _query(camera_id, None)
        query["end"] = {"$ne": None, "$lt": ts}
        events = [_event(d) for d in self._events.find(query)]
        if events:
            self._events.delete_many({"_id": {"$in": [e.id for e in events]}})
        return events


def _query(camera_id: str | None, zone: str | None) -> Document:
    query: Document = {}
    if camera_id is not None:
        query["camera_id"] = camera_id
    if zone is not None:
        query["zone"] = zone
    return query
