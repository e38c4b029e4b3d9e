"""A camera that dies and comes back: the tile says offline, an alert is raised within the
configured time; the camera returns, the same page plays again and the alert is resolved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ecc.bus.broker import PrivateBroker, free_port
from ecc.config import Settings, Site
from ecc.media.simulate import RtspCameras
from tests.browser.test_video_playback import assert_plays, sign_in
from tests.support.center import RunningCenter
from tests.support.video import WorkerProcess, video_settings, video_site, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OFFLINE_ALERT_S = 4.0
MOUNTS = {"/gate/main": "clock:640x360@25:600", "/gate/sub": "clock:320x180@15:200"}


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def cameras(port: int) -> Iterator[RtspCameras]:
    server = RtspCameras(MOUNTS, port).start()
    yield server
    server.stop()


@pytest.fixture
def site(cameras: RtspCameras) -> Site:
    return video_site(
        [{"id": "gate", "main": cameras.url("/gate/main"), "sub": cameras.url("/gate/sub")}]
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(
        settings,
        offline_alert_s=OFFLINE_ALERT_S,
        read_timeout_s=2.0,
        stall_s=3.0,
        reconnect_min_s=0.5,
        reconnect_max_s=1.0,
        status_interval_s=1.0,
    )


@pytest.fixture
def worker(
    center_on_broker: RunningCenter, broker: PrivateBroker, tmp_path: Path
) -> Iterator[WorkerProcess]:
    c = center_on_broker
    w = WorkerProcess(c.settings, c.site, tmp_path, c.url).start()
    yield w
    out = w.stop()
    print(out)
    assert "Traceback" not in out, out


def camera_alerts(center: RunningCenter, state: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = center.get(f"/api/alerts?state={state}").json()
    return [a for a in alerts if a["kind"] == "camera_offline" and a["source"]["id"] == "gate"]


def test_a_dead_camera_is_reported_and_its_return_plays_on_the_same_page(
    page: Page,
    center_on_broker: RunningCenter,
    worker: WorkerProcess,
    cameras: RtspCameras,
    port: int,
    artifacts: Path,
) -> None:
    center = center_on_broker
    sign_in(page, center, "operator")
    page.goto(f"{center.url}/cameras")
    tile = page.locator('.tile[data-camera="gate"]')
    expect(tile).to_have_attribute("data-state", "live", timeout=30_000)
    assert_plays(page, "gate")
    page.evaluate("window.eccNoReload = true")

    cameras.kill()
    killed = time.monotonic()
    # The worker's status reaches the tile at once; the alert comes after OFFLINE_ALERT_S.
    expect(tile).to_have_attribute("data-state", "offline", timeout=10_000)
    alerts = wait_for(lambda: camera_alerts(center, "active"), OFFLINE_ALERT_S + 10, "the alert")
    assert time.monotonic() - killed < OFFLINE_ALERT_S + 10
    assert alerts[0]["severity"] == "warning"
    page.screenshot(path=str(artifacts / "video-offline.png"))

    back = RtspCameras(MOUNTS, port).start()
    try:
        expect(tile).to_have_attribute("data-state", "live", timeout=30_000)
        assert_plays(page, "gate")
        # The same page: nothing reloaded it.
        assert page.evaluate("window.eccNoReload") is True
        wait_for(lambda: camera_alerts(center, "resolved"), 15, "the alert to resolve")
        assert camera_alerts(center, "active") == []
    finally:
        back.stop()
