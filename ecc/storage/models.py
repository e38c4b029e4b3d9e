"""What the store holds. Instants are epoch seconds (UTC floats), as everywhere inside ECC."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "danger", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "danger", "critical")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
AlertState = Literal["active", "acknowledged", "resolved"]
SourceType = Literal["station", "camera", "vehicle"]
AlertEventKind = Literal["raised", "escalated", "deescalated", "acknowledged", "resolved"]
Role = Literal["admin", "operator", "leader", "crew"]
ROLES: tuple[Role, ...] = ("admin", "operator", "leader", "crew")


@dataclass(frozen=True, slots=True)
class Reading:
    """One station message: its values at one instant. Identified by (station_id, ts)."""

    station_id: str
    ts: float
    values: dict[str, float]
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class Point:
    ts: float
    value: float


@dataclass(frozen=True, slots=True)
class Bucket:
    """Readings of one metric in [ts, ts + step): the step is epoch-aligned."""

    ts: float
    min: float
    avg: float
    max: float
    count: int


@dataclass(frozen=True, slots=True)
class Latest:
    station_id: str
    metric: str
    ts: float
    value: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that failed validation, kept with its raw bytes so nothing is silently lost."""

    topic: str
    reason: str
    raw: bytes
    received_at: float
    id: str | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    ts: float
    event: AlertEventKind
    severity: Severity
    value: float | None = None
    threshold: float | None = None
    by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class NewAlert:
    kind: str
    severity: Severity
    source_type: SourceType
    source_id: str
    metric: str | None
    value: float | None
    threshold: float | None
    message: str
    raised_at: float
    require_ack: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    kind: str
    severity: Severity
    state: AlertState
    source_type: SourceType
    source_id: str
    metric: str | None
    value: float | None
    threshold: float | None
    message: str
    raised_at: float
    updated_at: float
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    resolved_at: float | None = None
    require_ack: bool = False
    history: tuple[AlertEvent, ...] = ()

    @property
    def open_key(self) -> str:
        return open_key(self.source_type, self.source_id, self.kind, self.metric)


def open_key(source_type: str, source_id: str, kind: str, metric: str | None) -> str:
    """At most one unresolved alert exists per (source, kind, metric); this is its key."""
    return f"{source_type}:{source_id}|{kind}|{metric or ''}"


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    password_hash: str
    created_at: float
    disabled: bool = False
    language: str = "zh-CN"
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when and from where."""

    ts: float
    action: str
    username: str | None = None
    target: str | None = None
    address: str | None = None
    status: int | None = None
    detail: dict[str, Any] | None = field(default=None)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one alert change to one webhook.

    `key` names what is delivered (alert, change, webhook) and is the same for every attempt
    at it, whichever process makes it: a change is delivered when one of its attempts is `ok`.
    """

    key: str
    webhook: str
    alert_id: str
    event: str
    severity: str
    attempt: int
    ts: float
    ok: bool
    status: int | None = None
    error: str | None = None
    duration_ms: float = 0.0
    id: str | None = None


@dataclass(frozen=True, slots=True)
class MotionEvent:
    """Movement in one zone of one camera, from its start to its end (None while it goes on)."""

    id: str
    camera_id: str
    zone: str
    start: float
    end: float | None
    peak_score: float
    """Largest moving fraction of the zone, 0..1."""
    box: tuple[float, float, float, float]
    """x, y, width, height of where it moved at the peak, as fractions of the picture."""
    thumbnail: str | None = None
    """Path of the JPEG under DATA_DIR."""
    alert_id: str | None = None
    """The intrusion alert the event raised or joined."""
    announced: bool = True
    """False when the camera's rate limit held the event back from dashboards and alerts."""
