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
class Tally:
    """What a reader needs to tell whether a station's readings changed since it last looked."""

    version: int
    """Grows with every reading of the station stored (ReadingRepo.tally)."""
    after: int
    """How many of its readings are stamped after the instant asked about."""
    newest: float | None
    """Stamp of its newest reading; None when none is stored."""


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
    label: str | None = None
    """What moved, where the detector could tell ("person"); None: not known."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a vehicle was at one instant. Identified by (vehicle_id, ts): a position uploaded
    again (a vehicle's queue flushed a second time after an answer was lost) is stored once."""

    vehicle_id: str
    ts: float
    lat: float
    lon: float
    speed: float | None = None
    """Metres per second over the ground."""
    heading: float | None = None
    """Degrees clockwise from true north, 0 to 360."""
    accuracy: float | None = None
    """Horizontal accuracy in metres, as the receiver or browser gives it."""


# The longest a recorded segment may last: the recorder ends one that reaches it, and the index
# looks back this far for segments that overlap a time.
SEGMENT_MAX_S = 300.0


@dataclass(frozen=True, slots=True)
class Segment:
    """One recorded file of a source: fragmented MP4, [start, end) in wall time.

    The file opens with its init section (ftyp + moov, `init_bytes` long), then one fragment
    (moof + mdat) per GOP; HLS addresses the two parts by byte range of the one file.
    """

    source: str
    """`camera:{id}` or `vehicle:{id}`, as the media hub names sources."""
    start: float
    end: float
    path: str
    """POSIX path under the data directory."""
    bytes: int
    init_bytes: int
    keyframes: tuple[float, ...]
    """Times of the keyframes (fragment starts), seconds after `start`."""
    codec: str
    """RFC 6381 codecs string, e.g. avc1.42e01f."""
    width: int
    height: int
    init_id: str
    """Digest of the init section: segments with the same one share an EXT-X-MAP."""
    motion: bool | None = None
    """Motion seen in the segment; None while nothing has analysed it."""
    id: str | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Pin:
    """Recordings of a source in [start, end] that retention keeps, for an owner (an incident)
    until `until`, or for as long as the pin exists when `until` is None."""

    owner: str
    source: str
    start: float
    end: float
    until: float | None = None


@dataclass(frozen=True, slots=True)
class Deletions:
    """Recording segments deleted so far, for one reason (age, disk_cap, min_free, missing)."""

    reason: str
    segments: int
    bytes: int


IncidentState = Literal["open", "monitoring", "closed"]
INCIDENT_STATES: tuple[IncidentState, ...] = ("open", "monitoring", "closed")
TaskState = Literal["dispatched", "acknowledged", "arrived", "done", "cancelled"]
# A vehicle on a task in one of these states is on its way: its positions are watched for
# arrival, and its crew sees the task as current.
ACTIVE_TASK_STATES: tuple[TaskState, ...] = ("dispatched", "acknowledged")


@dataclass(frozen=True, slots=True)
class Area:
    """Where an incident is: a circle, a polygon, or both (inside either is inside)."""

    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    polygon: tuple[tuple[float, float], ...] = ()
    """(lat, lon) vertices, not closed (the last joins the first)."""


@dataclass(frozen=True, slots=True)
class IncidentAlert:
    """An alert linked to an incident, as last seen (its own history stays with the alert)."""

    alert_id: str
    source: str
    """`station:{id}`, `camera:{id}` or `vehicle:{id}`."""
    kind: str
    severity: Severity
    state: AlertState
    raised_at: float
    changed_at: float
    """Data time of the alert's latest change that the incident has seen."""
    linked_at: float
    linked_by: str | None = None
    """None: linked by the automatic rule."""


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    ts: float
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class Task:
    """A vehicle sent to an incident: dispatched -> acknowledged (by its crew) -> arrived (it
    entered the incident's area) -> done; cancelled at any point before done."""

    id: str
    vehicle_id: str
    state: TaskState
    dispatched_at: float
    dispatched_by: str
    instructions: str = ""
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    arrived_at: float | None = None
    """Time of the first position inside the area."""
    ended_at: float | None = None
    ended_by: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One entry of an incident's own history (its alerts' histories stay with the alerts)."""

    ts: float
    kind: str
    """opened, linked, edited, state, source_added, source_removed, note, dispatched,
    acknowledged, arrived, done, cancelled."""
    by: str | None = None
    """Who did it; None for ECC itself (the automatic rule, the geofence)."""
    detail: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    title: str
    severity: Severity
    state: IncidentState
    area: Area
    opened_at: float
    opened_by: str | None
    """None: opened by the automatic rule."""
    updated_at: float
    activity_at: float
    """Data time of the latest change of a linked alert (or the opening): the join window
    of the automatic rule counts from it."""
    description: str = ""
    closed_at: float | None = None
    sources: tuple[str, ...] = ()
    """`camera:{id}`, `vehicle:{id}`, `station:{id}`: whose recordings and readings belong to it."""
    alerts: tuple[IncidentAlert, ...] = ()
    notes: tuple[Note, ...] = ()
    tasks: tuple[Task, ...] = ()
    history: tuple[IncidentEvent, ...] = ()
    rev: int = 0
    """Bumped by every stored change; what a concurrent change compares against."""
