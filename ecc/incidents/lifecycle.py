"""What may happen to an incident, as pure functions from one incident to the next.

The store applies them atomically (IncidentRepo.change); each records itself in the incident's
history with who did it (None: ECC itself). An incident goes open -> monitoring -> closed, and
may go back (monitoring -> open when things worsen, closed -> open to reopen). A task goes
dispatched -> acknowledged -> arrived -> done, or cancelled before done; arrival may come before
the crew acknowledges (they drove there first), and the acknowledgement is still recorded.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ecc.storage import InvalidTransition
from ecc.storage.models import (
    ACTIVE_TASK_STATES,
    SEVERITY_RANK,
    Alert,
    Area,
    Incident,
    IncidentAlert,
    IncidentEvent,
    IncidentState,
    Note,
    Severity,
    Task,
)

# Allowed state changes: from -> to.
MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"monitoring", "closed"}),
    "monitoring": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}


def _event(incident: Incident, ts: float, kind: str, by: str | None, **detail: Any) -> Incident:
    event = IncidentEvent(ts, kind, by, detail or None)
    return replace(
        incident, history=(*incident.history, event), updated_at=max(incident.updated_at, ts)
    )


def _worse(a: Severity, b: Severity) -> Severity:
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


def peak(alert: Alert) -> Severity:
    """The worst severity the alert has had (the store may be ahead of the change being
    handled, so its current severity may already have eased)."""
    worst = alert.severity
    for e in alert.history:
        worst = _worse(worst, e.severity)
    return worst


def _source(alert: Alert) -> str:
    return f"{alert.source_type}:{alert.source_id}"


def with_sources(incident: Incident, sources: list[str]) -> Incident:
    new = [s for s in dict.fromkeys(sources) if s not in incident.sources]
    return replace(incident, sources=(*incident.sources, *new)) if new else incident


def opened(
    incident_id: str,
    title: str,
    severity: Severity,
    area: Area,
    ts: float,
    by: str | None,
    description: str = "",
    sources: tuple[str, ...] = (),
    cause: dict[str, Any] | None = None,
) -> Incident:
    """`cause`: for an incident opened by an alert, what the alert was (source, kind, metric,
    severity), from which a page can say the title in its own language (wire: title_cause)."""
    incident = Incident(
        id=incident_id,
        title=title,
        severity=severity,
        state="open",
        area=area,
        opened_at=ts,
        opened_by=by,
        updated_at=ts,
        activity_at=ts,
        description=description,
        sources=tuple(dict.fromkeys(sources)),
    )
    extra = {"cause": cause} if cause else {}
    return _event(incident, ts, "opened", by, severity=severity, title=title, **extra)


def title_cause(incident: Incident) -> dict[str, Any] | None:
    """The cause of an incident opened by an alert while its title is still the one it was
    given then; None once a person has retitled it (their words are shown as they are)."""
    if not incident.history or incident.history[0].kind != "opened":
        return None
    detail = incident.history[0].detail or {}
    cause = detail.get("cause")
    if not isinstance(cause, dict) or detail.get("title") != incident.title:
        return None
    return cause


def linked(
    incident: Incident, alert: Alert, ts: float, by: str | None, sources: list[str]
) -> Incident:
    """The alert joins the incident (with its source and `sources`, e.g. the station's
    cameras); the incident takes the alert's severity if it is worse."""
    if any(a.alert_id == alert.id for a in incident.alerts):
        return seen(incident, alert)
    link = IncidentAlert(
        alert_id=alert.id,
        source=_source(alert),
        kind=alert.kind,
        severity=alert.severity,
        state=alert.state,
        raised_at=alert.raised_at,
        changed_at=alert.updated_at,
        linked_at=ts,
        linked_by=by,
    )
    changed = replace(
        incident,
        alerts=(*incident.alerts, link),
        severity=_worse(incident.severity, peak(alert)),
        activity_at=max(incident.activity_at, alert.updated_at),
    )
    changed = with_sources(changed, [_source(alert), *sources])
    return _event(
        changed,
        ts,
        "linked",
        by,
        alert_id=alert.id,
        source=link.source,
        severity=alert.severity,
        message=alert.message,
    )


