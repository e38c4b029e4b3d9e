"""The audit log in MongoDB; ids are the ObjectIds as hex strings."""

from __future__ import annotations

import builtins

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from ecc.storage.models import AuditEntry
from ecc.storage.mongo.db import Document, no_rows, translated


@translated
def create_indexes(db: Database[Document]) -> None:
    audit = db["audit"]
    audit.create_index("ts", name="ts")
    audit.create_index([("action", ASCENDING), ("ts", ASCENDING)], name="action_ts")


def _entry(doc: Document) -> AuditEntry:
    return AuditEntry(
        ts=doc["ts"],
        action=doc["action"],
        username=doc["username"],
        target=doc["target"],
        address=doc["address"],
        status=doc["status"],
        detail=doc["detail"],
        id=str(doc["_id"]),
    )


class MongoAudit:
    def __init__(self, db: Database[Document]) -> None:
        self._audit = db["audit"]

    @translated
    def add(self, entry: AuditEntry) -> None:
        self._audit.insert_one(
            {
                "ts": entry.ts,
                "action": entry.action,
                "username": entry.username,
                "target": entry.target,
                "address": entry.address,
                "status": entry.status,
                "detail": entry.detail,
            }
        )

    @translated
    def list(
        self,
        since: float | None = None,
        username: str | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[AuditEntry]:
        if no_rows(limit):
            return []
        query: Document = {}
        if since is not None:
            query["ts"] = {"$gte": since}
        if username is not None:
            query["username"] = username
        if action is not None:
            query["action"] = action
        cursor = (
            self._audit.find(query).sort([("ts", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        )
        entries = [_entry(d) for d in cursor]
        entries.reverse()
        return entries

    @translated
    def count(
        self,
        action: str,
        since: float,
        username: str | None = None,
        address: str | None = None,
    ) -> int:
        query: Document = {"action": action, "ts": {"$gte": since}}
        if username is not None:
            query["username"] = username
        if address is not None:
            query["address"] = address
        return self._audit.count_documents(query)
