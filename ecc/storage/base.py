"""The Store contract: one set of repositories that every backend provides alike.

Methods are synchronous: the backends' drivers are (sqlite3, pymongo). Async code calls them in a
worker thread (FastAPI does so for plain `def` routes), never on the event loop.

Each kind of record has its own repository; later parts of ECC add theirs here (incidents,
recording segments, vehicle tracks, motion events) and in each backend, beside these.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ecc.storage.models import (
    Alert,
    AlertState,
    AuditEntry,
    Bucket,
    DeadLetter,
    Deletions,
    Delivery,
    Incident,
    IncidentState,
    Latest,
    MotionEvent,
    NewAlert,
    Pin,
    Point,
    Position,
    Reading,
    Segment,
    Severity,
    SourceType,
    Tally,
    User,
)


class ReadingRepo(Protocol):
    def insert(self, batch: Sequence[Reading]) -> list[Reading]:
        """Store a batch atomically; returns the readings that were new (not duplicates)."""

    def range(
        self, station_id: str, metric: str, start: float, end: float, limit: int = 100_000
    ) -> list[Point]:
        """Points in [start, end], oldest first; past `limit`, the newest `limit` of them."""

    def downsample(
        self, station_id: str, metric: str, start: float, end: float, step: float
    ) -> list[Bucket]:
        """min/avg/max per epoch-aligned step over [start, end], oldest first."""

    def latest(self, station_id: str | None = None) -> list[Latest]:
        """The newest value of every metric (of one station, or of all)."""

    def count(self, station_id: str | None = None) -> int: ...

    def tally(self, after: Mapping[str, float]) -> dict[str, Tally]:
        """For each station of `after`: its version, how many of its readings are stamped after
        the instant given for it (math.inf: none asked), and its newest stamp.

        The version is a counter that only grows: an insert that stores k new readings of a
        station raises it by k, no earlier than they can be read. So a reader that finds the
        same version twice knows that nothing of the station was stored in between, and one
        that finds it raised by exactly the count of readings after its newest known stamp
        knows that nothing was stored before that stamp. SQLite reads the three in one
        snapshot and raises the version in the insert's transaction; MongoDB, which has
        neither here, raises it right after the insert by the station's whole batch,
        duplicates too, so a batch redelivered after a crash between the two writes still
        moves it, and reads the version before the rest."""


class DeadLetterRepo(Protocol):
    def add(self, letters: Sequence[DeadLetter]) -> None: ...

    def list(self, since: float | None = None, limit: int = 1000) -> list[DeadLetter]:
        """Oldest first; past `limit`, the newest `limit`."""

    def count(self) -> int: ...

    def count_by_reason(self) -> dict[str, int]:
        """Counts by the reason's category, the text before its first ':'."""


class AlertRepo(Protocol):
    def insert(self, new: NewAlert) -> Alert:
        """A new active alert; Conflict if one is already open for its (source, kind, metric)."""

    def escalate(
        self,
        alert_id: str,
        severity: Severity,
        value: float | None,
        threshold: float | None,
        message: str,
        ts: float,
    ) -> Alert:
        """Change the severity of an open alert, keeping its history."""

    def acknowledge(self, alert_id: str, by: str, ts: float, note: str | None = None) -> Alert:
        """active -> acknowledged; InvalidTransition from any other state."""

    def resolve(
        self, alert_id: str, ts: float, by: str | None = None, value: float | None = None
    ) -> Alert:
        """active|acknowledged -> resolved; InvalidTransition when already resolved."""

    def get(self, alert_id: str) -> Alert:
        """NotFound when there is no such alert."""

    def find_open(
        self, source_type: SourceType, source_id: str, kind: str, metric: str | None
    ) -> Alert | None: ...

    def list(
        self, state: AlertState | None = None, since: float | None = None, limit: int = 1000
    ) -> list[Alert]:
        """Alerts raised at or after `since`, oldest first; past `limit`, the newest."""

    def list_open(self) -> builtins.list[Alert]: ...