def seen(incident: Incident, alert: Alert) -> Incident:
    """A linked alert changed (escalated, acknowledged, resolved): its link follows, and the
    incident's severity rises with it (it never falls by itself: an operator lowers it)."""
    links = []
    for link in incident.alerts:
        if link.alert_id == alert.id and alert.updated_at >= link.changed_at:
            links.append(
                replace(
                    link, severity=alert.severity, state=alert.state, changed_at=alert.updated_at
                )
            )
        else:
            links.append(link)
    return replace(
        incident,
        alerts=tuple(links),
        severity=_worse(incident.severity, peak(alert)),
        activity_at=max(incident.activity_at, alert.updated_at),
    )


def unlinked(incident: Incident, alert_id: str, ts: float, by: str) -> Incident:
    if not any(a.alert_id == alert_id for a in incident.alerts):
        raise InvalidTransition(f"alert {alert_id} is not linked to incident {incident.id}")
    changed = replace(incident, alerts=tuple(a for a in incident.alerts if a.alert_id != alert_id))
    return _event(changed, ts, "unlinked", by, alert_id=alert_id)


def edited(
    incident: Incident,
    ts: float,
    by: str,
    title: str | None = None,
    severity: Severity | None = None,
    description: str | None = None,
    area: Area | None = None,
) -> Incident:
    changes: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    if title is not None and title != incident.title:
        changes["title"] = detail["title"] = title
    if severity is not None and severity != incident.severity:
        changes["severity"] = detail["severity"] = severity
    if description is not None and description != incident.description:
        changes["description"] = description
        detail["description"] = True
    if area is not None and area != incident.area:
        changes["area"] = area
        detail["area"] = True
    if not changes:
        return incident
    return _event(replace(incident, **changes), ts, "edited", by, **detail)


def moved(
    incident: Incident, state: IncidentState, ts: float, by: str, note: str | None = None
) -> Incident:
    """A state change. Closing ends the tasks still under way (their vehicles are free)."""
    if state == incident.state:
        raise InvalidTransition(f"incident {incident.id} is {state} already")
    if state not in MOVES[incident.state]:
        raise InvalidTransition(f"incident {incident.id}: {incident.state} cannot go to {state}")
    changed = replace(incident, state=state, closed_at=ts if state == "closed" else None)
    if state == "closed":
        changed = replace(
            changed,
            tasks=tuple(
                replace(t, state="done", ended_at=ts, ended_by=by)
                if t.state in (*ACTIVE_TASK_STATES, "arrived")
                else t
                for t in changed.tasks
            ),
        )
    detail: dict[str, Any] = {"from": incident.state, "to": state}
    if note:
        detail["note"] = note
    return _event(changed, ts, "state", by, **detail)


def source_added(incident: Incident, source: str, ts: float, by: str) -> Incident:
    if source in incident.sources:
        raise InvalidTransition(f"{source} is a source of incident {incident.id} already")
    return _event(with_sources(incident, [source]), ts, "source_added", by, source=source)


def source_removed(incident: Incident, source: str, ts: float, by: str) -> Incident:
    if source not in incident.sources:
        raise InvalidTransition(f"{source} is not a source of incident {incident.id}")
    changed = replace(incident, sources=tuple(s for s in incident.sources if s != source))
    return _event(changed, ts, "source_removed", by, source=source)


def noted(incident: Incident, note_id: str, ts: float, by: str, text: str) -> Incident:
    changed = replace(incident, notes=(*incident.notes, Note(note_id, ts, by, text)))
    return _event(changed, ts, "note", by, note_id=note_id, text=text)


def _task(incident: Incident, task_id: str) -> Task:
    for t in incident.tasks:
        if t.id == task_id:
            return t
    raise InvalidTransition(f"incident {incident.id} has no task {task_id}")


