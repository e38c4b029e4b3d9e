"""A reading over the danger level, through the real pipeline, onto the operator's wall.

A station reading is published on a real Mosquitto; the sensor ingest worker stores it and
raises the alert; the center relays it to the wall, which shows it, sounds it and brings the
station's camera (a real RTSP camera pushed by the camera worker) into a tile that plays, all
within a second of the publish; the operator acknowledges it from the keyboard.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.media.simulate import RtspCameras
from tests.browser.helpers import eventually
from tests.browser.test_wall import check_sizes, open_wall
from tests.support.center import RunningCenter
from tests.support.ingest import Publisher, RunningIngest
from tests.support.video import (
    MAIN_PROFILE_CLIP,
    WorkerProcess,
    rtsp_cameras,
    video_settings,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LINKED = "camera:town-daqi"  # the camera of the station lujiang-daqi (danger level 3.00 m)

# Marks, in the page's clock (the machine's), when the wall showed the alert, put the camera
# in a tile, and presented the camera's first frame.
TIMELINE_JS = """(source) => {
  window.__wall = {};
  const mark = (k) => { if (!window.__wall[k]) window.__wall[k] = Date.now(); };
  const seen = () => {
    if (document.querySelector("#strip-alert").dataset.alertId) mark("alert");
    const cell = document.querySelector(`#wall-grid .wall-cell[data-source="${source}"]`);
    const video = cell && cell.querySelector("video");
    if (!video || video.__watched) return;
    mark("tile");
    video.__watched = true;
    video.addEventListener("loadeddata", () => mark("frame"), { once: true });
    video.requestVideoFrameCallback(() => mark("frame"));
  };
  new MutationObserver(seen).observe(document.body, {
    subtree: true, childList: true, attributes: true,
  });
}"""

STATS_JS = """async (source) => {
  const tile = document.querySelector(`#wall-grid .wall-cell[data-source="${source}"] .tile`);
  const out = { width: tile.querySelector("video").videoWidth, decoded: 0 };
  const report = tile.player.pc ? await tile.player.pc.getStats() : new Map();
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") out.decoded = s.framesDecoded || 0;
  });
  return out;
}"""


@pytest.fixture
def cameras() -> Iterator[RtspCameras]:
    server = rtsp_cameras(
        {
            "/daqi/main": "clock:960x540@15:900",
            "/daqi/sub": "clock:480x270@15:300",
            "/dam/main": f"clip:{MAIN_PROFILE_CLIP}",
        }
    )
    yield server
    server.stop()


@pytest.fixture
def site(site: Site, cameras: RtspCameras) -> Site:
    """The example site with two of its cameras real: the station's own, kept pushed to the
    center (preload), and a reservoir camera already on the wall."""
    real = {
        "town-daqi": {
            "main": cameras.url("/daqi/main"),
            "sub": cameras.url("/daqi/sub"),
            "preload": True,
        },
        "dam-ruiyansi": {"main": cameras.url("/dam/main"), "sub": None, "motion": None},
    }
    changed = [
        c.model_copy(update={**real[c.id], "record": False}) if c.id in real else c
        for c in site.cameras
    ]
    return site.model_copy(update={"cameras": changed})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(settings, whep_wait_s=1.0)


@pytest.fixture
def worker(center_on_broker: RunningCenter, site: Site, tmp_path: Path) -> Iterator[WorkerProcess]:
    c = center_on_broker
    # The worker pulls only the real cameras; the others have no worker (offline).
    real = [cam for cam in site.cameras if cam.main.startswith("rtsp://127.0.0.1")]
    only_real = site.model_copy(update={"cameras": real})
    w = WorkerProcess(c.settings, only_real, tmp_path, c.url).start()
    yield w
    out = w.stop()
    print(out)  # shown when a test fails
    assert "Traceback" not in out, out


@pytest.fixture
def ingest(center_on_broker: RunningCenter) -> Iterator[RunningIngest]:
    c = center_on_broker
    worker = RunningIngest(c.settings, c.site, c.store).start()
    yield worker
    worker.stop()


def video_stats(page: Page, source: str) -> dict[str, Any]:
    stats: dict[str, Any] = page.evaluate(STATS_JS, source)
    return stats


def test_a_danger_reading_puts_alert_and_camera_on_the_wall_within_a_second(
    page: Page,
    center_on_broker: RunningCenter,
    broker: PrivateBroker,
    worker: WorkerProcess,
    ingest: RunningIngest,
    artifacts: Path,
) -> None:
    center = center_on_broker
    # The operator's wall: four tiles, the reservoir camera in the first.
    with center.client("operator") as client:
        r = client.put(
            "/api/me/layouts",
            json={"current": {"preset": "4", "tiles": ["camera:dam-ruiyansi"]}},
        )
        assert r.status_code == 200, r.text
    # The station's camera is pushed to the center before the alert (preload).
    wait_for(
        lambda: (center.get("/api/cameras/town-daqi").json().get("status") or {}).get("online"),
        30,
        "town-daqi online",
    )
    open_wall(page, center)
    dam = page.locator('#wall-grid .wall-cell[data-source="camera:dam-ruiyansi"] .tile')
    expect(dam).to_have_attribute("data-state", "live", timeout=30_000)
    expect(page.locator(f'#wall-grid .wall-cell[data-source="{LINKED}"]')).to_have_count(0)
    expect(page.locator("#strip-alert")).to_contain_text("无未确认告警")
    expect(page.locator("#sound")).to_have_attribute("data-state", "on")
    page.evaluate(TIMELINE_JS, LINKED)

    with Publisher(broker.port) as pub:
        t0 = time.time()
        pub.publish(
            "ecc/v1/stations/lujiang-daqi/readings",
            json.dumps({"ts": t0, "values": {"water_level": 3.21}}),
        )
        pub.wait_acked()

    strip = page.locator("#strip-alert")
    expect(strip).to_contain_text("芦江大碶站")
    expect(strip).to_contain_text("3.21 m（保证水位 3.00 m）")
    expect(strip.locator(".sev")).to_have_text("危险")
    cell = page.locator(f'#wall-grid .wall-cell[data-source="{LINKED}"]')
    expect(cell).to_have_attribute("data-alert", "danger")
    expect(cell).to_have_attribute("data-index", "0")
    # What was there moved aside to an empty tile, still playing.
    expect(page.locator('#wall-grid .wall-cell[data-index="1"]')).to_have_attribute(
        "data-source", "camera:dam-ruiyansi"
    )
    page.wait_for_function("() => window.__wall.frame", timeout=15_000)
    timeline = page.evaluate("() => window.__wall")
    latency = {k: round(v - t0 * 1000) for k, v in timeline.items()}
    print("publish -> wall (ms):", latency)
    assert latency["alert"] <= 1000, latency
    assert latency["tile"] <= 1000, latency
    assert latency["frame"] <= 1000, latency

    # Playing: its sub stream decodes frame after frame; and the alarm was sounded.
    first = video_stats(page, LINKED)
    assert first["width"] == 480, first
    eventually(lambda: video_stats(page, LINKED)["decoded"] > first["decoded"] + 5, 10)
    assert video_stats(page, LINKED)["decoded"] > first["decoded"] + 5
    expect(cell.locator(".tile")).to_have_attribute("data-state", "live")
    expect(page.locator("body")).to_have_attribute("data-alarms", "1")
    problems = check_sizes(page, artifacts, "alert-live")
    assert problems == {}

    # Acknowledged from the wall with the keyboard: the API says so.
    alert_id = strip.get_attribute("data-alert-id")
    page.keyboard.press("a")
    expect(strip).to_contain_text("无未确认告警")
    acked = eventually(
        lambda: center.get(f"/api/alerts/{alert_id}").json()["state"] == "acknowledged"
    )
    assert acked
    assert center.get(f"/api/alerts/{alert_id}").json()["acknowledged_by"] == "operator"
    expect(cell).to_have_attribute("data-alert", "")
    row = page.locator(f'#alert-list tr[data-alert-id="{alert_id}"]')
    expect(row).to_contain_text("已确认")
