"""The scale-out backend: MongoDB through pymongo (sync), shared by every node of a deployment.

`mongodb://host:port/dbname` names the database in its path ("ecc" when it names none).
`mongomock://dbname` runs the same code against mongomock-ng, an in-process stand-in that the
tests use on machines without a MongoDB server; it is a test dependency, not a runtime one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConfigurationError, PyMongoError

from ecc.storage.mongo import (
    alerts,
    audit,
    dead_letters,
    deliveries,
    incidents,
    motion_events,
    positions,
    readings,
    recordings,
    state,
    users,
)
from ecc.storage.mongo.db import Document

DEFAULT_DATABASE = "ecc"
INDEXES = [
    readings.create_indexes,
    dead_letters.create_indexes,
    alerts.create_indexes,
    audit.create_indexes,
    motion_events.create_indexes,
    deliveries.create_indexes,
    positions.create_indexes,
    recordings.create_indexes,
    incidents.create_indexes,
]


class MongoStore:
    backend = "mongodb"

    def __init__(self, client: MongoClient[Document], db: Database[Document]) -> None:
        self.client = client
        self.db = db
        self.readings = readings.MongoReadings(db)
        self.dead_letters = dead_letters.MongoDeadLetters(db)
        self.alerts = alerts.MongoAlerts(db)
        self.users = users.MongoUsers(db)
        self.audit = audit.MongoAudit(db)
        self.state = state.MongoState(db)
        self.motion_events = motion_events.MongoMotionEvents(db)
        self.deliveries = deliveries.MongoDeliveries(db)
        self.positions = positions.MongoPositions(db)
        self.incidents = incidents.MongoIncidents(db)
        self.recordings = recordings.MongoRecordings(db)

    @classmethod
    def connect(cls, url: str) -> MongoStore:
        """Open the database of `url` and make sure its collections and indexes exist.

        pymongo connects lazily; creating the indexes is the first round trip, so a server that
        cannot be reached fails here (as StoreError, after the URL's server selection timeout)
        rather than at the first reading.
        """
        client = _client(url)
        try:
            db = client.get_default_database(DEFAULT_DATABASE)
            for create_indexes in INDEXES:
                create_indexes(db)
        except BaseException:
            client.close()
            raise
        return cls(client, db)

    def ping(self) -> bool:
        try:
            reply = self.client.admin.command("ping")
        except PyMongoError:
            return False
        return bool(reply.get("ok"))

    def close(self) -> None:
        self.client.close()


def _client(url: str) -> MongoClient[Document]:
    if url.startswith("mongomock://"):
        try:
            import mongomock_ng
        except ImportError:
            raise ValueError(
                "mongomock:// URLs need the mongomock-ng package (a test dependency)"
            ) from None
        parts = urlsplit(url)
        name = parts.netloc or parts.path.strip("/") or DEFAULT_DATABASE
        # Each mongomock client is a server of its own, empty until written to.
        client: MongoClient[Document] = mongomock_ng.MongoClient(f"mongodb://localhost/{name}")
        return client
    try:
        return MongoClient(url, appname="ecc")
    except ConfigurationError as e:
        # The message names what is wrong, never the URL, which may hold a password.
        raise ValueError(f"bad MongoDB URL: {e}") from None
