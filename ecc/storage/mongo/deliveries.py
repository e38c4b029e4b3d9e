"""Webhook delivery attempts in MongoDB, one document per attempt."""

from __future__ import annotations

import builtins

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from ecc.storage.models import Delivery
from ecc.storage.mongo.db import Document, no_rows, translated


@translated
def create_indexes(db: Database[Document]) -> None:
    c = db["deliveries"]
    c.create_index([("key", ASCENDING), ("attempt", ASCENDING)], name="key_attempt")
    c.create_index("ts", name="ts")
    c.create_index([("alert_id", ASCENDING), ("ts", ASCENDING)], name="alert_ts")


def _delivery(d: Document) -> Delivery:
    return Delivery(
        key=d["key"],
        webhook=d["webhook"],
        alert_id=d["alert_id"],
        event=d["event"],
        severity=d["severity"],
        attempt=int(d["attempt"]),
        ts=float(d["ts"]),
        ok=bool(d["ok"]),
        status=d.get("status"),
        error=d.get("error"),
        duration_ms=float(d["duration_ms"]),
        id=str(d["_id"]),
    )


class MongoDeliveries:
    def __init__(self, db: Database[Document]) -> None:
        self._deliveries = db["deliveries"]

    @translated
    def add(self, attempt: Delivery) -> None:
        a = attempt
        self._deliveries.insert_one(
            {
                "key": a.key,
                "webhook": a.webhook,
                "alert_id": a.alert_id,
                "event": a.event,
                "severity": a.severity,
                "attempt": a.attempt,
                "ts": a.ts,
                "ok": a.ok,
                "status": a.status,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
        )

    @translated
    def attempts(self, key: str) -> builtins.list[Delivery]:
        cursor = self._deliveries.find({"key": key}).sort(
            [("attempt", ASCENDING), ("ts", ASCENDING), ("_id", ASCENDING)]
        )
        return [_delivery(d) for d in cursor]

    @translated
    def list(
        self, since: float | None = None, alert_id: str | None = None, limit: int = 1000
    ) -> builtins.list[Delivery]:
        if no_rows(limit):
            return []
        query: Document = {} if since is None else {"ts": {"$gte": since}}
        if alert_id is not None:
            query["alert_id"] = alert_id
        cursor = (
            self._deliveries.find(query)
            .sort([("ts", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        out = [_delivery(d) for d in cursor]
        out.reverse()
        return out