def _with_task(incident: Incident, task: Task) -> Incident:
    return replace(incident, tasks=tuple(task if t.id == task.id else t for t in incident.tasks))


def dispatched(
    incident: Incident, task_id: str, vehicle_id: str, ts: float, by: str, instructions: str
) -> Incident:
    if incident.state == "closed":
        raise InvalidTransition(f"incident {incident.id} is closed")
    busy = [t for t in incident.tasks if t.vehicle_id == vehicle_id and t.state != "done"]
    if any(t.state != "cancelled" for t in busy):
        raise InvalidTransition(f"vehicle {vehicle_id} has a task in incident {incident.id}")
    task = Task(task_id, vehicle_id, "dispatched", ts, by, instructions)
    changed = with_sources(
        replace(incident, tasks=(*incident.tasks, task)), [f"vehicle:{vehicle_id}"]
    )
    return _event(
        changed,
        ts,
        "dispatched",
        by,
        task_id=task_id,
        vehicle_id=vehicle_id,
        instructions=instructions,
    )


def acknowledged(incident: Incident, task_id: str, ts: float, by: str) -> Incident:
    task = _task(incident, task_id)
    if task.acknowledged_at is not None:
        raise InvalidTransition(f"task {task_id} is acknowledged already")
    if task.state not in ("dispatched", "arrived"):
        raise InvalidTransition(f"task {task_id} is {task.state}")
    state = "acknowledged" if task.state == "dispatched" else task.state
    task = replace(task, state=state, acknowledged_at=ts, acknowledged_by=by)
    return _event(
        _with_task(incident, task),
        ts,
        "acknowledged",
        by,
        task_id=task_id,
        vehicle_id=task.vehicle_id,
    )


def arrived(incident: Incident, task_id: str, ts: float, lat: float, lon: float) -> Incident:
    """The geofence saw the vehicle inside the area: ECC itself records it."""
    task = _task(incident, task_id)
    if task.state not in ACTIVE_TASK_STATES:
        raise InvalidTransition(f"task {task_id} is {task.state}")
    task = replace(task, state="arrived", arrived_at=ts)
    return _event(
        _with_task(incident, task),
        ts,
        "arrived",
        None,
        task_id=task_id,
        vehicle_id=task.vehicle_id,
        lat=lat,
        lon=lon,
    )


def ended(incident: Incident, task_id: str, outcome: str, ts: float, by: str) -> Incident:
    """A task done (the crew's work there is over) or cancelled (recalled before)."""
    task = _task(incident, task_id)
    if task.state in ("done", "cancelled"):
        raise InvalidTransition(f"task {task_id} is {task.state}")
    if outcome == "done" and task.state != "arrived":
        raise InvalidTransition(f"task {task_id} is {task.state}; only an arrived task is done")
    if outcome not in ("done", "cancelled"):
        raise InvalidTransition(f"a task ends done or cancelled, not {outcome}")
    task = replace(
        task, state="done" if outcome == "done" else "cancelled", ended_at=ts, ended_by=by
    )
    return _event(
        _with_task(incident, task), ts, outcome, by, task_id=task_id, vehicle_id=task.vehicle_id
    )


def active_tasks(incident: Incident, vehicle_id: str) -> list[Task]:
    if incident.state == "closed":
        return []
    return [
        t for t in incident.tasks if t.vehicle_id == vehicle_id and t.state in ACTIVE_TASK_STATES
    ]


def span(incident: Incident) -> tuple[float, float]:
    """From the opening to the closing or, while it is not closed, to its latest event.

    Not "now": an incident opened from a replayed series lives in the series' time, and its
    span must not stretch to today. Recordings of an incident that is not closed are pinned
    with no end (ecc.incidents.desk), so nothing after the latest event is lost meanwhile.
    """
    if incident.closed_at is not None:
        return incident.opened_at, max(incident.closed_at, incident.opened_at)
    latest = max(
        [incident.opened_at, incident.activity_at]
        + [e.ts for e in incident.history]
        + [a.changed_at for a in incident.alerts]
    )
    return incident.opened_at, latest
