"""Incidents in MongoDB: one document each, an alert-to-incident claim collection, and a lease.

- `incidents`: the document of ecc.storage.incident_doc with `_id`, `rev` (compare-and-set,
  as for alerts) and `vehicles` (ids of the vehicles it has tasks for, indexed).
- `incident_alerts`: `{_id: alert_id, incident_id, at}`. The unique `_id` keeps an alert in one
  incident at most. A change claims its new alerts first and then writes the incident, so a
  writer that dies in between leaves a claim that no incident backs up: a claim older than
  STALE_CLAIM_S whose incident does not hold the alert is taken over.
- `incident_locks`: the lease (`_id: "open_or_join"`, with an expiry) that serializes the
  automatic rule across processes. MongoDB has no multi-document lock without transactions
  (which need a replica set); the lease makes "look at the open incidents, then open or join
  one" a single step, and a holder that dies frees it when it expires.
"""

from __future__ import annotations

import builtins
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from ecc.storage.errors import Conflict, NotFound, StoreError
from ecc.storage.incident_doc import alert_ids, from_doc, task_vehicles, to_doc
from ecc.storage.models import Incident, IncidentState
from ecc.storage.mongo.db import Document, no_rows, translated

# Each failed try means another writer changed the incident in between (it made progress);
# this many in a row means something is wrong rather than busy.
_TRIES = 20
LEASE_S = 30.0
LEASE_WAIT_S = 30.0
STALE_CLAIM_S = 60.0
_LEASE = "open_or_join"


@translated
def create_indexes(db: Database[Document]) -> None:
    incidents = db["incidents"]
    incidents.create_index("opened_at", name="opened_at")
    incidents.create_index([("state", ASCENDING), ("opened_at", ASCENDING)], name="state_opened")
    incidents.create_index("vehicles", name="vehicles")


def _incident(doc: Document) -> Incident:
    return from_doc(str(doc["_id"]), int(doc["rev"]), doc)


def _document(incident: Incident) -> Document:
    return {
        "_id": incident.id,
        "rev": incident.rev,
        **to_doc(incident),
        "vehicles": sorted(task_vehicles(incident)),
    }


