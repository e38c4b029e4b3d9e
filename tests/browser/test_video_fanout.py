"""Ten viewers on one camera: the camera is pulled once, pushed once, packetized once, and the
hub makes no encoder (nor decoder) for any viewer; its own counters say so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.media.simulate import RtspCameras
from tests.browser.test_video_playback import sign_in
from tests.support.center import RunningCenter
from tests.support.video import WorkerProcess, rtsp_cameras, video_settings, video_site, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWERS = 10

# Ten players in one page, each on its own peer connection, as ten tiles of a wall would be.
START_VIEWERS = """async ([count, url]) => {
    const { WhepPlayer } = await import("/static/js/player.js");
    const token = JSON.parse(localStorage.getItem("ecc.token")).token;
    window.players = [];
    for (let i = 0; i < count; i++) {
        const video = document.createElement("video");
        video.muted = true;
        video.width = 160;
        document.body.append(video);
        const player = new WhepPlayer(video, { url, token: () => token });
        player.start();
        window.players.push(player);
    }
}"""


@pytest.fixture
def cameras() -> Iterator[RtspCameras]:
    server = rtsp_cameras({"/fan/main": "clock:640x360@15:500", "/fan/sub": "clock:320x180@15:200"})
    yield server
    server.stop()


@pytest.fixture
def site(cameras: RtspCameras) -> Site:
    return video_site(
        [{"id": "fan", "main": cameras.url("/fan/main"), "sub": cameras.url("/fan/sub")}]
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
    print(out)
    assert "Traceback" not in out, out


def test_ten_viewers_pull_the_camera_once_and_encode_nothing(
    page: Page, center_on_broker: RunningCenter, worker: WorkerProcess, cameras: RtspCameras
) -> None:
    center = center_on_broker
    sign_in(page, center, "operator")
    page.evaluate(START_VIEWERS, [VIEWERS, "/api/whep/camera:fan?stream=sub"])
    page.wait_for_function(
        "(n) => window.players.filter((p) => p.stats.framesDecoded > 20).length === n",
        arg=VIEWERS,
        timeout=60_000,
    )

    sources = center.get("/api/video/sources").json()
    [fan] = [s for s in sources["sources"] if s["source_id"] == "camera:fan"]
    assert fan["stream"] == "sub"
    assert fan["viewers"] == VIEWERS
    assert fan["publishes"] == 1, fan  # pushed once
    counts = sources["counts"]
    assert counts["encoders"] == 0, counts
    assert counts["decoders"] == 0, counts
    # Every frame was packetized once and sent to each viewer.
    assert counts["frames_sent"] > 5 * counts["frames_packetized"], counts
    # The camera itself was opened once, for all ten.
    assert cameras.sessions("/fan/sub") == 1, cameras.clients

    metrics = center.get("/metrics").text
    assert 'ecc_video_viewers{source="camera:fan",stream="sub"} 10.0' in metrics
    assert "ecc_video_viewer_encoders 0.0" in metrics

    # Viewers leave: the count follows, and the camera stops being pushed after the linger.
    page.evaluate("window.players.forEach((p) => p.stop())")
    wait_for(
        lambda: (
            'ecc_video_viewers{source="camera:fan",stream="sub"} 0.0' in center.get("/metrics").text
        ),
        10,
        "the viewers to leave",
    )
    wait_for(
        lambda: any("fan/sub: nobody watches; push stopped" in line for line in worker.lines),
        center.settings.video.linger_s + 10,
        "the push to stop after the linger",
    )
