"""One contract, every backend: each test of this folder that takes `store` runs against SQLite,
against mongomock, and against a real MongoDB when ECC_TEST_MONGODB_URL names one (a fresh
database per test, dropped after it)."""

from __future__ import annotations

import functools
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mongomock_ng
import pytest

from ecc.storage import Store, open_store
from ecc.storage.mongo import MongoStore

MONGODB_URL = os.environ.get("ECC_TEST_MONGODB_URL")

_MONGO = [pytest.param("mongomock", id="mongomock", marks=pytest.mark.mongo)]
if MONGODB_URL:
    _MONGO.append(pytest.param("mongodb", id="mongodb", marks=pytest.mark.mongo))
BACKENDS = [pytest.param("sqlite", id="sqlite"), *_MONGO]


def fresh_mongodb_url(name: str) -> str:
    """ECC_TEST_MONGODB_URL with its database replaced by `name`, options kept."""
    assert MONGODB_URL is not None
    return urlsplit(MONGODB_URL)._replace(path="/" + name).geturl()


# mongomock matches a filter and then applies the update to the stored document in place, with
# no lock around the two: two threads can both win one compare-and-set, and a reader can see a
# half-applied update. A MongoDB server makes every single-document write atomic and every read
# see a document before or after a write. The concurrency tests are about races *between*
# operations, so under mongomock each operation gets that atomicity from one lock. (`find` is
# left out: its cursor reads lazily, after the call returns; the threads here do not use it.)
_MONGOMOCK_OPERATIONS = [
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "bulk_write",
    "find_one",
    "count_documents",
]


@contextmanager
def _atomic_mongomock() -> Iterator[None]:
    lock = threading.RLock()

    def atomic(operation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(operation)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return operation(*args, **kwargs)

        return locked

    with pytest.MonkeyPatch.context() as patch:
        for name in _MONGOMOCK_OPERATIONS:
            patch.setattr(
                mongomock_ng.Collection, name, atomic(getattr(mongomock_ng.Collection, name))
            )
        yield


def _open(backend: str, tmp_path: Path) -> Iterator[Store]:
    name = f"ecc_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        store: Store = open_store(f"sqlite:///{tmp_path / 'ecc.db'}")
    elif backend == "mongomock":
        store = open_store(f"mongomock://{name}")
    else:
        store = open_store(fresh_mongodb_url(name))
    try:
        if backend == "mongomock":
            with _atomic_mongomock():
                yield store
        else:
            yield store
    finally:
        if backend == "mongodb":
            assert isinstance(store, MongoStore)
            store.client.drop_database(name)
        store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from _open(request.param, tmp_path)


@pytest.fixture(params=_MONGO)
def mongo_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MongoStore]:
    for store in _open(request.param, tmp_path):
        assert isinstance(store, MongoStore)
        yield store


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so that the read-then-write races the
    concurrency tests are about happen within a few operations (mongomock runs in-process)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
