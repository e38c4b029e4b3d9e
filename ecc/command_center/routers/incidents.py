"""Incidents: open by hand, edit, move through open -> monitoring -> closed, link alerts and
sources, take notes, dispatch vehicles (whose crews acknowledge), and read the timeline.

Incidents opened by alerts come from the automatic rule (ecc.ingest.incidents). Every change
goes through the desk (ecc.incidents.desk), which pins the recordings of the incident's sources
and announces the incident on the bus, so every node's dashboards follow it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecc.command_center.deps import Principal, SiteDep, StoreDep, allow
from ecc.command_center.params import time_param, unprocessable
from ecc.config import Site
from ecc.incidents import Desk, lifecycle
from ecc.incidents.wire import entry_to_wire, task_to_wire
from ecc.storage import Store
from ecc.storage.models import Area, Incident, Severity

router = APIRouter(prefix="/api", tags=["incidents"])

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Source = Annotated[
    str,
    Field(
        pattern=r"^(camera|vehicle|station):[a-z0-9][a-z0-9-]{0,62}$",
        description="camera:{id}, vehicle:{id} or station:{id}",
    ),
]


class AreaIn(BaseModel):
    """A circle (lat, lon, radius_m), a polygon of at least three (lat, lon) vertices, or both."""

    model_config = ConfigDict(extra="forbid")

    lat: Latitude | None = None
    lon: Longitude | None = None
    radius_m: float | None = Field(None, gt=0, le=100_000)
    polygon: list[tuple[Latitude, Longitude]] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> AreaIn:
        circle = (self.lat, self.lon, self.radius_m)
        if any(v is not None for v in circle) and any(v is None for v in circle):
            raise ValueError("a circle needs lat, lon and radius_m together")
        if self.polygon and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least three vertices")
        return self

    def to_area(self) -> Area:
        return Area(self.lat, self.lon, self.radius_m, tuple(self.polygon))


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    severity: Severity = "warning"
    description: str = Field("", max_length=5000)
    area: AreaIn | None = None
    sources: list[Source] = Field(default_factory=list, max_length=64)
    alerts: list[str] = Field(
        default_factory=list, max_length=100, description="ids of alerts to link"
    )


class IncidentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    severity: Severity | None = None
    description: str | None = Field(None, max_length=5000)
    area: AreaIn | None = None
    state: Literal["open", "monitoring", "closed"] | None = None
    note: str | None = Field(None, max_length=2000, description="why the state changes")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)


class AlertLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_id: str = Field(min_length=1, max_length=64)


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Source


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vehicle_id: str = Field(min_length=1, max_length=63)
    instructions: str = Field("", max_length=2000)


class TaskEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["done", "cancelled"]


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _known(site: Site, source: str) -> None:
    kind, _, ident = source.partition(":")
    found = {
        "camera": site.camera,
        "vehicle": site.vehicle,
        "station": site.station,
    }[kind](ident)
    if found is None:
        raise unprocessable(f"sources: the site has no {kind} {ident!r}")


@router.get("/incidents")
def list_incidents(
    request: Request,
    store: StoreDep,
    _: Annotated[Principal, allow("incidents.read")],
    state: Literal["open", "monitoring", "closed"] | None = None,
    since: Annotated[
        str | None, Query(description="opened at or after: RFC 3339 or epoch seconds")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """Incidents, oldest first; no `state` means every state."""
    desk = desk_of(request)
    found = store.incidents.list(state=state, since=time_param("since", since), limit=limit)
    return [desk.wire(i) for i in found]


@router.post("/incidents", status_code=status.HTTP_201_CREATED)
def create_incident(
    body: IncidentCreate,
    request: Request,
    site: SiteDep,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    """Open an incident by hand. With no area, it is a circle around its first station or
    camera, or its first alert's source (`incidents.area_radius_m`); its alerts' sources join
    its sources."""
    desk = desk_of(request)
    for source in body.sources:
        _known(site, source)
    area = body.area.to_area() if body.area is not None else Area()
    incident = lifecycle.opened(
        uuid.uuid4().hex,
        body.title,
        body.severity,
        area,
        time.time(),
        user.username,
        body.description,
        tuple(body.sources),
    )
    return desk.wire(desk.create(incident, body.alerts))


def _get(store: Store, incident_id: str) -> Incident:
    return store.incidents.get(incident_id)


@router.get("/incidents/{incident_id}")
def get_incident(
    incident_id: str,
    request: Request,
    store: StoreDep,
    _: Annotated[Principal, allow("incidents.read")],
) -> dict[str, Any]:
    return desk_of(request).wire(_get(store, incident_id))


def _changed(
    request: Request, incident_id: str, by: str, step: Callable[[Incident, float], Incident]
) -> dict[str, Any]:
    """Store `step(incident, now)` as `by`'s change; the answer is the incident on the wire."""
    desk = desk_of(request)
    return desk.wire(desk.change(incident_id, lambda i: step(i, time.time()), by))