class UserRepo(Protocol):
    def add(self, user: User) -> None:
        """Conflict when the username exists."""

    def get(self, username: str) -> User | None: ...

    def list(self) -> list[User]: ...

    def update(self, username: str, **changes: Any) -> User:
        """Change fields of a user (role, password_hash, disabled, language, timezone)."""

    def count(self) -> int: ...


class AuditRepo(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def list(
        self,
        since: float | None = None,
        username: str | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Oldest first; past `limit`, the newest."""

    def count(
        self,
        action: str,
        since: float,
        username: str | None = None,
        address: str | None = None,
    ) -> int: ...


class StateRepo(Protocol):
    """Small JSON documents by key: rule state, per-user layouts and settings."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...

    def put_many(self, values: Mapping[str, dict[str, Any]]) -> None:
        """Several puts in one write: one transaction (SQLite), one bulk write (MongoDB), so a
        worker that saves the state of hundreds of stations pays for one commit, not hundreds."""

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str) -> list[str]: ...


class DeliveryRepo(Protocol):
    """Webhook delivery attempts: every one is recorded, failed or not."""

    def add(self, attempt: Delivery) -> None: ...

    def attempts(self, key: str) -> builtins.list[Delivery]:
        """The attempts at one delivery (alert change and webhook), oldest first."""

    def list(
        self, since: float | None = None, alert_id: str | None = None, limit: int = 1000
    ) -> list[Delivery]:
        """Attempts made at or after `since`, oldest first; past `limit`, the newest."""


class MotionEventRepo(Protocol):
    def put(self, event: MotionEvent) -> None:
        """Store the event, or replace the stored one of the same id (its end came)."""

    def get(self, event_id: str) -> MotionEvent:
        """NotFound when there is no such event."""

    def list(
        self,
        camera_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        zone: str | None = None,
        limit: int = 1000,
    ) -> list[MotionEvent]:
        """Events that overlap [start, end] (one going on overlaps every later time), by start,
        oldest first; past `limit`, the newest `limit`."""

    def delete_before(self, ts: float, camera_id: str | None = None) -> builtins.list[MotionEvent]:
        """Delete the events that ended before `ts`; returns them (their thumbnails go too)."""


class PositionRepo(Protocol):
    """Vehicle tracks: one position per (vehicle_id, ts)."""

    def insert(self, batch: Sequence[Position]) -> builtins.list[Position]:
        """Store a batch; returns the positions that were new (a (vehicle_id, ts) already
        stored is a duplicate and is skipped, whatever its other fields say)."""

    def track(
        self, vehicle_id: str, start: float, end: float, limit: int = 100_000
    ) -> builtins.list[Position]:
        """Positions in [start, end], oldest first; past `limit`, the newest `limit` of them."""

    def latest(self, vehicle_id: str | None = None) -> builtins.list[Position]:
        """The newest position of every vehicle (or of one), by vehicle id."""

    def count(self, vehicle_id: str | None = None) -> int: ...


class RecordingRepo(Protocol):
    """The index of recorded segments, the pins that keep some of them, and the deletion counts.

    No segment lasts longer than models.SEGMENT_MAX_S (the recorder ends one that would), which
    bounds the index scan of a time range.
    """

    def add(self, segment: Segment) -> Segment:
        """Index a segment; returns it with its id. A segment whose path is indexed already
        replaces that entry, keeping its id (reconcile and recorder may meet on one file)."""

    def get(self, segment_id: str) -> Segment:
        """NotFound when there is no such segment."""

    def range(self, source: str, start: float, end: float, limit: int = 100_000) -> list[Segment]:
        """Segments of `source` that overlap [start, end] (start <= end of the query, end after
        its start), oldest first; past `limit`, the oldest `limit` of them."""

    def paths(self, source: str) -> dict[str, str]:
        """Path -> id of every segment of `source` (to reconcile the index with the disk)."""

    def usage(self) -> dict[str, tuple[int, int]]:
        """Source -> (segments, bytes) over the whole index."""

    def oldest(
        self, now: float, limit: int, source: str | None = None, before: float | None = None
    ) -> builtins.list[Segment]:
        """Segments that no pin in force at `now` covers, oldest first: of one source or of all,
        and only those ending at or before `before` when it is given."""

    def delete(self, ids: Sequence[str], reason: str) -> builtins.list[Segment]:
        """Remove segments from the index; returns those removed, oldest first, each counted
        once under `reason` (a segment already gone is neither returned nor counted)."""

    def deletions(self) -> builtins.list[Deletions]:
        """Segments and bytes deleted so far, by reason."""

    def mark_motion(self, source: str, start: float, end: float) -> int:
        """Flag the segments of `source` that overlap [start, end] as having motion; returns how
        many were flagged."""

    def pin(
        self, source: str, start: float, end: float, owner: str, until: float | None = None
    ) -> Pin:
        """Keep the segments of `source` that overlap [start, end] from retention until `until`
        (None: until unpinned). One pin per (owner, source): pinning again replaces it."""

    def unpin(self, owner: str, source: str | None = None) -> int:
        """Remove the owner's pins (of one source, or all); returns how many went."""

    def pins(self, source: str | None = None, owner: str | None = None) -> builtins.list[Pin]: ...


class IncidentRepo(Protocol):
    """Incidents, one record each with its linked alerts, notes, tasks and history.

    An alert belongs to one incident at most, whichever process links it. Changes go through
    `change`, which applies a pure function to the stored incident and writes the result only
    if nobody changed the incident in between (else it applies the function again to the newer
    one): the rules of a change live in one place (ecc.incidents.lifecycle), not in each backend.
    """

    def insert(self, incident: Incident) -> Incident:
        """Store a new incident; Conflict if its id exists or one of its alerts is linked to
        another incident."""

    def get(self, incident_id: str) -> Incident:
        """NotFound when there is no such incident."""

    def change(self, incident_id: str, apply: Callable[[Incident], Incident]) -> Incident:
        """Store `apply(current)` atomically; returns it with its new `rev`. Alerts that the
        result adds are linked (Conflict if another incident holds one), those it drops are
        unlinked. `apply` may raise (InvalidTransition) to refuse; nothing is stored then, nor
        when it returns the incident unchanged (the same `rev` comes back)."""

    def open_or_join(self, alert_id: str, decide: Callable[[list[Incident]], Incident]) -> Incident:
        """The automatic rule's one atomic step: `decide` gets every incident that is not
        closed and returns either one of them changed (the alert joins it) or a new incident
        (a new id: the alert opens it); that is stored. Calls are serialized across processes,
        so two alerts that arrive together never open two incidents where one should hold
        both. Conflict if the alert is linked already (check `for_alert` first)."""

    def for_alert(self, alert_id: str) -> Incident | None:
        """The incident the alert is linked to, if any."""

    def for_vehicle(self, vehicle_id: str) -> builtins.list[Incident]:
        """Incidents that are not closed and have a task, in any state, for the vehicle;
        oldest first."""

    def list(
        self,
        state: IncidentState | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[Incident]:
        """Incidents opened at or after `since`, oldest first; past `limit`, the newest."""

    def list_open(self) -> builtins.list[Incident]:
        """Every incident that is not closed, oldest first."""


class Store(Protocol):
    # Read-only members: a protocol attribute that is settable is invariant, so no backend's
    # concrete repository class (SQLiteReadings, MongoReadings) would match it.
    @property
    def readings(self) -> ReadingRepo: ...

    @property
    def dead_letters(self) -> DeadLetterRepo: ...

    @property
    def alerts(self) -> AlertRepo: ...

    @property
    def users(self) -> UserRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def state(self) -> StateRepo: ...

    @property
    def deliveries(self) -> DeliveryRepo: ...

    @property
    def motion_events(self) -> MotionEventRepo: ...

    @property
    def recordings(self) -> RecordingRepo: ...

    @property
    def positions(self) -> PositionRepo: ...

    @property
    def incidents(self) -> IncidentRepo: ...

    @property
    def backend(self) -> str:
        """'sqlite' or 'mongodb'."""

    def ping(self) -> bool: ...

    def close(self) -> None: ...
