"""An incident's export on a real center over real recordings: a job with progress, the zip
(every clip decodes, each lasts the review window and shows the right clock, the timeline is
whole, readings and tracks are there), the HTML report opening in Chromium with no network, the
audit log, and `ecc export incident` with its progress."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import orjson
import pytest
from playwright.sync_api import Browser, sync_playwright

from ecc.config import Settings, Site
from ecc.config.settings import IncidentSettings
from ecc.incidents import lifecycle
from ecc.storage import Store
from ecc.storage.models import Area, NewAlert, Position, Reading
from tests.browser.conftest import ARGS, CHROMIUM
from tests.integration.test_cli import env_for
from tests.support.center import RunningCenter
from tests.support.clock_video import read_clock, record_clock
from tests.support.ingest import wait_for

ROLL_S = 5.0
CAMERAS = ("town-xinqi", "underpass-mingzhou")
STATION = "zhonghe-xinqi"


@pytest.fixture
def roll_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"incidents": IncidentSettings(pre_roll_s=ROLL_S, post_roll_s=ROLL_S)}
    )


@pytest.fixture
def center(roll_settings: Settings, site: Site, store: Store) -> Iterator[RunningCenter]:
    c = RunningCenter(roll_settings, site, store).start()
    c.add_users()
    yield c
    c.stop()


def recorded_incident(center: RunningCenter) -> tuple[str, float]:
    """Two cameras recorded for 40 s (the second from 2.3 s later), a station's readings, a
    vehicle's track, and an incident of 20 s from 10 s in, with its alert, a note, a dispatch,
    an acknowledgement, an arrival and its closing."""
    store = center.store
    data = Path(center.settings.data_dir)
    t0 = float(round(time.time()) - 900)
    record_clock(store, data, f"camera:{CAMERAS[0]}", t0, 40)
    record_clock(store, data, f"camera:{CAMERAS[1]}", t0 + 2.3, 38)
    store.readings.insert(
        [Reading(STATION, t0 + 5 * k, {"water_level": 2.5 + 0.05 * k}) for k in range(9)]
    )
    alert = store.alerts.insert(
        NewAlert("level", "warning", "station", STATION, "water_level", 2.85, 2.8, "m", t0 + 12)
    )
    store.alerts.escalate(alert.id, "danger", 3.1, 3.0, "m", t0 + 16)
    store.alerts.resolve(alert.id, t0 + 28, value=2.7)
    desk = center.app.state.desk
    opened = lifecycle.opened(
        "exportcase1",
        "中河新碶站内涝",
        "warning",
        Area(29.9006, 121.8473, 800.0),
        t0 + 10,
        "operator",
        sources=(f"station:{STATION}", *(f"camera:{c}" for c in CAMERAS)),
    )
    desk.create(opened, [alert.id])
    steps = [
        lambda i: lifecycle.noted(i, "n1", t0 + 13, "leader", "请注意下穿通道"),
        lambda i: lifecycle.dispatched(i, "t1", "cmd-1", t0 + 14, "operator", "封路"),
        lambda i: lifecycle.acknowledged(i, "t1", t0 + 15, "crew"),
    ]
    for step in steps:
        desk.change("exportcase1", step, None)
    track = [Position("cmd-1", t0 + 15 + k, 29.915 - 0.003 * k, 121.8473) for k in range(6)]
    store.positions.insert(track)
    desk.positions("cmd-1", track)
    desk.change(
        "exportcase1", lambda i: lifecycle.moved(i, "closed", t0 + 30, "operator", "已排水"), None
    )
    incident = store.incidents.get("exportcase1")
    assert incident.tasks[0].state == "done" and incident.tasks[0].arrived_at is not None
    return incident.id, t0


def test_the_export_holds_everything_and_opens_offline(
    center: RunningCenter, tmp_path: Path
) -> None:
    incident_id, t0 = recorded_incident(center)
    r = center.post(f"/api/incidents/{incident_id}/exports", "leader")
    assert r.status_code == 202, r.text
    job = r.json()
    url = f"/api/incidents/{incident_id}/exports/{job['id']}"
    seen: list[float] = []

    def finished() -> bool:
        state = center.get(url, "leader").json()
        seen.append(state["progress"])
        return state["state"] in ("done", "failed", "cancelled")

    wait_for(finished, timeout=60, what="the export job")
    state = center.get(url, "leader").json()
    assert state["state"] == "done", state
    assert state["progress"] == 1.0 and seen == sorted(seen)
    assert center.get(url, "crew").status_code == 403
    r = center.get(f"/api/incidents/{incident_id}/export.zip", "leader", params={"job": job["id"]})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    exported = zipfile.ZipFile(io.BytesIO(r.content))
    folder = "incident-exportcase1"
    names = set(exported.namelist())
    assert {
        f"{folder}/{n}"
        for n in (
            "report.html",
            "incident.json",
            "timeline.json",
            "timeline.csv",
            f"readings/{STATION}.csv",
            "tracks/cmd-1.csv",
            *(f"clips/camera-{c}.mp4" for c in CAMERAS),
            "manifest.json",
        )
    } == names

    # The clips: each decodes, covers the review window [t0 + 5, t0 + 35] from the keyframe at
    # or before its start, and shows at each moment the time it was recorded.
    window = (t0 + 10 - ROLL_S, t0 + 30 + ROLL_S)
    out = tmp_path / "unzipped"
    exported.extractall(out)
    for camera in CAMERAS:
        path = out / folder / "clips" / f"camera-{camera}.mp4"
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
            duration = float(frames[-1].pts * stream.time_base) + 0.1
            first = read_clock(frames[0].to_ndarray(format="gray"), int(t0 * 1000))
            last = read_clock(frames[-1].to_ndarray(format="gray"), int(t0 * 1000))
        assert first is not None and last is not None
        assert window[0] - 1.0 <= first / 1000 <= window[0]  # a keyframe at most 1 s before
        assert window[1] - 0.2 <= last / 1000 <= window[1] + 0.01
        assert duration == pytest.approx(last / 1000 + 0.1 - first / 1000, abs=0.05)
        assert duration == pytest.approx(window[1] - window[0], abs=1.05)

    manifest = orjson.loads((out / folder / "manifest.json").read_bytes())
    # The dispatched vehicle streamed nothing: said so, not silently left out.
    assert manifest["missing"] == [{"source": "vehicle:cmd-1", "reason": "no_recordings"}]
    assert [f["source"] for f in manifest["files"] if f["kind"] == "clip"] == [
        f"camera:{c}" for c in CAMERAS
    ]

    timeline = orjson.loads((out / folder / "timeline.json").read_bytes())
    assert timeline == center.get(f"/api/incidents/{incident_id}/timeline").json()
    assert [(e["kind"], e["by"]) for e in timeline] == [
        ("incident.opened", "operator"),
        ("incident.linked", "operator"),  # opened with it, before it was raised
        ("alert.raised", None),
        ("note", "leader"),
        ("task.dispatched", "operator"),
        ("task.acknowledged", "crew"),
        ("alert.escalated", None),
        ("task.arrived", None),
        ("alert.resolved", None),
        ("incident.state", "operator"),
    ]
    rows = list(csv.DictReader(io.StringIO((out / folder / "timeline.csv").read_text())))
    assert [(r["kind"], r["by"]) for r in rows] == [
        (k, b or "") for k, b in [(e["kind"], e["by"]) for e in timeline]
    ]
    assert rows[3]["text"] == "请注意下穿通道"
    readings = list(
        csv.DictReader(io.StringIO((out / folder / f"readings/{STATION}.csv").read_text()))
    )
    assert len(readings) == 7  # t0 + 5 ... t0 + 35
    assert float(readings[0]["water_level"]) == pytest.approx(2.55)
    track = list(csv.DictReader(io.StringIO((out / folder / "tracks/cmd-1.csv").read_text())))
    assert len(track) == 6

    # Who exported what.
    entries = center.store.audit.list(action="incidents.export")
    assert [(e.username, e.detail) for e in entries] == [
        ("leader", {"incident": incident_id, "job": job["id"]})
    ]

    report = out / folder / "report.html"
    opened_offline(report)


def opened_offline(report: Path) -> None:
    """Open the report from disk in Chromium with every network request refused."""
    requests: list[str] = []
    with sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def refuse(route: Any) -> None:
                if not route.request.url.startswith("file://"):
                    requests.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            context.route("**/*", refuse)
            page.goto(report.as_uri())
            assert page.title().endswith("中河新碶站内涝")
            assert page.locator("#map svg [data-area=circle]").count() == 1
            assert page.locator("#map svg [data-base]").count() > 3
            assert page.locator("#map svg [data-vehicle=cmd-1]").count() == 1
            assert page.locator("#charts figure[data-metric=water_level] svg polyline").count() >= 1
            assert page.locator("#timeline tbody tr").count() == 10
            assert page.locator("#clips video").count() == 2
            assert page.locator("#clips li.muted").count() == 1  # the vehicle's missing video
            # Laid out, not empty: the map has a size on screen.
            box = page.locator("#map svg").bounding_box()
            assert box is not None and box["width"] > 300
            assert errors == []
        finally:
            browser.close()
    assert requests == []


@pytest.mark.slow
def test_export_zip_at_once_and_from_the_command_line(
    center: RunningCenter, tmp_path: Path
) -> None:
    incident_id, _ = recorded_incident(center)
    r = center.get(f"/api/incidents/{incident_id}/export.zip", "operator")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="incident-exportcase1.zip"'
    assert len(zipfile.ZipFile(io.BytesIO(r.content)).namelist()) == 9
    assert center.get(f"/api/incidents/{incident_id}/export.zip", "crew").status_code == 403
    assert center.get("/api/incidents/nothing/export.zip").status_code == 404
    assert center.get(f"/api/incidents/{incident_id}/exports/nothing").status_code == 404

    settings = center.settings
    env = env_for(
        tmp_path,
        ECC_DATABASE_URL=settings.database_url,
        ECC_DATA_DIR=str(settings.data_dir),
        ECC_INCIDENTS__PRE_ROLL_S=str(ROLL_S),
        ECC_INCIDENTS__POST_ROLL_S=str(ROLL_S),
    )
    out = tmp_path / "cli.zip"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecc",
            "export",
            "incident",
            incident_id,
            "--out",
            str(out),
            "--language",
            "en",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr  # the progress, a line per tenth when not on a terminal
    assert "2 clips" in done.stdout
    names = zipfile.ZipFile(out).namelist()
    assert sorted(names) == sorted(zipfile.ZipFile(io.BytesIO(r.content)).namelist())
    html = zipfile.ZipFile(out).read("incident-exportcase1/report.html").decode()
    assert '<html lang="en">' in html and "Vehicle arrived" in html
    assert [e.username for e in center.store.audit.list(action="incidents.export")][-1].startswith(
        "cli:"
    )
    missing = subprocess.run(
        [sys.executable, "-m", "ecc", "export", "incident", "nothing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "no incident nothing" in missing.stderr
