"""Playback in Chromium of a recording made by the real camera worker from a real RTSP camera
whose pictures carry their capture time (ecc.media.timecode): seeking, by a deep link or a typed
time, shows the picture of that time (within a second), frame stepping moves one picture, the
timeline shows what is recorded, and the selected range downloads as a clip."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from ecc import times
from ecc.bus.broker import PrivateBroker, free_port
from ecc.config import load_settings
from ecc.media import timecode
from ecc.storage import Store, open_store
from ecc.storage.models import Segment
from tests.browser.helpers import sign_in
from tests.support.center import RunningCenter
from tests.support.video import WorkerProcess, rtsp_cameras, video_settings, video_site, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAMERA = "clock-cam"
SOURCE = f"camera:{CAMERA}"
ZONE = ZoneInfo("Asia/Shanghai")

# The picture's timecode cells (ecc.media.timecode), read from the <video> as it is shown.
READ_TIMECODE = """() => {
    const video = document.querySelector("#pb-player video");
    const w = video.videoWidth, h = video.videoHeight;
    const canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    const g = canvas.getContext("2d", { willReadFrequently: true });
    g.drawImage(video, 0, 0, w, h);
    const cell = Math.max(4, Math.floor(w / 80));
    const bits = [];
    for (let i = 0; i < 48; i++) {
        const px = g.getImageData(cell + i * cell + cell / 2, cell + cell / 2, 1, 1).data;
        bits.push((px[0] + px[1] + px[2]) / 3 > 128 ? 1 : 0);
    }
    return { width: w, bits };
}"""


@dataclass
class Recorded:
    center: RunningCenter
    store: Store
    segments: list[Segment]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    folder = tmp_path_factory.mktemp("playback")
    cameras = rtsp_cameras({"/clock/main": "clock:1280x720@25:1500"})
    broker = PrivateBroker(folder / "mosquitto")
    broker.start()
    settings = load_settings(
        database_url=f"sqlite:///{folder}/ecc.db",
        data_dir=str(folder / "var"),
        http_port=free_port(),
        secret="test-secret-not-for-production",
        mqtt_url=broker.url,
    )
    settings = video_settings(settings)
    settings = settings.model_copy(
        update={"recording": settings.recording.model_copy(update={"segment_s": 4.0})}
    )
    site = video_site([{"id": CAMERA, "main": cameras.url("/clock/main"), "record": True}])
    store = open_store(settings.database_url)
    center = RunningCenter(settings, site, store).start()
    center.add_users()
    try:
        worker = WorkerProcess(settings, site, folder, center.url).start()
        try:
            wait_for(lambda: len(store.recordings.range(SOURCE, 0, 4e9)) >= 4, 90, "16 s recorded")
        finally:
            out = worker.stop()
            assert "Traceback" not in out, out
        # The camera and the worker are done: the machine's cores are the browser's now.
        cameras.stop()
        yield Recorded(center, store, store.recordings.range(SOURCE, 0, 4e9))
    finally:
        center.stop()
        store.close()
        broker.stop()
        cameras.stop()


def shown_ms(page: Page) -> int:
    """The capture time (Unix ms) burned into the picture the player shows."""
    found = page.evaluate(READ_TIMECODE)
    assert found["width"] == 1280, found
    value = timecode.decode(found["bits"])
    assert value is not None, f"no timecode in the picture: {found['bits']}"
    return timecode.unwrap(value, int(time.time() * 1000))


def player_time(page: Page) -> int:
    return int(page.locator("#pb-player").get_attribute("data-time") or 0)


def settled(page: Page, near_ms: float) -> None:
    """The player is paused with its picture on screen, at about `near_ms`."""
    expect(page.locator("#pb-player")).to_have_attribute("data-state", "paused", timeout=20_000)
    wait_for(lambda: abs(player_time(page) - near_ms) < 1000, 10, "the player at the time")


def test_seeking_shows_the_picture_of_that_time(
    page: Page, recorded: Recorded, artifacts: Path
) -> None:
    center, segments = recorded.center, recorded.segments
    sign_in(page, center, "leader", "/playback")
    # A deep link into the middle of the second segment.
    target = segments[1].start + 2.5
    page.goto(f"{center.url}/playback#source={SOURCE}&t={times.iso(round(target, 3))}")
    page.reload()
    settled(page, target * 1000)
    assert abs(shown_ms(page) - target * 1000) <= 1000
    page.screenshot(path=str(artifacts / "playback.png"))

    # A typed time (the site's zone), in the third segment.
    typed = int(segments[2].start) + 2
    page.fill("#pb-time", datetime.fromtimestamp(typed, tz=ZONE).strftime("%H:%M:%S"))
    page.press("#pb-time", "Enter")
    wait_for(lambda: abs(player_time(page) - typed * 1000) < 300, 20, "the typed time")
    settled(page, typed * 1000)
    before = shown_ms(page)
    assert abs(before - typed * 1000) <= 1000

    # One frame on: 40 ms later, picture and clock alike.
    page.click("#pb-step-forward")
    wait_for(lambda: shown_ms(page) != before, 10, "the next picture")
    assert 20 <= shown_ms(page) - before <= 80


def test_the_timeline_plays_selects_and_downloads_a_clip(page: Page, recorded: Recorded) -> None:
    center, segments = recorded.center, recorded.segments
    first = segments[0]
    sign_in(page, center, "operator", "/playback")
    page.goto(f"{center.url}/playback#source={SOURCE}&t={times.iso(round(first.start + 1, 3))}")
    page.reload()
    settled(page, (first.start + 1) * 1000)
    # The day's timeline draws the recording as one span (no gap), zoomed out to the day.
    expect(page.locator(".tl-span")).to_have_count(1)
    assert page.locator("#pb-timeline").get_attribute("data-zoom") == "0"
    for _ in range(4):
        page.click("#pb-zoom-in")
    expect(page.locator("#pb-timeline")).to_have_attribute("data-zoom", "4")
    view = page.locator("#pb-timeline")
    span = int(view.get_attribute("data-view-end") or 0) - int(
        view.get_attribute("data-view-start") or 0
    )
    assert span == 60_000
    # Clicking the timeline seeks: a second and a half into the recording, wherever the minute
    # shown begins (so that what follows has recording enough to play at 4x).
    box = page.locator(".tl-lanes").bounding_box()
    assert box is not None
    start = int(view.get_attribute("data-view-start") or 0)
    clicked = first.start * 1000 + 1500
    assert start <= clicked < start + span, (start, clicked)
    page.mouse.click(
        box["x"] + box["width"] * (clicked - start) / span, box["y"] + box["height"] / 2
    )
    settled(page, clicked)

    # Plays at 4x: the clock runs about four times as fast as ours.
    page.click('[data-speed="4"]')
    page.click("#pb-play")
    expect(page.locator("#pb-player")).to_have_attribute("data-state", "playing", timeout=10_000)
    t0, w0 = player_time(page), time.monotonic()
    wait_for(lambda: player_time(page) - t0 > 4000, 15, "4x playback")
    rate = (player_time(page) - t0) / 1000 / (time.monotonic() - w0)
    assert 2.0 < rate < 5.0, rate
    page.click("#pb-play")
    expect(page.locator("#pb-player")).to_have_attribute("data-state", "paused")

    # Mark in and out, then download the clip through its link.
    page.goto(f"{center.url}/playback#source={SOURCE}&t={times.iso(round(first.start + 2.2, 3))}")
    page.reload()
    settled(page, (first.start + 2.2) * 1000)
    page.click("#pb-mark-in")
    page.fill(
        "#pb-time", datetime.fromtimestamp(int(first.start) + 9, tz=ZONE).strftime("%H:%M:%S")
    )
    page.press("#pb-time", "Enter")
    settled(page, (int(first.start) + 9) * 1000)
    page.click("#pb-mark-out")
    expect(page.locator(".tl-selection")).to_be_visible()
    expect(page.locator("#pb-selection")).to_contain_text("–")
    with page.expect_download() as info:
        page.click("#pb-download")
    download = info.value
    assert re.match(r"camera-clock-cam-\d{8}T\d{6}Z\.mp4", download.suggested_filename)
    data = Path(download.path()).read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 100_000
    entries = center.store.audit.list(action="recordings.export")
    assert entries and entries[-1].username == "operator"
