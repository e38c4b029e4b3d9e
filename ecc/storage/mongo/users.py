"""Users in MongoDB: the username is the _id, so its uniqueness costs no extra index."""

from __future__ import annotations

import builtins
from dataclasses import fields
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from ecc.storage.errors import Conflict, NotFound
from ecc.storage.models import User
from ecc.storage.mongo.db import Document, translated

CHANGEABLE = {f.name for f in fields(User)} - {"username", "created_at"}


def _user(doc: Document) -> User:
    return User(
        username=doc["_id"],
        role=doc["role"],
        password_hash=doc["password_hash"],
        created_at=doc["created_at"],
        disabled=bool(doc["disabled"]),
        language=doc["language"],
        timezone=doc["timezone"],
    )


class MongoUsers:
    def __init__(self, db: Database[Document]) -> None:
        self._users = db["users"]

    @translated
    def add(self, user: User) -> None:
        try:
            self._users.insert_one(
                {
                    "_id": user.username,
                    "role": user.role,
                    "password_hash": user.password_hash,
                    "created_at": user.created_at,
                    "disabled": user.disabled,
                    "language": user.language,
                    "timezone": user.timezone,
                }
            )
        except DuplicateKeyError:
            raise Conflict(f"user {user.username!r} exists") from None

    @translated
    def get(self, username: str) -> User | None:
        doc = self._users.find_one({"_id": username})
        return None if doc is None else _user(doc)

    @translated
    def list(self) -> builtins.list[User]:
        return [_user(d) for d in self._users.find().sort("_id", ASCENDING)]

    @translated
    def update(self, username: str, **changes: Any) -> User:
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a user")
        if changes:
            doc = self._users.find_one_and_update(
                {"_id": username}, {"$set": changes}, return_document=ReturnDocument.AFTER
            )
        else:
            doc = self._users.find_one({"_id": username})
        if doc is None:
            raise NotFound(f"no user {username!r}")
        return _user(doc)

    @translated
    def count(self) -> int:
        return self._users.count_documents({})
