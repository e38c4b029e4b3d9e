"""Motion analysis inside `ecc ingest cameras`, on a real RTSP camera: the camera is pulled once
per stream (one RTSP session each) while motion events and intrusion alerts flow, its recording
is indexed with the motion seen, a still of it reaches the center, and zones saved through the
center apply at once, without a reconnect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.config.motion import CameraMotion, MotionZone
from ecc.config.sidecar import save_motion
from ecc.media.simulate import RtspCameras
from tests.support.center import RunningCenter
from tests.support.motion_clips import encode
from tests.support.scenes import Mover, Scene
from tests.support.video import WorkerProcess, rtsp_cameras, video_settings, video_site, wait_for

pytestmark = pytest.mark.slow

WHOLE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
RIGHT = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]


@pytest.fixture
def cameras(tmp_path: Path) -> Iterator[RtspCameras]:
    # Something crosses the yard every 5 s; the clip outlasts the test (a clip that ends would
    # make the worker open the camera again).
    movers = [Mover(s, s + 2.5, 0.05, 0.5, 0.95, 0.55, w=0.08, h=0.3) for s in range(2, 40, 5)]
    scene = Scene(width=480, height=270, fps=15, duration=42, movers=movers)
    clip = encode(scene, tmp_path / "yard.mp4", gop=15)
    server = rtsp_cameras({"/yard/main": f"clip:{clip}", "/yard/sub": f"clip:{clip}"})
    yield server
    server.stop()


@pytest.fixture
def site(cameras: RtspCameras) -> Site:
    return video_site(
        [
            {
                "id": "yard",
                "main": cameras.url("/yard/main"),
                "sub": cameras.url("/yard/sub"),
                "record": True,
            }
        ]
    )


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    # The center saves zones beside the site file the worker process reads.
    return video_settings(settings).model_copy(update={"site": tmp_path / "site.toml"})


@pytest.fixture
def worker(
    center_on_broker: RunningCenter, broker: PrivateBroker, tmp_path: Path
) -> Iterator[WorkerProcess]:
    center = center_on_broker
    # Settings saved earlier from the dashboard: the worker finds them beside its site file.
    zone = MotionZone(id="yard", polygon=WHOLE, min_duration_s=0.5, intrusion="warning")
    save_motion(tmp_path / "site.toml", "yard", CameraMotion(zones=[zone], end_after_s=1.0))
    w = WorkerProcess(center.settings, center.site, tmp_path, center.url).start()
    yield w
    out = w.stop()
    assert "Traceback" not in out, out


def events(center: RunningCenter, zone: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = center.get(
        "/api/cameras/yard/motion", "operator", params={"zone": zone}
    ).json()
    return found


def test_one_pull_per_stream_feeds_motion_the_still_and_live_zone_changes(
    center_on_broker: RunningCenter, worker: WorkerProcess, cameras: RtspCameras
) -> None:
    center = center_on_broker
    first = wait_for(lambda: events(center, "yard"), 30, "a motion event from the worker")
    assert first[0]["announced"] is True
    alerts = wait_for(
        lambda: center.get("/api/alerts", params={"state": "active"}).json(),
        10,
        "the intrusion alert",
    )
    assert [(a["kind"], a["severity"], a["metric"]) for a in alerts] == [
        ("intrusion", "warning", "yard")
    ]
    assert any("motion analysis on yard/sub" in line for line in worker.lines), worker.lines

    # The still of the analysed (sub) stream, for the zone editor.
    still = wait_for(
        lambda: (r := center.get("/api/cameras/yard/snapshot.jpg")).status_code == 200 and r,
        30,
        "the camera's still",
    )
    image = cv2.imdecode(np.frombuffer(still.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (270, 480, 3)

    # One RTSP session per stream: the motion analysis rides on the worker's own pull.
    assert cameras.sessions("/yard/sub") == 1, cameras.clients
    assert cameras.sessions("/yard/main") == 1, cameras.clients

    # An admin draws another zone: the worker analyses with it from the next frame.
    with center.client("admin") as admin:
        r = admin.put(
            "/api/cameras/yard/motion-config",
            json={"end_after_s": 1.0, "zones": [{"id": "gate", "polygon": RIGHT}]},
        )
    assert r.status_code == 200, r.text
    wait_for(
        lambda: any("motion:yard: new settings: 1 zones" in line for line in worker.lines),
        15,
        "the worker to take the new zones",
    )
    gate = wait_for(lambda: events(center, "gate"), 30, "a motion event in the new zone")
    assert gate[0]["box"]["x"] >= 0.45  # type: ignore[index]

    # The recording of the main stream is indexed with what the analysis saw: something
    # crosses the yard every 5 s, so every 10 s segment has motion in it.
    segments = wait_for(
        lambda: center.store.recordings.range("camera:yard", 0, 2e9), 30, "a recorded segment"
    )
    assert [s.motion for s in segments] == [True] * len(segments), segments

    # Switched off from the dashboard: the analysis stops, the camera stays connected.
    with center.client("admin") as admin:
        r = admin.put("/api/cameras/yard/motion-config", json={"enabled": False})
    assert r.status_code == 200, r.text
    wait_for(
        lambda: any("yard: motion analysis off" in line for line in worker.lines),
        15,
        "the analysis to stop",
    )
    assert cameras.sessions("/yard/sub") == 1, cameras.clients
    assert cameras.sessions("/yard/main") == 1, cameras.clients
    status = center.get("/api/cameras/yard").json()["status"]
    assert status["online"] is True and status["streams"]["sub"]["restarts"] == 0
