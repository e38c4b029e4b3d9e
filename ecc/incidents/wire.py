"""Incidents on the wire (HTTP, WebSocket `incident` events, MQTT `events/incident`)."""

from __future__ import annotations

from typing import Any

from ecc.config.settings import IncidentSettings
from ecc.incidents import lifecycle
from ecc.incidents.timeline import Entry
from ecc.storage.models import Area, Incident, IncidentAlert, Note, Task
from ecc.times import iso, iso_or_none


def area_to_wire(area: Area) -> dict[str, Any]:
    return {
        "lat": area.lat,
        "lon": area.lon,
        "radius_m": area.radius_m,
        "polygon": [[lat, lon] for lat, lon in area.polygon],
    }


def _link(a: IncidentAlert) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "source": a.source,
        "kind": a.kind,
        "severity": a.severity,
        "state": a.state,
        "raised_at": iso(a.raised_at),
        "changed_at": iso(a.changed_at),
        "linked_at": iso(a.linked_at),
        "linked_by": a.linked_by,
    }


def _note(n: Note) -> dict[str, Any]:
    return {"id": n.id, "ts": iso(n.ts), "by": n.by, "text": n.text}


def task_to_wire(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "vehicle_id": t.vehicle_id,
        "state": t.state,
        "instructions": t.instructions,
        "dispatched_at": iso(t.dispatched_at),
        "dispatched_by": t.dispatched_by,
        "acknowledged_at": iso_or_none(t.acknowledged_at),
        "acknowledged_by": t.acknowledged_by,
        "arrived_at": iso_or_none(t.arrived_at),
        "ended_at": iso_or_none(t.ended_at),
        "ended_by": t.ended_by,
    }


def incident_to_wire(incident: Incident, settings: IncidentSettings) -> dict[str, Any]:
    start, end = lifecycle.span(incident)
    return {
        "id": incident.id,
        "title": incident.title,
        "title_cause": lifecycle.title_cause(incident),
        "severity": incident.severity,
        "state": incident.state,
        "description": incident.description,
        "area": area_to_wire(incident.area),
        "opened_at": iso(incident.opened_at),
        "opened_by": incident.opened_by,
        "origin": "auto" if incident.opened_by is None else "manual",
        "closed_at": iso_or_none(incident.closed_at),
        "updated_at": iso(incident.updated_at),
        "activity_at": iso(incident.activity_at),
        # What happened, and what a review or an export covers (with pre- and post-roll).
        "span": {"start": iso(start), "end": iso(end)},
        "review": {
            "start": iso(start - settings.pre_roll_s),
            "end": iso(end + settings.post_roll_s),
        },
        "sources": list(incident.sources),
        "rev": incident.rev,
        "alerts": [_link(a) for a in incident.alerts],
        "notes": [_note(n) for n in incident.notes],
        "tasks": [task_to_wire(t) for t in incident.tasks],
    }


def entry_to_wire(e: Entry) -> dict[str, Any]:
    return {**e.detail, "ts": iso(e.ts), "kind": e.kind, "by": e.by}
