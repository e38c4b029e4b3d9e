"""Persistence: the Store contract and its backends (SQLite embedded, MongoDB for scale-out)."""

from __future__ import annotations

from pathlib import Path

from ecc.storage.base import Store
from ecc.storage.errors import Conflict, InvalidTransition, NotFound, StoreError

__all__ = ["Conflict", "InvalidTransition", "NotFound", "Store", "StoreError", "open_store"]


def open_store(url: str) -> Store:
    """`sqlite:///relative/or//absolute/path.db`, `mongodb://host/db` or `mongomock://db`."""
    if url.startswith("sqlite:///"):
        from ecc.storage.sqlite import SQLiteStore

        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("mongodb://", "mongodb+srv://", "mongomock://")):
        from ecc.storage.mongo import MongoStore

        return MongoStore.connect(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or mongodb://")
