"""An incident as a plain document: JSON in SQLite, BSON in MongoDB, the same shape in both.

An incident is read and written whole (its notes, tasks and history are small and always
shown together), so each backend keeps it as one document beside the indexes it needs.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ecc.storage.models import (
    Area,
    Incident,
    IncidentAlert,
    IncidentEvent,
    Note,
    Task,
)


def to_doc(incident: Incident) -> dict[str, Any]:
    """Every field but `id` and `rev`, which each backend keeps in its own way."""
    doc = asdict(incident)
    del doc["id"], doc["rev"]
    doc["area"]["polygon"] = [list(p) for p in incident.area.polygon]
    doc["sources"] = list(incident.sources)
    return doc


def from_doc(incident_id: str, rev: int, doc: dict[str, Any]) -> Incident:
    area = doc["area"]
    return Incident(
        id=incident_id,
        title=doc["title"],
        severity=doc["severity"],
        state=doc["state"],
        area=Area(
            lat=area["lat"],
            lon=area["lon"],
            radius_m=area["radius_m"],
            polygon=tuple((float(lat), float(lon)) for lat, lon in area["polygon"]),
        ),
        opened_at=doc["opened_at"],
        opened_by=doc["opened_by"],
        updated_at=doc["updated_at"],
        activity_at=doc["activity_at"],
        description=doc["description"],
        closed_at=doc["closed_at"],
        sources=tuple(doc["sources"]),
        alerts=tuple(IncidentAlert(**a) for a in doc["alerts"]),
        notes=tuple(Note(**n) for n in doc["notes"]),
        tasks=tuple(Task(**t) for t in doc["tasks"]),
        history=tuple(IncidentEvent(**e) for e in doc["history"]),
        rev=rev,
    )


def alert_ids(incident: Incident) -> set[str]:
    return {a.alert_id for a in incident.alerts}


def task_vehicles(incident: Incident) -> set[str]:
    return {t.vehicle_id for t in incident.tasks}
