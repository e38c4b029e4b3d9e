"""Incidents through the API of a real center: opened by hand, notes, linked alerts, dispatch,
the crew's acknowledgement, arrival by geofence on position reports, state changes, the
timeline with who did what, the recordings pinned, and the `incident` events on the WebSocket."""

from __future__ import annotations

import time

import httpx
import pytest

from ecc import times
from ecc.incidents.desk import OPEN_END
from ecc.storage.models import NewAlert
from tests.integration.test_events import events, next_of
from tests.support.center import RunningCenter


def test_an_incident_from_opening_to_closing(center: RunningCenter) -> None:
    settings = center.settings.incidents
    with events(center, "crew") as ws:
        r = center.post(
            "/api/incidents",
            "operator",
            json={
                "title": "明州路下穿积水",
                "severity": "danger",
                "sources": ["station:zhonghe-xinqi", "camera:underpass-mingzhou"],
            },
        )
        assert r.status_code == 201, r.text
        incident = r.json()
        event = next_of(ws, "incident")
    iid = incident["id"]
    assert event["id"] == iid and event["change"] == {"kind": "opened", "by": "operator"}
    assert incident["state"] == "open" and incident["origin"] == "manual"
    # No area given: a circle around the first station.
    assert incident["area"] == {
        "lat": 29.9006,
        "lon": 121.8473,
        "radius_m": settings.area_radius_m,
        "polygon": [],
    }
    pins = center.store.recordings.pins(owner=f"incident:{iid}")
    assert [(p.source, p.end) for p in pins] == [("camera:underpass-mingzhou", OPEN_END)]

    assert center.post("/api/incidents", "crew", json={"title": "x"}).status_code == 403
    assert (
        center.post(f"/api/incidents/{iid}/notes", "crew", json={"text": "已到路口"}).status_code
        == 201
    )

    alert = center.store.alerts.insert(
        NewAlert(
            "level",
            "warning",
            "station",
            "zhonghe-xinqi",
            "water_level",
            2.9,
            2.8,
            "m",
            time.time(),
        )
    )
    r = center.post(f"/api/incidents/{iid}/alerts", "operator", json={"alert_id": alert.id})
    assert r.status_code == 200, r.text
    assert [a["alert_id"] for a in r.json()["alerts"]] == [alert.id]
    assert center.post(f"/api/alerts/{alert.id}/ack", "operator").status_code == 200

    r = center.post(
        f"/api/incidents/{iid}/tasks",
        "operator",
        json={"vehicle_id": "cmd-1", "instructions": "封闭下穿通道"},
    )
    assert r.status_code == 201, r.text
    [task] = r.json()["tasks"]
    assert task["state"] == "dispatched" and "vehicle:cmd-1" in r.json()["sources"]
    # A vehicle can't be sent twice to one incident while its task is under way.
    again = center.post(f"/api/incidents/{iid}/tasks", "operator", json={"vehicle_id": "cmd-1"})
    assert again.status_code == 409

    mine = center.get("/api/vehicles/cmd-1/tasks", "crew").json()
    assert [(t["id"], t["incident"]["id"]) for t in mine] == [(task["id"], iid)]
    assert center.get("/api/vehicles/cmd-2/tasks", "crew").json() == []
    ack = center.post(f"/api/incidents/{iid}/tasks/{task['id']}/ack", "crew")
    assert ack.status_code == 200 and ack.json()["tasks"][0]["state"] == "acknowledged"
    assert (
        center.post(f"/api/incidents/{iid}/tasks/{task['id']}/ack", "operator").status_code == 403
    )

    # On the way: outside the area; then a fix inside it, which is the arrival.
    far = {"ts": time.time(), "lat": 29.95, "lon": 121.70}
    assert center.post("/api/vehicles/cmd-1/position", "crew", json=far).status_code == 200
    assert (
        center.get(f"/api/incidents/{iid}", "leader").json()["tasks"][0]["state"] == "acknowledged"
    )
    near = {"ts": time.time(), "lat": 29.9030, "lon": 121.8480}
    assert center.post("/api/vehicles/cmd-1/positions", "crew", json=[near]).status_code == 200
    arrived = center.get(f"/api/incidents/{iid}", "leader").json()["tasks"][0]
    assert arrived["state"] == "arrived"
    assert (
        arrived["arrived_at"]
        == center.get(f"/api/incidents/{iid}").json()["tasks"][0]["arrived_at"]
    )

    r = patch(center, f"/api/incidents/{iid}", json={"state": "monitoring"})
    assert r.status_code == 200 and r.json()["state"] == "monitoring"
    r = patch(center, f"/api/incidents/{iid}", json={"state": "closed", "note": "积水已排除"})
    closed = r.json()
    assert closed["state"] == "closed" and closed["tasks"][0]["state"] == "done"
    # PATCH sets: the same state again changes nothing.
    assert patch(center, f"/api/incidents/{iid}", json={"state": "closed"}).json() == closed

    timeline = center.get(f"/api/incidents/{iid}/timeline", "leader").json()
    assert [(e["kind"], e["by"]) for e in timeline] == [
        ("incident.opened", "operator"),
        ("note", "crew"),
        ("alert.raised", None),
        ("incident.linked", "operator"),
        ("alert.acknowledged", "operator"),
        ("task.dispatched", "operator"),
        ("task.acknowledged", "crew"),
        ("task.arrived", None),
        ("incident.state", "operator"),
        ("incident.state", "operator"),
    ]
    assert timeline[-1]["from"] == "monitoring" and timeline[-1]["note"] == "积水已排除"
    assert timeline[7]["lat"] == near["lat"]

    # Closed: the recordings are kept over the span and the post-roll, for the retention.
    pins = {p.source: p for p in center.store.recordings.pins(owner=f"incident:{iid}")}
    # (the linked alert brought its station's other camera)
    assert set(pins) == {"camera:underpass-mingzhou", "camera:town-xinqi", "vehicle:cmd-1"}
    span = closed["span"]
    camera = pins["camera:underpass-mingzhou"]
    # (the wire has milliseconds)
    assert camera.end == pytest.approx(_epoch(span["end"]) + settings.post_roll_s, abs=1e-3)
    assert camera.start == pytest.approx(_epoch(span["start"]) - settings.pre_roll_s, abs=1e-3)
    assert camera.until is not None and camera.until > time.time() + 300 * 86400

    listed = center.get("/api/incidents?state=closed", "crew").json()
    assert [i["id"] for i in listed] == [iid]


def test_bad_requests_are_4xx(center: RunningCenter) -> None:
    bad = [
        {"title": ""},
        {"title": "x", "sources": ["camera:nowhere"]},
        {"title": "x", "area": {"lat": 29.9}},
        {"title": "x", "area": {"polygon": [[29.9, 121.8], [29.8, 121.8]]}},
        {"title": "x", "alerts": ["no-such-alert"]},
    ]
    codes = [center.post("/api/incidents", "operator", json=b).status_code for b in bad]
    assert codes == [422, 422, 422, 422, 404]
    assert center.get("/api/incidents/nothing").status_code == 404
    assert center.get("/api/vehicles/nothing/tasks").status_code == 404


def patch(center: RunningCenter, path: str, json: object, user: str = "operator") -> httpx.Response:
    with center.client(user) as c:
        return c.patch(path, json=json)


def _epoch(iso: str) -> float:
    return times.parse(iso)