@router.patch("/incidents/{incident_id}")
def update_incident(
    incident_id: str,
    body: IncidentUpdate,
    request: Request,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    """Change the title, severity, description or area, and/or the state (open, monitoring,
    closed; a closed incident may be reopened), with a note saying why."""
    by = user.username
    area = body.area.to_area() if body.area is not None else None

    def apply(i: Incident, now: float) -> Incident:
        i = lifecycle.edited(i, now, by, body.title, body.severity, body.description, area)
        if body.state is not None and body.state != i.state:
            i = lifecycle.moved(i, body.state, now, by, body.note)
        return i

    return _changed(request, incident_id, by, apply)


@router.get("/incidents/{incident_id}/timeline")
def timeline(
    incident_id: str,
    request: Request,
    store: StoreDep,
    _: Annotated[Principal, allow("incidents.read")],
) -> list[dict[str, Any]]:
    """Every event in order: the alerts' raises, escalations, acknowledgements and resolutions;
    notes; dispatches, acknowledgements and arrivals; state changes; each with who did it
    (`by` null: ECC itself)."""
    desk = desk_of(request)
    return [entry_to_wire(e) for e in desk.timeline(_get(store, incident_id))]


@router.post("/incidents/{incident_id}/notes", status_code=status.HTTP_201_CREATED)
def add_note(
    incident_id: str,
    body: NoteIn,
    request: Request,
    user: Annotated[Principal, allow("incidents.note")],
) -> dict[str, Any]:
    note_id = uuid.uuid4().hex[:12]
    by = user.username
    return _changed(
        request, incident_id, by, lambda i, now: lifecycle.noted(i, note_id, now, by, body.text)
    )


@router.post("/incidents/{incident_id}/alerts")
def link_alert(
    incident_id: str,
    body: AlertLink,
    request: Request,
    store: StoreDep,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    """Link an alert (409 if another incident holds it; unlink it there first)."""
    desk = desk_of(request)
    _get(store, incident_id)
    return desk.wire(desk.link(incident_id, body.alert_id, user.username))


@router.delete("/incidents/{incident_id}/alerts/{alert_id}")
def unlink_alert(
    incident_id: str,
    alert_id: str,
    request: Request,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    by = user.username
    return _changed(
        request, incident_id, by, lambda i, now: lifecycle.unlinked(i, alert_id, now, by)
    )


@router.post("/incidents/{incident_id}/sources")
def add_source(
    incident_id: str,
    body: SourceIn,
    request: Request,
    site: SiteDep,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    """Add a camera, vehicle or station whose recordings or readings belong to the incident."""
    _known(site, body.source)
    by = user.username
    return _changed(
        request, incident_id, by, lambda i, now: lifecycle.source_added(i, body.source, now, by)
    )


@router.delete("/incidents/{incident_id}/sources/{source}")
def remove_source(
    incident_id: str,
    source: str,
    request: Request,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    by = user.username
    return _changed(
        request, incident_id, by, lambda i, now: lifecycle.source_removed(i, source, now, by)
    )


@router.post("/incidents/{incident_id}/tasks", status_code=status.HTTP_201_CREATED)
def dispatch(
    incident_id: str,
    body: TaskIn,
    request: Request,
    site: SiteDep,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    """Send a vehicle: its crew sees the task on the vehicle page and acknowledges it; it has
    arrived when one of its positions falls inside the incident's area."""
    if site.vehicle(body.vehicle_id) is None:
        raise unprocessable(f"vehicle_id: the site has no vehicle {body.vehicle_id!r}")
    task_id = uuid.uuid4().hex[:12]
    by = user.username

    def apply(i: Incident, now: float) -> Incident:
        return lifecycle.dispatched(i, task_id, body.vehicle_id, now, by, body.instructions)

    return _changed(request, incident_id, by, apply)


@router.post("/incidents/{incident_id}/tasks/{task_id}/ack")
def acknowledge_task(
    incident_id: str,
    task_id: str,
    request: Request,
    user: Annotated[Principal, allow("vehicles.report")],
) -> dict[str, Any]:
    """The crew has the task (from the vehicle page)."""
    by = user.username
    return _changed(
        request, incident_id, by, lambda i, now: lifecycle.acknowledged(i, task_id, now, by)
    )


@router.patch("/incidents/{incident_id}/tasks/{task_id}")
def end_task(
    incident_id: str,
    task_id: str,
    body: TaskEnd,
    request: Request,
    user: Annotated[Principal, allow("incidents.manage")],
) -> dict[str, Any]:
    """Done (the vehicle's work there is over; it must have arrived) or cancelled (recalled)."""
    by = user.username
    return _changed(
        request, incident_id, by, lambda i, now: lifecycle.ended(i, task_id, body.state, now, by)
    )


@router.get("/vehicles/{vehicle_id}/tasks")
def vehicle_tasks(
    vehicle_id: str,
    request: Request,
    site: SiteDep,
    store: StoreDep,
    _: Annotated[Principal, allow("incidents.read")],
) -> list[dict[str, Any]]:
    """The vehicle's tasks in incidents that are not closed, newest first, each with its
    incident (title, severity, state, area), for the crew's page."""
    if site.vehicle(vehicle_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no vehicle {vehicle_id!r}")
    desk = desk_of(request)
    out: list[dict[str, Any]] = []
    for incident in store.incidents.for_vehicle(vehicle_id):
        wire = desk.wire(incident)
        keys = ("id", "title", "title_cause", "severity", "state", "area", "opened_at")
        summary = {k: wire[k] for k in keys}
        for task in incident.tasks:
            if task.vehicle_id == vehicle_id:
                out.append({**task_to_wire(task), "incident": summary})
    out.sort(key=lambda t: str(t["dispatched_at"]), reverse=True)
    return out
