"""UnitFeed: motion analysis fed with the access units of a stream pulled elsewhere; its queue is
bounded and, when full, drops up to the next keyframe so that what it keeps decodes cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ecc.bus import Topics
from ecc.config import Settings, Site
from ecc.config.motion import CameraMotion, MotionZone
from ecc.media.motion import DetectedMotion, MotionChange
from ecc.media.motion_worker import MotionContext, MotionWorker
from ecc.media.sampler import UnitFeed
from ecc.storage import Store
from tests.support.motion_clips import access_units, encode
from tests.support.scenes import Mover, Scene

FPS = 30


def wall(monotonic: float) -> float:
    return time.time() - (time.monotonic() - monotonic)


@pytest.fixture(scope="module")
def walker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scene = Scene(
        width=320, height=180, fps=FPS, duration=9, movers=[Mover(2.0, 5.0, 0.1, 0.5, 0.9, 0.55)]
    )
    return encode(scene, tmp_path_factory.mktemp("feed") / "walker.mp4", gop=FPS)


def test_a_full_feed_drops_up_to_the_next_keyframe_and_what_it_keeps_decodes(
    walker: Path,
) -> None:
    units = access_units(walker)[: 4 * FPS]  # keyframes at 0, 30, 60 and 90
    assert [i for i, u in enumerate(units) if u.keyframe] == [0, 30, 60, 90]
    feed = UnitFeed("test", max_units=45)
    for unit in units:  # nobody takes any: the analysis is stuck
        feed.push(unit)
    # 0..44 fill the queue; 45..59 are dropped; keyframe 60 replaces the stale queue; 60..104
    # fill it again (keyframe 90 among them); 105..119 are dropped.
    assert feed.stats.received == 120
    assert feed.stats.dropped == 15 + 45 + 15

    stop = threading.Event()
    times = []
    for frame in feed.frames(lambda ts: True, stop):
        times.append(frame.ts)
        if len(times) == 45:
            break
    assert feed.stats.errors == 0
    start = times[0]
    assert [round((t - start) * FPS) for t in times] == list(range(45))
    # Timed by the wall clock when the reader had the unit (`captured` is monotonic).
    assert start == pytest.approx(wall(units[60].captured), abs=0.01)


async def test_a_fed_motion_worker_times_the_walker_and_stores_the_event(
    walker: Path, settings: Settings, site: Site, store: Store
) -> None:
    dam = site.camera("dam-dongao")
    assert dam is not None
    camera = dam.model_copy(update={"motion": CameraMotion()})
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    published: list[dict[str, Any]] = []

    def publish(topic: str, payload: bytes) -> None:
        data = json.loads(payload)
        published.append(data)
        if data.get("state") == "ended":
            loop.call_soon_threadsafe(ended.set)

    context = MotionContext(store, publish, Topics(settings.mqtt_prefix), settings.data_dir)
    # The whole clip at once, where a camera would send it over 9 s: room for all of it.
    feed = UnitFeed("dam-dongao", max_units=1000)
    units = access_units(walker)
    for unit in units:
        feed.push(unit)
    worker = MotionWorker(camera, context, feed)
    task = asyncio.create_task(worker.run(), name="test-motion-feed")
    try:
        async with asyncio.timeout(30):
            await ended.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    [event] = store.motion_events.list(camera_id="dam-dongao")
    assert units[0].pts == 0
    assert event.start - wall(units[0].captured) == pytest.approx(2.0, abs=0.5)
    assert event.end is not None and event.end - event.start == pytest.approx(3.0, abs=0.5)
    assert event.label is None  # a textured box, not a person
    assert [p["state"] for p in published] == ["active", "ended"]
    assert feed.stats.errors == 0 and feed.stats.dropped == 0


def test_an_event_that_learns_it_is_a_person_is_stored_and_announced_again(
    settings: Settings, site: Site, store: Store
) -> None:
    dam = site.camera("dam-dongao")
    assert dam is not None
    zone = MotionZone(id="crest", polygon=[(0, 0), (1, 0), (1, 1)], intrusion="danger")
    camera = dam.model_copy(update={"motion": CameraMotion(zones=[zone])})
    published: list[tuple[str, dict[str, Any]]] = []
    context = MotionContext(
        store,
        lambda topic, payload: published.append((topic, json.loads(payload))),
        Topics(settings.mqtt_prefix),
        settings.data_dir,
        site.timezone,
    )
    worker = MotionWorker(camera, context)
    [effective] = camera.motion.effective_zones()  # type: ignore[union-attr]
    start = DetectedMotion("ev1", "crest", 1000.0, None, 0.1, (0.1, 0.2, 0.3, 0.4), b"\xff\xd8")
    worker._handle(MotionChange("start", start, effective))
    learnt = dataclasses.replace(start, label="person", thumbnail=None)
    worker._handle(MotionChange("update", learnt, effective))
    ended = dataclasses.replace(learnt, end=1004.0, peak_score=0.2)
    worker._handle(MotionChange("end", ended, effective))

    motion = [p for t, p in published if t.endswith("/events/motion")]
    assert [(p["state"], p["label"]) for p in motion] == [
        ("active", None),
        ("active", "person"),
        ("ended", "person"),
    ]
    stored = store.motion_events.get("ev1")
    assert stored.label == "person" and stored.end == 1004.0 and stored.thumbnail is not None
    # One intrusion alert, raised at the start, joined by the update, not raised again.
    alerts = [p for t, p in published if t.endswith("/alerts")]
    assert [a["kind"] for a in alerts] == ["intrusion"] * len(alerts) and alerts
    assert len({a["id"] for a in alerts}) == 1
    assert motion[1]["alert_id"] == motion[0]["alert_id"] == alerts[0]["id"]
