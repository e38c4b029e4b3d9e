"""The Store contract: one set of repositories that every backend provides alike.

Methods are synchronous: the backends' drivers are (sqlite3, pymongo). Async code calls them in a
worker thread (FastAPI does so for plain `def` routes), never on the event loop.

Each kind of record has its own repository; later parts of ECC add theirs here (incidents,
recording segments, vehicle tracks, motion events) and in each backend, beside these.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Protocol

from ecc.storage.models import (
    Alert,
    AlertState,
    AuditEntry,
    Bucket,
    DeadLetter,
    Delivery,
    Latest,
    MotionEvent,
    NewAlert,
    Point,
    Reading,
    Severity,
    SourceType,
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
    def backend(self) -> str:
        """'sqlite' or 'mongodb'."""

    def ping(self) -> bool: ...

    def close(self) -> None: ...
