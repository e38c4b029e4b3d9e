"""The dashboard plays cameras from real RTSP cameras through the camera worker and the hub.

A clock scene (Constrained Baseline, x264) in a tile and full screen, and a Main-profile clip
passed through untouched: Chromium decodes both (videoWidth > 0, framesDecoded keeps rising),
and the Main-profile camera is negotiated as Main, not relabelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.media.simulate import RtspCameras
from tests.browser.test_login import login
from tests.support.center import RunningCenter
from tests.support.video import (
    MAIN_PROFILE_CLIP,
    WorkerProcess,
    rtsp_cameras,
    video_settings,
    video_site,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def cameras() -> Iterator[RtspCameras]:
    server = rtsp_cameras(
        {
            "/clock/main": "clock:1280x720@25:1500",
            "/clock/sub": "clock:640x360@15:400",
            "/person/main": f"clip:{MAIN_PROFILE_CLIP}",
        }
    )
    yield server
    server.stop()


@pytest.fixture
def site(cameras: RtspCameras) -> Site:
    return video_site(
        [
            {
                "id": "clock-cam",
                "main": cameras.url("/clock/main"),
                "sub": cameras.url("/clock/sub"),
                "public": True,
            },
            {"id": "person-cam", "main": cameras.url("/person/main")},
        ]
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(settings)


@pytest.fixture
def worker(
    center_on_broker: RunningCenter, broker: PrivateBroker, tmp_path: Path
) -> Iterator[WorkerProcess]:
    c = center_on_broker
    w = WorkerProcess(c.settings, c.site, tmp_path, c.url).start()
    yield w
    out = w.stop()
    print(out)  # shown when a test fails
    assert "Traceback" not in out, out


def sign_in(page: Page, center: RunningCenter, username: str) -> None:
    login(page, center, username)
    expect(page).to_have_url(f"{center.url}/")


STATS_JS = """async (camera) => {
    const tile = document.querySelector(`.video-full .tile[data-camera="${camera}"]`)
        || document.querySelector(`.tile[data-camera="${camera}"]`);
    const out = { width: tile.querySelector("video").videoWidth, decoded: 0, fmtp: "" };
    const pc = tile.player.pc;
    if (!pc) return out;
    const report = await pc.getStats();
    let codecId = null;
    report.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") {
            out.decoded = s.framesDecoded || 0;
            codecId = s.codecId;
        }
    });
    const codec = codecId && report.get(codecId);
    if (codec) out.fmtp = `${codec.mimeType} ${codec.sdpFmtpLine || ""}`;
    return out;
}"""


def video_stats(page: Page, camera: str) -> dict[str, Any]:
    """The tile's <video> width and its peer connection's inbound video figures."""
    result: dict[str, Any] = page.evaluate(STATS_JS, camera)
    return result


def assert_plays(page: Page, camera: str) -> dict[str, Any]:
    """videoWidth > 0, and framesDecoded keeps rising."""
    first = video_stats(page, camera)
    assert first["width"] > 0, first
    stats: dict[str, Any] = wait_for(
        lambda: (now := video_stats(page, camera))["decoded"] > first["decoded"] + 10 and now,
        20,
        f"{camera}: framesDecoded to rise past {first['decoded'] + 10}",
    )
    return stats


def test_a_tile_and_full_screen_play_live(
    page: Page, center_on_broker: RunningCenter, worker: WorkerProcess, artifacts: Path
) -> None:
    sign_in(page, center_on_broker, "operator")
    page.goto(f"{center_on_broker.url}/cameras")
    tile = page.locator('.tile[data-camera="clock-cam"]')
    expect(tile).to_have_attribute("data-state", "live", timeout=30_000)
    stats = assert_plays(page, "clock-cam")
    # The tile watches the sub stream.
    assert stats["width"] == 640, stats
    assert "H264" in stats["fmtp"] and "42e01f" in stats["fmtp"], stats
    page.screenshot(path=str(artifacts / "video-tiles.png"))

    tile.click()
    full = page.locator('.video-full .tile[data-camera="clock-cam"]')
    expect(full).to_have_attribute("data-state", "live", timeout=30_000)
    stats = assert_plays(page, "clock-cam")
    assert stats["width"] == 1280, stats
    # A camera without sound (its worker says so) offers no sound button.
    expect(full.locator(".tile-sound")).to_be_hidden()
    page.screenshot(path=str(artifacts / "video-full.png"))


def test_a_main_profile_camera_plays_as_main(
    page: Page, center_on_broker: RunningCenter, worker: WorkerProcess
) -> None:
    sign_in(page, center_on_broker, "leader")
    page.goto(f"{center_on_broker.url}/cameras")
    tile = page.locator('.tile[data-camera="person-cam"]')
    expect(tile).to_have_attribute("data-state", "live", timeout=30_000)
    stats = assert_plays(page, "person-cam")
    assert stats["width"] == 768, stats
    # Negotiated as what the camera sends (Main), not under a Constrained Baseline label.
    assert "profile-level-id=4d001f" in stats["fmtp"], stats


def test_the_public_live_page_plays_public_cameras_without_login(
    browser: Browser, center_on_broker: RunningCenter, worker: WorkerProcess
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{center_on_broker.url}/live")
        expect(page).to_have_url(f"{center_on_broker.url}/live")  # no login asked
        tile = page.locator('.tile[data-camera="clock-cam"]')
        expect(tile).to_have_attribute("data-state", "live", timeout=30_000)
        assert_plays(page, "clock-cam")
        assert video_stats(page, "clock-cam")["width"] == 640  # the sub stream only
        expect(page.locator('.tile[data-camera="person-cam"]')).to_have_count(0)
        assert errors == []
    finally:
        context.close()
