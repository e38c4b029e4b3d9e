"""A dispatch from start to arrival: the operator sends a vehicle, its crew sees the task on the
vehicle page and acknowledges it there, `ecc vehicle` drives a GPS track into the incident's
area, and the arrival (at the first position inside it) is on the incident's timeline after the
dispatch and the acknowledgement, with who did each; the crew's page shows it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecc import times
from ecc.incidents import geo
from ecc.storage.models import Area
from tests.browser.helpers import sign_in
from tests.support.center import RunningCenter
from tests.support.vehicles import DEPOT, agent, route, write_track

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The drive goes north-east from the depot at about 9.5 m/s: it enters this circle after about
# four seconds.
AREA = Area(DEPOT[0] + 8 * 6e-5, DEPOT[1] + 8 * 7e-5, 40.0)


def test_dispatch_acknowledge_on_the_vehicle_page_and_arrive(
    page: Page, center: RunningCenter, tmp_path: Path
) -> None:
    assert not geo.inside(AREA, *DEPOT)
    r = center.post(
        "/api/incidents",
        "operator",
        json={
            "title": "新碶中心广场积水",
            "severity": "danger",
            "area": {"lat": AREA.lat, "lon": AREA.lon, "radius_m": AREA.radius_m},
        },
    )
    assert r.status_code == 201, r.text
    incident = r.json()["id"]

    sign_in(page, center, "crew", "/vehicle")
    expect(page.locator("#vehicle-tasks")).to_be_visible()
    expect(page.locator("#vehicle-select")).to_have_value("cmd-1")
    expect(page.locator("#task-items li")).to_have_count(0)

    r = center.post(
        f"/api/incidents/{incident}/tasks",
        "operator",
        json={"vehicle_id": "cmd-1", "instructions": "前往广场封闭道路"},
    )
    assert r.status_code == 201, r.text
    task = r.json()["tasks"][0]["id"]
    item = page.locator(f"#task-items li[data-task-id='{task}']")
    # The task comes with the `incident` event, announced on the page.
    expect(item).to_have_attribute("data-state", "dispatched")
    expect(item).to_contain_text("前往广场封闭道路")
    expect(page.locator("#alert-banner")).to_contain_text("新碶中心广场积水")
    item.locator("button.task-ack").click()
    expect(item).to_have_attribute("data-state", "acknowledged")
    expect(item.locator("button.task-ack")).to_have_count(0)

    track = write_track(tmp_path / "drive.nmea", route(20))
    driving = agent(
        center.url,
        center.token("crew"),
        tmp_path / "agent",
        *("--gps", str(track), "--interval", "1"),
    ).start()
    try:
        expect(item).to_have_attribute("data-state", "arrived", timeout=40_000)
    finally:
        output = driving.stop()
    assert "Traceback" not in output, output

    timeline = center.get(f"/api/incidents/{incident}/timeline", "leader").json()
    tasks = [(e["kind"], e["by"]) for e in timeline if e["kind"].startswith("task.")]
    assert tasks == [
        ("task.dispatched", "operator"),
        ("task.acknowledged", "crew"),
        ("task.arrived", None),
    ]
    arrived = next(e for e in timeline if e["kind"] == "task.arrived")
    # The arrival is the time of the first position inside the area.
    positions = center.store.positions.track("cmd-1", 0, time.time() + 60)
    first_inside = next(p for p in positions if geo.inside(AREA, p.lat, p.lon))
    assert (
        arrived["ts"] == center.get(f"/api/incidents/{incident}").json()["tasks"][0]["arrived_at"]
    )
    assert abs(times.parse(arrived["ts"]) - first_inside.ts) < 0.002
    assert all(not geo.inside(AREA, p.lat, p.lon) for p in positions if p.ts < first_inside.ts)
