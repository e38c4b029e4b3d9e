"""Small JSON documents by key in MongoDB: the key is the _id, the value an embedded document."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from ecc.storage.mongo.db import Document, translated


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
    def delete(self, key: str) -> None:
        self._state.delete_one({"_id": key})

    @translated
    def keys(self, prefix: str) -> list[str]:
        # An anchored regex without options is served by the _id index as a range scan.
        query = {"_id": {"$regex": "^" + re.escape(prefix)}}
        return [d["_id"] for d in self._state.find(query, {"_id": 1}).sort("_id", ASCENDING)]