class MongoIncidents:
    def __init__(self, db: Database[Document]) -> None:
        self._incidents = db["incidents"]
        self._claims = db["incident_alerts"]
        self._locks = db["incident_locks"]

    # -- claims -------------------------------------------------------------------------------

    def _claim(self, alert_id: str, incident_id: str) -> None:
        try:
            self._claims.insert_one(
                {"_id": alert_id, "incident_id": incident_id, "at": time.time()}
            )
            return
        except DuplicateKeyError:
            pass
        claim = self._claims.find_one({"_id": alert_id})
        if claim is None or claim["incident_id"] == incident_id:
            if claim is None:
                self._claim(alert_id, incident_id)
            return
        holder = claim["incident_id"]
        backed = self._incidents.find_one({"_id": holder, "alerts.alert_id": alert_id})
        if backed is not None or time.time() - float(claim.get("at", 0.0)) < STALE_CLAIM_S:
            raise Conflict(f"alert {alert_id} is linked to incident {holder}")
        taken = self._claims.replace_one(
            {"_id": alert_id, "incident_id": holder},
            {"_id": alert_id, "incident_id": incident_id, "at": time.time()},
        )
        if taken.matched_count != 1:
            raise Conflict(f"alert {alert_id} was linked by another writer meanwhile")

    def _unclaim(self, alert_ids_: set[str], incident_id: str) -> None:
        if alert_ids_:
            self._claims.delete_many(
                {"_id": {"$in": sorted(alert_ids_)}, "incident_id": incident_id}
            )

    def _holder(self, alert_id: str) -> Incident | None:
        claim = self._claims.find_one({"_id": alert_id})
        if claim is None:
            return None
        doc = self._incidents.find_one({"_id": claim["incident_id"], "alerts.alert_id": alert_id})
        return None if doc is None else _incident(doc)

    # -- writes -------------------------------------------------------------------------------

    def _write(self, before: Incident | None, after: Incident) -> Incident | None:
        """Store `after` over `before` (None: as new); None if `before` is no longer current."""
        stored = replace(after, rev=0 if before is None else before.rev + 1)
        had = set() if before is None else alert_ids(before)
        added = alert_ids(stored) - had
        claimed: set[str] = set()
        try:
            for alert_id in sorted(added):
                self._claim(alert_id, stored.id)
                claimed.add(alert_id)
            if before is None:
                try:
                    self._incidents.insert_one(_document(stored))
                except DuplicateKeyError:
                    raise Conflict(f"incident {stored.id} exists") from None
            else:
                done = self._incidents.replace_one(
                    {"_id": stored.id, "rev": before.rev}, _document(stored)
                )
                if done.matched_count != 1:
                    self._unclaim(claimed, stored.id)
                    return None
        except BaseException:
            self._unclaim(claimed, stored.id)
            raise
        self._unclaim(had - alert_ids(stored), stored.id)
        return stored

    @translated
    def insert(self, incident: Incident) -> Incident:
        stored = self._write(None, incident)
        assert stored is not None
        return stored

    @translated
    def get(self, incident_id: str) -> Incident:
        doc = self._incidents.find_one({"_id": incident_id})
        if doc is None:
            raise NotFound(f"no incident {incident_id}")
        return _incident(doc)

    @translated
    def change(self, incident_id: str, apply: Callable[[Incident], Incident]) -> Incident:
        for _ in range(_TRIES):
            before = self.get(incident_id)
            after = apply(before)
            if after.id != before.id:
                raise ValueError("a change cannot give an incident another id")
            if after == before:
                return before
            stored = self._write(before, after)
            if stored is not None:
                return stored
        raise StoreError(f"incident {incident_id} changed under us {_TRIES} times in a row")

    @translated
    def open_or_join(self, alert_id: str, decide: Callable[[list[Incident]], Incident]) -> Incident:
        lease = self._acquire()
        try:
            for _ in range(_TRIES):
                holder = self._holder(alert_id)
                if holder is not None:
                    raise Conflict(f"alert {alert_id} is linked to incident {holder.id}")
                candidates = self.list_open()
                after = decide(candidates)
                before = next((i for i in candidates if i.id == after.id), None)
                stored = self._write(before, after)
                if stored is not None:
                    return stored
            raise StoreError(f"open incidents changed under us {_TRIES} times in a row")
        finally:
            self._locks.delete_one({"_id": _LEASE, "holder": lease})

    def _acquire(self) -> str:
        """Take the lease, waiting for its holder (or its expiry); blocking, for a worker
        thread, as every store call is."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + LEASE_WAIT_S
        while True:
            now = time.time()
            try:
                self._locks.insert_one({"_id": _LEASE, "holder": token, "expires": now + LEASE_S})
                return token
            except DuplicateKeyError:
                # A holder that died frees the lease when it expires.
                self._locks.delete_one({"_id": _LEASE, "expires": {"$lt": now}})
            if time.monotonic() > deadline:
                raise StoreError("the incidents lease stayed taken; is a process stuck holding it?")
            time.sleep(random.uniform(0.005, 0.05))

    # -- reads --------------------------------------------------------------------------------

    @translated
    def for_alert(self, alert_id: str) -> Incident | None:
        return self._holder(alert_id)

    @translated
    def for_vehicle(self, vehicle_id: str) -> builtins.list[Incident]:
        cursor = self._incidents.find({"vehicles": vehicle_id, "state": {"$ne": "closed"}}).sort(
            [("opened_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [_incident(d) for d in cursor]

    @translated
    def list(
        self,
        state: IncidentState | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> builtins.list[Incident]:
        if no_rows(limit):
            return []
        query: dict[str, Any] = {}
        if since is not None:
            query["opened_at"] = {"$gte": since}
        if state is not None:
            query["state"] = state
        cursor = (
            self._incidents.find(query)
            .sort([("opened_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        incidents = [_incident(d) for d in cursor]
        incidents.reverse()
        return incidents

    @translated
    def list_open(self) -> builtins.list[Incident]:
        cursor = self._incidents.find({"state": {"$ne": "closed"}}).sort(
            [("opened_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [_incident(d) for d in cursor]
