"""What only the MongoDB backend has: its URLs, documents, indexes and error translation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from ecc.storage import StoreError, open_store
from ecc.storage.models import DeadLetter, Latest, NewAlert, Reading
from ecc.storage.mongo import INDEXES, MongoStore
from ecc.storage.mongo.db import Document

T0 = 1_783_843_500.0
# Nothing listens on port 1 of the loopback: every operation fails after the selection timeout.
UNREACHABLE = "mongodb://127.0.0.1:1/ecc_test?serverSelectionTimeoutMS=100&connectTimeoutMS=100"

pytestmark = pytest.mark.mongo


def test_mongomock_url_names_the_database() -> None:
    store = open_store("mongomock://ecc_named")
    try:
        assert isinstance(store, MongoStore)
        assert store.backend == "mongodb"
        assert store.db.name == "ecc_named"
    finally:
        store.close()


def test_mongodb_url_without_a_database_uses_ecc() -> None:
    client: MongoClient[Document] = MongoClient("mongodb://127.0.0.1:1", connect=False)
    try:
        assert client.get_default_database("ecc").name == "ecc"
    finally:
        client.close()


@pytest.mark.parametrize(
    "url", ["mongodb://", "mongodb://a:b:c@127.0.0.1/ecc", "mongodb://127.0.0.1:port/ecc"]
)
def test_a_malformed_mongodb_url_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        open_store(url)
    assert "b:c" not in str(raised.value)


def test_an_unreachable_server_fails_as_store_error() -> None:
    with pytest.raises(StoreError):
        open_store(UNREACHABLE)


def test_driver_errors_come_out_as_store_errors() -> None:
    client: MongoClient[Document] = MongoClient(UNREACHABLE)
    store = MongoStore(client, client.get_default_database())
    try:
        assert store.ping() is False
        with pytest.raises(StoreError):
            store.readings.insert([Reading("river", T0, {"water_level": 3.0})])
        with pytest.raises(StoreError):
            store.alerts.get("x")
        with pytest.raises(StoreError):
            store.users.count()
        with pytest.raises(StoreError):
            store.state.keys("")
    finally:
        store.close()


def test_a_reading_is_one_document_keyed_by_station_and_time(mongo_store: MongoStore) -> None:
    mongo_store.readings.insert([Reading("river", T0, {"water_level": 3.0}, battery=12.5)])
    doc = mongo_store.db["readings"].find_one()
    assert doc is not None
    assert doc["_id"] == {"s": "river", "t": T0}
    assert list(doc["_id"]) == ["s", "t"]
    assert doc["values"] == {"water_level": 3.0}
    assert doc["battery"] == 12.5
    assert doc["at"].replace(tzinfo=UTC) == datetime.fromtimestamp(T0, UTC)
    # Past year 9999 Python has no datetime: the reading is stored all the same, without `at`.
    assert mongo_store.readings.insert([Reading("river", T0 + 1e13, {"water_level": 1.0})])
    far = mongo_store.db["readings"].find_one({"_id": {"s": "river", "t": T0 + 1e13}})
    assert far is not None
    assert "at" not in far


def test_metric_names_that_are_paths_are_refused(mongo_store: MongoStore) -> None:
    with pytest.raises(ValueError, match="metric"):
        mongo_store.readings.insert([Reading("river", T0, {"water.level": 3.0})])
    with pytest.raises(ValueError, match="metric"):
        mongo_store.readings.range("river", "$where", T0, T0)
    assert mongo_store.readings.count() == 0


def test_collections_and_indexes_exist_after_connect(mongo_store: MongoStore) -> None:
    db = mongo_store.db
    assert "readings" in db.list_collection_names()

    def indexes(collection: str) -> dict[str, Document]:
        return dict(db[collection].index_information())

    latest = indexes("latest")["station_metric"]
    assert latest["unique"] is True
    assert latest["key"] == [("station_id", 1), ("metric", 1)]
    open_key = indexes("alerts")["open_key"]
    assert open_key["unique"] is True
    assert open_key["partialFilterExpression"] == {"open_key": {"$exists": True}}
    assert indexes("alerts")["state_raised_at"]["key"] == [("state", 1), ("raised_at", 1)]
    assert "raised_at" in indexes("alerts")
    assert indexes("audit")["action_ts"]["key"] == [("action", 1), ("ts", 1)]
    assert "ts" in indexes("audit")
    assert "received_at" in indexes("dead_letters")


def test_connecting_again_to_a_prepared_database_is_harmless(mongo_store: MongoStore) -> None:
    # A second node starting against the same database finds everything in place.
    for create_indexes in INDEXES:
        create_indexes(mongo_store.db)
    mongo_store.readings.insert([Reading("river", T0, {"water_level": 3.0})])
    assert mongo_store.readings.count() == 1


def test_a_resolved_alert_no_longer_holds_its_open_key(mongo_store: MongoStore) -> None:
    new = NewAlert("threshold", "warning", "station", "river", "water_level", 3.3, 3.2, "高", T0)
    alert = mongo_store.alerts.insert(new)
    assert mongo_store.db["alerts"].find_one({"_id": alert.id}, {"open_key": 1}) == {
        "_id": alert.id,
        "open_key": "station:river|threshold|water_level",
    }
    mongo_store.alerts.resolve(alert.id, T0 + 60)
    assert mongo_store.db["alerts"].find_one({"_id": alert.id}, {"open_key": 1}) == {
        "_id": alert.id
    }


def test_dead_letter_payloads_are_bson_binary(mongo_store: MongoStore) -> None:
    mongo_store.dead_letters.add([DeadLetter("t", "json: x", b"\xff\x00", T0)])
    doc = mongo_store.db["dead_letters"].find_one()
    assert doc is not None
    assert doc["raw"] == b"\xff\x00"
    assert type(doc["raw"]) is bytes


def test_latest_retries_an_upsert_that_lost_the_race_for_a_new_key(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a server, an upsert whose filter found nothing can still meet a duplicate key when
    # another worker inserts the same (station, metric) in between; the newer value must win.
    # The race is inside one server operation, so play the server's part once.
    latest = mongo_store.db["latest"]
    real = type(latest).bulk_write
    raced: list[bool] = []

    def racing(self: Collection[Document], requests: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name == "latest" and not raced:
            raced.append(True)
            self.insert_one(
                {"station_id": "river", "metric": "water_level", "ts": T0 - 60, "value": 1.0}
            )
            error = {"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}
            raise BulkWriteError({"writeErrors": [error], "writeConcernErrors": []})
        return real(self, requests, *args, **kwargs)

    monkeypatch.setattr(type(latest), "bulk_write", racing)
    mongo_store.readings.insert([Reading("river", T0, {"water_level": 3.0})])

    assert raced == [True]
    assert mongo_store.readings.latest() == [Latest("river", "water_level", T0, 3.0)]


def test_a_write_error_other_than_a_duplicate_is_a_store_error(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refusing(self: Collection[Document], *args: Any, **kwargs: Any) -> Any:
        error = {"index": 1, "code": 2, "errmsg": "refused for the test"}
        raise BulkWriteError({"writeErrors": [error], "writeConcernErrors": []})

    monkeypatch.setattr(type(mongo_store.db["readings"]), "insert_many", refusing)
    batch = [Reading("river", T0 + i, {"water_level": 3.0}) for i in range(2)]
    with pytest.raises(StoreError, match="refused for the test"):
        mongo_store.readings.insert(batch)
