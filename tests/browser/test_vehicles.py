"""Field vehicles in the browser: the crew's page streams (Chromium's fake camera and microphone)
and reports its position; the operators' page plays the stream, follows the marker and opens
talkback; the crew's page hears it; a center that goes away and comes back loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from ecc.config import Settings
from tests.browser.helpers import sign_in
from tests.support.center import RunningCenter
from tests.support.data import VIDEO
from tests.support.vehicles import agent, read_track, route, write_tone, write_track
from tests.support.video import video_settings, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START = (29.9012, 121.8452)  # cmd-1's depot
ALONG = [(29.9030, 121.8470), (29.9048, 121.8488), (29.9066, 121.8506)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(settings)


@contextmanager
def browsing(browser: Browser, **options: Any) -> Iterator[tuple[BrowserContext, Page, list[str]]]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="zh-CN", **options
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield context, page, errors
    finally:
        context.close()
    assert errors == [], errors


def crew(browser: Browser) -> Any:
    """The vehicle's tablet: positions allowed, at the depot."""
    return browsing(
        browser,
        permissions=["geolocation"],
        geolocation={"latitude": START[0], "longitude": START[1], "accuracy": 8},
    )


def start_streaming(page: Page, center: RunningCenter) -> None:
    sign_in(page, center, "crew", "/vehicle")
    page.select_option("#vehicle-select", "cmd-1")
    page.select_option("#interval", "1")
    page.click("#stream-toggle")
    page.wait_for_function("() => eccVehicle.state.publisher?.state === 'live'", timeout=20_000)


def until(page: Page, script: str, what: str, timeout: float = 20) -> Any:
    """Poll an (async) page function until it returns something true: Playwright's
    wait_for_function takes a returned promise for true without awaiting it."""
    return wait_for(lambda: page.evaluate(script), timeout, what)


def marker_at(page: Page, vehicle: str) -> tuple[float, float] | None:
    where: list[float] | None = page.evaluate(
        """(id) => {
            const entry = document.querySelector('#fleet-map').map?.vehicles.get(id);
            if (!entry || !entry.marker) return null;
            const p = entry.marker.getLatLng();
            return [p.lat, p.lng];
        }""",
        vehicle,
    )
    return None if where is None else (where[0], where[1])


def test_the_crew_streams_and_the_operator_plays_it_and_follows_the_marker(
    browser: Browser, center: RunningCenter
) -> None:
    with crew(browser) as (vehicle_ctx, vehicle, _), browsing(browser) as (_, operator, _):
        start_streaming(vehicle, center)
        sign_in(operator, center, "operator", "/vehicles")
        operator.click(".fleet-card[data-vehicle='cmd-1']")
        operator.wait_for_function(
            "() => document.querySelector('.talkback .tile')?.player.stats.framesDecoded > 15",
            timeout=20_000,
        )

        # H.264 from the browser, forwarded: nothing decoded or encoded on the center.
        sources = center.get("/api/video/sources").json()
        [source] = [s for s in sources["sources"] if s["source_id"] == "vehicle:cmd-1"]
        assert source["publishing"] and source["profile"] == "constrained_baseline", source
        assert sources["counts"]["decoders"] == 0 and sources["counts"]["encoders"] == 0

        wait_for(lambda: marker_at(operator, "cmd-1"), 10, "the vehicle's marker")
        for lat, lon in ALONG:
            vehicle_ctx.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 8})
            wait_for(
                lambda lat=lat, lon=lon: marker_at(operator, "cmd-1") == (lat, lon),
                10,
                f"the marker to move to {lat}, {lon}",
            )
        card = operator.locator(".fleet-card[data-vehicle='cmd-1']")
        assert card.get_attribute("data-online") == "true"
        # Link telemetry from the page reaches the operators.
        wait_for(
            lambda: (
                (center.get("/api/vehicles/cmd-1").json()["status"]["link"] or {}).get("rtt_ms")
                is not None
            ),
            15,
            "the vehicle's link figures",
        )
        track = center.get("/api/vehicles/cmd-1/track").json()
        assert [(p["lat"], p["lon"]) for p in track][-1] == ALONG[-1]


AUDIO_ENERGY = """async (selector) => {
    const pc = document.querySelector(selector)?.player.pc;
    if (!pc) return 0;
    let energy = 0;
    (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") energy = s.totalAudioEnergy || 0;
    });
    return energy;
}"""


def test_talkback_carries_the_center_to_the_crew_and_the_crew_to_the_center(
    browser: Browser, center: RunningCenter
) -> None:
    with crew(browser) as (_, vehicle, _), browsing(browser) as (_, operator, _):
        start_streaming(vehicle, center)
        sign_in(operator, center, "operator", "/vehicles")
        operator.click(".fleet-card[data-vehicle='cmd-1']")
        operator.click(".talkback-toggle")
        operator.wait_for_function(
            "() => document.querySelector('.talkback').dataset.talkback === 'live'"
        )
        # The operator's voice reaches the vehicle page: its listener decodes sound.
        until(
            vehicle,
            """async () => {
                const f = await eccVehicle.state.listener.figures();
                return eccVehicle.state.listener.state === 'live' && f.packets > 50
                    && f.energy > 0;
            }""",
            "the crew to hear the center",
        )
        assert vehicle.locator("#talkback-state").is_visible()
        # The crew's microphone reaches the operator, with the picture.
        until(
            operator,
            f"async () => (await ({AUDIO_ENERGY})('.talkback .tile')) > 0",
            "the center to hear the crew",
        )
        sources = center.get("/api/video/sources").json()
        assert {"talkback:cmd-1", "vehicle:cmd-1"} <= {s["source_id"] for s in sources["sources"]}
        assert sources["counts"]["decoders"] == 0 and sources["counts"]["encoders"] == 0

        operator.click(".talkback-toggle")
        wait_for(
            lambda: not center.get("/api/vehicles/cmd-1").json()["status"]["talkback"],
            10,
            "talkback to close",
        )
        vehicle.wait_for_function("() => document.querySelector('#talkback-state').hidden")


