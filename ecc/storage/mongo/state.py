"""Small JSON documents by key in MongoDB: the key is the _id, the value an embedded document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from ecc.storage.mongo.db import Document, duplicate_indexes, translated


class MongoState:
    def __init__(self, db: Database[Document]) -> None:
        self._state = db["state"]

    @translated
    def get(self, key: str) -> dict[str, Any] | None:
        doc = self._state.find_one({"_id": key})
        return None if doc is None else dict(doc["value"])

    @translated
    def put(self, key: str, value: dict[str, Any]) -> None:
        self._state.replace_one({"_id": key}, {"value": value}, upsert=True)

    @translated
    def put_many(self, values: Mapping[str, dict[str, Any]]) -> None:
        ops = [ReplaceOne({"_id": k}, {"value": v}, upsert=True) for k, v in values.items()]
        # Two first upserts of one key at once can both try the insert; the loser's write is
        # tried once more, as a replace of what the winner wrote.
        for _ in range(2):
            if not ops:
                return
            try:
                self._state.bulk_write(ops, ordered=False)
                return
            except BulkWriteError as e:
                ops = [ops[i] for i in sorted(duplicate_indexes(e))]

    @translated
    def delete(self, key: str) -> None:
        self._state.delete_one({"_id": key})

    @translated
    def keys(self, prefix: str) -> list[str]:
        # An anchored regex without options is served by the _id index as a range scan.
        query = {"_id": {"$regex": "^" + re.escape(prefix)}}
        return [d["_id"] for d in self._state.find(query, {"_id": 1}).sort("_id", ASCENDING)]
