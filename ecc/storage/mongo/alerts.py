"""Alerts in MongoDB, one document each, with their history as an embedded array.

As in SQLite, `open_key` is present while an alert is unresolved and removed when it resolves;
a unique index that covers only the documents holding it keeps one open alert per (source, kind,
metric), whichever worker writes. Transitions follow ecc.storage.lifecycle: read, apply, then
write back only if nobody changed the alert since the read (its `rev`), else read again.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from ecc.storage.errors import Conflict, NotFound, StoreError
from ecc.storage.lifecycle import acknowledged, escalated, resolved
from ecc.storage.models import (
    Alert,
    AlertEvent,
    AlertState,
    NewAlert,
    Severity,
    SourceType,
    open_key,
)
from ecc.storage.mongo.db import Document, no_rows, translated

# Each failed try means another writer changed the alert in between, so it made progress; this
# many in a row means something is wrong rather than busy.
_TRIES = 20


@translated
def create_indexes(db: Database[Document]) -> None:
    alerts = db["alerts"]
    alerts.create_index(
        "open_key",
        unique=True,
        partialFilterExpression={"open_key": {"$exists": True}},
        name="open_key",
    )
    alerts.create_index("raised_at", name="raised_at")
    alerts.create_index([("state", ASCENDING), ("raised_at", ASCENDING)], name="state_raised_at")


def _alert(doc: Document) -> Alert:
    return Alert(
        id=doc["_id"],
        kind=doc["kind"],
        severity=doc["severity"],
        state=doc["state"],
        source_type=doc["source_type"],
        source_id=doc["source_id"],
        metric=doc["metric"],
        value=doc["value"],
        threshold=doc["threshold"],
        message=doc["message"],
        raised_at=doc["raised_at"],
        updated_at=doc["updated_at"],
        acknowledged_at=doc["acknowledged_at"],
        acknowledged_by=doc["acknowledged_by"],
        resolved_at=doc["resolved_at"],
        require_ack=bool(doc["require_ack"]),
        history=tuple(AlertEvent(**e) for e in doc["history"]),
    )


def _changes(alert: Alert) -> Document:
    """The fields a transition may change."""
    return {
        "severity": alert.severity,
        "state": alert.state,
        "value": alert.value,
        "threshold": alert.threshold,
        "message": alert.message,
        "updated_at": alert.updated_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": alert.resolved_at,
        "history": [asdict(e) for e in alert.history],
    }


class MongoAlerts:
    def __init__(self, db: Database[Document]) -> None:
        self._alerts = db["alerts"]

    @translated
    def insert(self, new: NewAlert) -> Alert:
        alert = Alert(
            id=uuid.uuid4().hex,
            kind=new.kind,
            severity=new.severity,
            state="active",
            source_type=new.source_type,
            source_id=new.source_id,
            metric=new.metric,
            value=new.value,
            threshold=new.threshold,
            message=new.message,
            raised_at=new.raised_at,
            updated_at=new.raised_at,
            require_ack=new.require_ack,
            history=(AlertEvent(new.raised_at, "raised", new.severity, new.value, new.threshold),),
        )
        doc: Document = {
            "_id": alert.id,
            "kind": alert.kind,
            "source_type": alert.source_type,
            "source_id": alert.source_id,
            "metric": alert.metric,
            "raised_at": alert.raised_at,
            "require_ack": alert.require_ack,
            **_changes(alert),
            "open_key": alert.open_key,
            "rev": 0,
        }
        try:
            self._alerts.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"an alert is already open for {alert.open_key}") from None
        return alert

    def _change(self, alert_id: str, change: Callable[[Alert], Alert]) -> Alert:
        for _ in range(_TRIES):
            doc = self._alerts.find_one({"_id": alert_id})
            if doc is None:
                raise NotFound(f"no alert {alert_id}")
            alert = change(_alert(doc))
            update: Document = {"$set": {**_changes(alert), "rev": doc["rev"] + 1}}
            if alert.state == "resolved":
                update["$unset"] = {"open_key": ""}
            done = self._alerts.update_one({"_id": alert_id, "rev": doc["rev"]}, update)
            if done.matched_count == 1:
                return alert
        raise StoreError(f"alert {alert_id} changed under us {_TRIES} times in a row")

    @translated
    def escalate(
        self,
        alert_id: str,
        severity: Severity,
        value: float | None,
        threshold: float | None,
        message: str,
        ts: float,
    ) -> Alert:
        return self._change(
            alert_id, lambda a: escalated(a, severity, value, threshold, message, ts)
        )

    @translated
    def acknowledge(self, alert_id: str, by: str, ts: float, note: str | None = None) -> Alert:
        return self._change(alert_id, lambda a: acknowledged(a, by, ts, note))

    @translated
    def resolve(
        self, alert_id: str, ts: float, by: str | None = None, value: float | None = None
    ) -> Alert:
        return self._change(alert_id, lambda a: resolved(a, ts, by, value))

    @translated
    def get(self, alert_id: str) -> Alert:
        doc = self._alerts.find_one({"_id": alert_id})
        if doc is None:
            raise NotFound(f"no alert {alert_id}")
        return _alert(doc)

    @translated
    def find_open(
        self, source_type: SourceType, source_id: str, kind: str, metric: str | None
    ) -> Alert | None:
        doc = self._alerts.find_one({"open_key": open_key(source_type, source_id, kind, metric)})
        return None if doc is None else _alert(doc)

    @translated
    def list(
        self, state: AlertState | None = None, since: float | None = None, limit: int = 1000
    ) -> builtins.list[Alert]:
        if no_rows(limit):
            return []
        query: dict[str, Any] = {}
        if since is not None:
            query["raised_at"] = {"$gte": since}
        if state is not None:
            query["state"] = state
        cursor = (
            self._alerts.find(query)
            .sort([("raised_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        alerts = [_alert(d) for d in cursor]
        alerts.reverse()
        return alerts

    @translated
    def list_open(self) -> builtins.list[Alert]:
        cursor = self._alerts.find({"open_key": {"$exists": True}}).sort(
            [("raised_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [_alert(d) for d in cursor]