def test_the_vehicle_page_rides_out_a_center_restart(
    browser: Browser, center: RunningCenter, settings: Settings
) -> None:
    store = center.store
    with crew(browser) as (vehicle_ctx, vehicle, _):
        start_streaming(vehicle, center)
        wait_for(lambda: store.positions.count("cmd-1") >= 2, 10, "positions from the page")
        center.stop()
        # Moving while the center is away: the positions wait in the page.
        for lat, lon in ALONG:
            vehicle_ctx.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 8})
            queued = vehicle.evaluate("() => eccVehicle.state.queued")
            vehicle.wait_for_function(f"() => eccVehicle.state.queued > {queued}")
        assert vehicle.locator("#link-banner").is_visible()
        assert vehicle.locator("#link-state").get_attribute("data-state") == "down"

        again = RunningCenter(settings, center.site, store, port=center.port).start()
        try:
            # Back by itself: the queue drains, the stream is published again.
            vehicle.wait_for_function(
                "() => eccVehicle.state.queued === 0 && eccVehicle.state.publisher.sessions >= 2"
                " && eccVehicle.state.publisher.state === 'live'",
                timeout=40_000,
            )
            wait_for(
                lambda: any(
                    s["source_id"] == "vehicle:cmd-1" and s["publishing"]
                    for s in again.get("/api/video/sources").json()["sources"]
                ),
                10,
                "the stream on the restarted center",
            )

            # Every position the page took is stored, once. The page goes on taking positions
            # meanwhile: the page's figures are read together, and again until no upload is
            # between the page and the store.
            def counts() -> tuple[int, int, int]:
                recorded, queued = vehicle.evaluate(
                    "() => [eccVehicle.state.recorded, eccVehicle.state.queued]"
                )
                return len(store.positions.track("cmd-1", 0, 2e9)), recorded, queued

            settled = wait_for(
                lambda: (c := counts())[0] == c[1] - c[2] and c, 10, "the page and the store"
            )
            stored = store.positions.track("cmd-1", 0, 2e9)
            assert settled[0] == settled[1] - settled[2], settled
            assert len({p.ts for p in stored}) == len(stored)
            assert set(ALONG) <= {(p.lat, p.lon) for p in stored}
            vehicle.wait_for_function(
                "() => document.querySelector('#link-state').dataset.state === 'up'",
                timeout=20_000,
            )
        finally:
            again.stop()


def test_the_agent_publishes_a_clip_and_a_gps_track_that_the_dashboard_plays(
    browser: Browser, center: RunningCenter, tmp_path: Path
) -> None:
    """`ecc vehicle` with a real clip (H.264 passed through), a microphone's sound from a file
    (sent as Opus) and a drive recorded as NMEA: the operators' page plays picture and sound and
    follows the marker."""
    track = write_track(tmp_path / "drive.nmea", route(90))
    expected = read_track(track)
    clip = str(VIDEO / "car-detection.mp4")
    tone = str(write_tone(tmp_path / "tone.wav"))
    process = agent(
        center.url,
        center.token("crew"),
        tmp_path / "agent",
        *("--video", clip, "--audio", tone, "--gps", str(track), "--interval", "1"),
    ).start()
    try:
        with browsing(browser) as (_, operator, _):
            sign_in(operator, center, "operator", "/vehicles")
            wait_for(
                lambda: center.get("/api/vehicles/cmd-1").json()["status"]["video"],
                20,
                "the agent's stream",
            )
            operator.click(".fleet-card[data-vehicle='cmd-1']")
            operator.wait_for_function(
                "() => document.querySelector('.talkback .tile')?.player.stats.framesDecoded > 15",
                timeout=20_000,
            )
            until(
                operator,
                f"async () => (await ({AUDIO_ENERGY})('.talkback .tile')) > 0",
                "the agent's sound",
            )
            # The marker follows the drive, point after point of the file.
            seen = wait_for(lambda: marker_at(operator, "cmd-1"), 10, "the marker")
            wait_for(
                lambda: marker_at(operator, "cmd-1") not in (None, seen),
                10,
                "the marker to move",
            )
            stored = [(p["lat"], p["lon"]) for p in center.get("/api/vehicles/cmd-1/track").json()]
            assert stored == expected[: len(stored)] and len(stored) >= 3, stored
            source = next(
                s
                for s in center.get("/api/video/sources").json()["sources"]
                if s["source_id"] == "vehicle:cmd-1"
            )
            assert source["profile"] == "baseline", source  # the clip's own profile
    finally:
        out = process.stop()
    assert "Traceback" not in out, out
