"""Dead letters in MongoDB. The raw payload is stored as BSON binary (subtype 0), which the driver
gives back as bytes, so a payload that is not UTF-8 comes back byte for byte."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from pymongo import DESCENDING
from pymongo.database import Database

from ecc.storage.models import DeadLetter
from ecc.storage.mongo.db import Document, no_rows, translated


@translated
def create_indexes(db: Database[Document]) -> None:
    db["dead_letters"].create_index("received_at", name="received_at")


class MongoDeadLetters:
    def __init__(self, db: Database[Document]) -> None:
        self._letters = db["dead_letters"]

    @translated
    def add(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        self._letters.insert_many(
            [
                {
                    "received_at": d.received_at,
                    "topic": d.topic,
                    "reason": d.reason,
                    "raw": bytes(d.raw),
                }
                for d in letters
            ]
        )

    @translated
    def list(self, since: float | None = None, limit: int = 1000) -> builtins.list[DeadLetter]:
        if no_rows(limit):
            return []
        query: Document = {} if since is None else {"received_at": {"$gte": since}}
        cursor = (
            self._letters.find(query)
            .sort([("received_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        letters = [
            DeadLetter(
                topic=d["topic"],
                reason=d["reason"],
                raw=bytes(d["raw"]),
                received_at=d["received_at"],
                id=str(d["_id"]),
            )
            for d in cursor
        ]
        letters.reverse()
        return letters

    @translated
    def count(self) -> int:
        return self._letters.count_documents({})

    @translated
    def count_by_reason(self) -> dict[str, int]:
        # The category is the text before the first ':', or the whole reason when it has none:
        # the first element of $split is exactly that.
        pipeline: builtins.list[Document] = [
            {
                "$group": {
                    "_id": {"$arrayElemAt": [{"$split": ["$reason", ":"]}, 0]},
                    "count": {"$sum": 1},
                }
            }
        ]
        return {d["_id"]: int(d["count"]) for d in self._letters.aggregate(pipeline)}
