"""A motion worker on a camera: its events and intrusion alerts reach a WebSocket client of the
center over a real Mosquitto, and the center serves the events and their thumbnails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from ecc.bus import BrokerAddress, MqttClient, Topics
from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.config.motion import CameraMotion, MotionZone
from ecc.media.motion_worker import MotionContext, MotionWorker
from ecc.media.sampler import SourceOptions
from ecc.storage import Store
from tests.support.center import RunningCenter
from tests.support.motion_clips import encode
from tests.support.scenes import Mover, Scene

CREST = [(0.0, 0.35), (1.0, 0.35), (1.0, 0.75), (0.0, 0.75)]
SKY = [(0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)]


async def collect(ws: ClientConnection, wanted: dict[str, int], timeout: float = 20) -> Any:
    """Messages by type until `wanted` of each type have come, in their order of arrival."""
    got: dict[str, list[dict[str, Any]]] = {kind: [] for kind in wanted}
    async with asyncio.timeout(timeout):
        while any(len(got[k]) < n for k, n in wanted.items()):
            msg = json.loads(await ws.recv())
            if msg["type"] in got:
                got[msg["type"]].append(msg["data"])
    return got


@pytest.fixture
def walker_clip(tmp_path: Path) -> Path:
    scene = Scene(duration=7, movers=[Mover(1.5, 4.5, 0.1, 0.5, 0.9, 0.55)])
    return encode(scene, tmp_path / "walker.mp4")


async def test_an_intrusion_reaches_the_websocket_and_the_event_is_served(
    center_on_broker: RunningCenter,
    broker: PrivateBroker,
    settings: Settings,
    site: Site,
    store: Store,
    walker_clip: Path,
) -> None:
    center = center_on_broker
    dam = site.camera("dam-dongao")
    assert dam is not None
    camera = dam.model_copy(
        update={
            "motion": CameraMotion(
                zones=[
                    MotionZone(id="crest", name="坝顶", polygon=CREST, intrusion="danger"),
                    MotionZone(id="sky", polygon=SKY, intrusion="critical"),
                ]
            )
        }
    )
    bus = MqttClient(BrokerAddress.parse(broker.url))
    await bus.start()
    context = MotionContext(
        store, bus.publish, Topics(settings.mqtt_prefix), settings.data_dir, site.timezone
    )
    worker = MotionWorker(camera, context, SourceOptions(str(walker_clip)))
    url = f"{center.ws_url}/api/events?token={center.token('crew')}"
    try:
        async with connect(url) as ws:
            await worker.run()
            got = await collect(ws, {"motion": 2, "alert": 1})
    finally:
        await bus.stop()
    started, ended = got["motion"]
    [alert] = got["alert"]

    assert started["camera_id"] == "dam-dongao" and started["zone"] == "crest"
    assert started["state"] == "active" and started["end"] is None
    assert ended["id"] == started["id"] and ended["state"] == "ended"
    assert alert["kind"] == "intrusion" and alert["severity"] == "danger"
    assert alert["source"] == {"type": "camera", "id": "dam-dongao"}
    assert alert["metric"] == "crest" and "坝顶" in alert["message"]
    assert ended["alert_id"] == alert["id"]
    # The sky saw nothing: one event, one alert.
    assert [a["kind"] for a in center.get("/api/alerts").json()] == ["intrusion"]

    listed = center.get("/api/cameras/dam-dongao/motion", "leader").json()
    assert [e["id"] for e in listed] == [started["id"]]
    assert listed[0] == ended
    assert center.get("/api/motion", params={"camera": "town-xinqi"}).json() == []
    thumb = center.get(ended["thumbnail"], "crew")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:2] == b"\xff\xd8"
    assert center.get("/api/motion/nothing").status_code == 404
    assert center.get("/api/cameras/atlantis/motion").status_code == 404
    bad = center.get("/api/motion", params={"start": "2026-07-12T09:00:00Z", "end": "2026-07-12"})
    assert bad.status_code == 422


async def test_a_camera_over_its_event_rate_is_held_back_with_a_note(
    settings: Settings, site: Site, store: Store, tmp_path: Path
) -> None:
    # Three walkers; a limit of two events an hour: the third is stored but not announced.
    scene = Scene(
        duration=12,
        movers=[
            Mover(1.0, 2.5, 0.1, 0.5, 0.5, 0.5),
            Mover(5.0, 6.5, 0.1, 0.5, 0.5, 0.5),
            Mover(9.0, 10.5, 0.1, 0.5, 0.5, 0.5),
        ],
    )
    clip = encode(scene, tmp_path / "three.mp4")
    dam = site.camera("dam-ruiyansi")
    assert dam is not None
    camera = dam.model_copy(update={"motion": CameraMotion(max_events_per_hour=2, end_after_s=1.0)})
    published: list[tuple[str, dict[str, Any]]] = []
    context = MotionContext(
        store,
        lambda topic, payload: published.append((topic, json.loads(payload))),
        Topics(settings.mqtt_prefix),
        settings.data_dir,
    )
    await MotionWorker(camera, context, SourceOptions(str(clip))).run()
    stored = store.motion_events.list(camera_id="dam-ruiyansi")
    assert [e.announced for e in stored] == [True, True, False]
    motion = [p for t, p in published if t.endswith("/events/motion")]
    assert {p["id"] for p in motion} == {e.id for e in stored[:2]}
    [note] = [p for t, p in published if t.endswith("/alerts")]
    assert note["kind"] == "motion_rate" and note["severity"] == "warning"
    assert "近一小时移动事件超过 2 次" in note["message"]
    assert all(e.thumbnail and (settings.data_dir / e.thumbnail).is_file() for e in stored)
