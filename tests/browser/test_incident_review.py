"""The incident review in Chromium: two recorded sources, each picture carrying its own clock
(recorded 2.3 s apart, so their segments and keyframes do not line up), play under one cursor:
wherever the cursor is put, and while they play, the two burned-in clocks agree with each other
and with the cursor within half a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecc.config import Settings, Site
from ecc.config.settings import IncidentSettings
from ecc.incidents import lifecycle
from ecc.media import timecode
from ecc.storage import Store
from ecc.storage.models import Area, NewAlert, Position, Reading
from tests.browser.helpers import sign_in
from tests.support.center import RunningCenter
from tests.support.clock_video import record_clock

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAMERAS = ("town-xinqi", "underpass-mingzhou")
TOLERANCE_S = 0.5
# The burned-in clock of every video of the grid, read from the picture on screen.
READ_CLOCKS = """() => [...document.querySelectorAll('#rv-grid video')].map((v) => {
  if (!v.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0);
  const cell = Math.max(4, Math.floor(c.width / 80));
  const bits = [];
  for (let i = 0; i < 48; i++) {
    const d = g.getImageData(cell + i * cell + (cell >> 1), cell + (cell >> 1), 1, 1).data;
    bits.push(0.299 * d[0] + 0.587 * d[1] + 0.114 * d[2] > 128 ? 1 : 0);
  }
  return bits;
})"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"incidents": IncidentSettings(pre_roll_s=5, post_roll_s=5)})


@pytest.fixture
def center(settings: Settings, site: Site, store: Store) -> Iterator[RunningCenter]:
    c = RunningCenter(settings, site, store).start()
    c.add_users()
    yield c
    c.stop()


def incident(center: RunningCenter) -> float:
    store = center.store
    data = Path(center.settings.data_dir)
    t0 = float(round(time.time()) - 900)
    record_clock(store, data, f"camera:{CAMERAS[0]}", t0, 60)
    record_clock(store, data, f"camera:{CAMERAS[1]}", t0 + 2.3, 57)
    store.readings.insert(
        [Reading("zhonghe-xinqi", t0 + 5 * k, {"water_level": 2.5 + 0.05 * k}) for k in range(13)]
    )
    alert = store.alerts.insert(
        NewAlert(
            "level", "warning", "station", "zhonghe-xinqi", "water_level", 2.85, 2.8, "", t0 + 12
        )
    )
    desk = center.app.state.desk
    desk.create(
        lifecycle.opened(
            "review1",
            "中河新碶站内涝",
            "warning",
            Area(29.9006, 121.8473, 800.0),
            t0 + 10,
            "operator",
            sources=("station:zhonghe-xinqi", *(f"camera:{c}" for c in CAMERAS)),
        ),
        [alert.id],
    )
    desk.change(
        "review1", lambda i: lifecycle.dispatched(i, "t1", "cmd-1", t0 + 14, "op", ""), None
    )
    track = [Position("cmd-1", t0 + 15 + k, 29.915 - 0.003 * k, 121.8473) for k in range(20)]
    store.positions.insert(track)
    desk.positions("cmd-1", track)
    desk.change("review1", lambda i: lifecycle.moved(i, "closed", t0 + 50, "operator"), None)
    return t0


def clocks(page: Page, t0: float) -> list[float | None]:
    out: list[float | None] = []
    for bits in page.evaluate(READ_CLOCKS):
        value = timecode.decode(bits) if bits else None
        out.append(None if value is None else timecode.unwrap(value, int(t0 * 1000)) / 1000)
    return out


def cursor(page: Page) -> float:
    return int(page.locator("#view").get_attribute("data-cursor") or 0) / 1000


def settled(page: Page, t0: float, near: float | None = None) -> list[float]:
    """Poll until both pictures show a readable clock (near `near`, when given)."""
    deadline = time.monotonic() + 20
    while True:
        seen = clocks(page, t0)
        ok = all(c is not None for c in seen[:2])
        if ok and near is not None:
            ok = all(abs(c - near) <= TOLERANCE_S for c in seen[:2] if c is not None)
        if ok:
            return [c for c in seen[:2] if c is not None]
        assert time.monotonic() < deadline, f"the pictures did not settle: {seen}"
        page.wait_for_timeout(100)


def test_two_recorded_sources_play_in_sync(page: Page, center: RunningCenter) -> None:
    t0 = incident(center)
    sign_in(page, center, "leader", "/review?id=review1")
    expect(page.locator("#rv-grid .rv-tile")).to_have_count(3)  # two cameras, the vehicle
    expect(page.locator("#rv-log li")).to_have_count(6)
    expect(page.locator(".rv-chart[data-station=zhonghe-xinqi] canvas").first).to_be_visible()
    # Opens at the incident's start, both pictures on it.
    assert cursor(page) == t0 + 10
    a, b = settled(page, t0, near=t0 + 10)
    assert abs(a - b) <= TOLERANCE_S

    # A typed time, then the next events: paused, each picture shows the cursor's moment.
    page.fill("#rv-time", _clock_text(page, t0 + 33.4))
    page.click("#rv-goto button[type=submit]")
    for _ in range(3):
        at = cursor(page)
        a, b = settled(page, t0, near=at)
        assert abs(a - b) <= TOLERANCE_S, (at - t0, a - t0, b - t0)
        page.click("#rv-prev")

    # Playing at 2x: sampled together, the two clocks agree, and follow the cursor.
    page.select_option("#rv-speed", "2")
    page.click("#rv-play")
    expect(page.locator("#view")).to_have_attribute("data-playing", "true")
    samples = 0
    deadline = time.monotonic() + 20
    while samples < 5:
        assert time.monotonic() < deadline, "no readable pictures while playing"
        page.wait_for_timeout(400)
        seen = clocks(page, t0)
        if any(c is None for c in seen[:2]):
            continue
        a, b = seen[0], seen[1]
        assert a is not None and b is not None
        assert abs(a - b) <= TOLERANCE_S, (a - t0, b - t0)
        assert abs(a - cursor(page)) <= 2 * TOLERANCE_S  # the cursor is read a moment later
        samples += 1
    page.click("#rv-play")
    expect(page.locator("#view")).to_have_attribute("data-playing", "false")
    assert cursor(page) > t0 + 12


def _clock_text(page: Page, ts: float) -> str:
    """HH:MM:SS of `ts` in the page's time zone (the site's), as a user types it."""
    text: str = page.evaluate(
        "(ms) => new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Shanghai', hourCycle: 'h23',"
        " hour: '2-digit', minute: '2-digit', second: '2-digit'}).format(new Date(ms))",
        ts * 1000,
    )
    return text
