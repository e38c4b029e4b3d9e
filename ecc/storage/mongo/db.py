"""What the MongoDB repositories share: the document type, error translation and limits.

Callers of the store see only the errors of `ecc.storage.errors`, whatever the backend; so every
public method of a Mongo repository is wrapped in `translated`, and the repositories turn the
driver errors that carry meaning (a duplicate key) into Conflict or a skipped duplicate first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from bson.errors import BSONError
from pymongo.errors import BulkWriteError, PyMongoError

from ecc.storage.errors import StoreError

Document = dict[str, Any]

# The server's code for a write that breaks a unique index (E11000).
DUPLICATE_KEY = 11000

_P = ParamSpec("_P")
_R = TypeVar("_R")


def translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Raise the driver's errors (lost server, timeout, refused write) as StoreError."""

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except (PyMongoError, BSONError) as e:
            raise StoreError(f"MongoDB: {e}") from e

    return call


def duplicate_indexes(error: BulkWriteError) -> set[int]:
    """Positions in the batch of the writes refused as duplicates; StoreError if any other
    write failed, since then the batch is not simply 'some were there already'."""
    details = error.details
    write_errors: list[Document] = details.get("writeErrors", [])
    others = [w for w in write_errors if w.get("code") != DUPLICATE_KEY]
    if others or details.get("writeConcernErrors"):
        first = others[0]["errmsg"] if others else details["writeConcernErrors"][0]["errmsg"]
        raise StoreError(f"MongoDB: a batch write failed: {first}") from error
    return {int(w["index"]) for w in write_errors}


def no_rows(limit: int) -> bool:
    """SQL's LIMIT 0 returns nothing; pymongo's limit(0) means no limit, so check first."""
    return limit <= 0
