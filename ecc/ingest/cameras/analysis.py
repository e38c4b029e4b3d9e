"""Motion analysis and stills of the worker's cameras, from the streams the worker already pulls.

One connection per stream: a camera with `motion.enabled` is analysed on its sub stream (its
main stream when it has none) by a MotionWorker whose frames come from a UnitFeed listening to
that stream's pipeline, the same pull that gives health, the GOP cache and the WHIP push. The
listener only queues (bounded; when full it drops up to the next keyframe, see UnitFeed), so a
slow analysis never holds up the camera's other users; decoding and detection run in the
motion worker's own thread.

Stills: every `STILL_S` the newest keyframe of the same stream is decoded once and written to
DATA_DIR/snapshots/<camera>.jpg, for the zone editor (the center serves it); every camera gets
one, analysed or not, since the editor is where motion analysis gets switched on.

Settings: when an admin saves a camera's motion settings, the center publishes them on
`<prefix>/cameras/{id}/motion/config`; they apply from the next analysed frame (events going on
end, the detector starts again with the new zones), and switching analysis on or off starts or
stops the camera's motion worker, all without touching the camera's connection.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from ecc.bus import Bus, Topics
from ecc.config import Camera
from ecc.config.motion import CameraMotion
from ecc.ingest.cameras.pipeline import Listener, StreamPipeline
from ecc.media.motion_worker import MotionContext, MotionWorker
from ecc.media.sampler import UnitFeed
from ecc.media.snapshot import keyframe_jpeg, write_snapshot

log = logging.getLogger(__name__)

STILL_S = 30.0
Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


def analysed_stream(pipelines: Mapping[str, StreamPipeline]) -> StreamPipeline:
    """The sub stream where there is one: a fraction of the main stream's decoding cost."""
    return pipelines.get("sub") or pipelines["main"]


@dataclass
class _Analysed:
    camera: Camera
    pipeline: StreamPipeline
    feed: UnitFeed | None = None
    listener: Listener | None = None
    worker: MotionWorker | None = None
    task: asyncio.Task[None] | None = None


class Analysis:
    """Owned by the CameraWorker, whose `spawn` names and keeps its tasks."""

    def __init__(self, context: MotionContext, bus: Bus, topics: Topics) -> None:
        self.context = context
        self.topics = topics
        self.cameras: dict[str, _Analysed] = {}
        self._spawn: Spawn | None = None
        bus.subscribe(topics.camera_motion_config(), self._on_config, qos=1)

    def add(self, camera: Camera, pipelines: Mapping[str, StreamPipeline]) -> None:
        self.cameras[camera.id] = _Analysed(camera, analysed_stream(pipelines))

    def start(self, spawn: Spawn) -> None:
        """Start the tasks; again after a restart of the camera worker, whose stop cancelled
        those of its previous run."""
        self._spawn = spawn
        for analysed in self.cameras.values():
            self._stop(analysed)
            spawn(self._stills(analysed), f"still-{analysed.camera.id}")
            self._apply(analysed)

    # -- motion ---------------------------------------------------------------------------

    def motion_seen(self, camera_id: str, start: float, end: float) -> bool | None:
        """Whether the camera's stored motion events touch [start, end]; None while its motion
        analysis is off. Blocking (reads the store): the recordings' thread calls it."""
        analysed = self.cameras.get(camera_id)
        if analysed is None or analysed.worker is None:
            return None
        events = self.context.store.motion_events.list(camera_id, start, end, limit=1)
        return bool(events)

    def _apply(self, analysed: _Analysed) -> None:
        """Start, reconfigure or stop the camera's motion worker to match its settings."""
        if self._spawn is None:
            return
        motion = analysed.camera.motion
        camera_id = analysed.camera.id
        if motion is None or not motion.enabled:
            if analysed.worker is not None:
                self._stop(analysed)
                log.info("%s: motion analysis off", camera_id)
            return
        if analysed.worker is not None:
            analysed.worker.reconfigure(motion)
            return
        feed = UnitFeed(f"motion-{camera_id}")
        listener = feed.push
        now = time.monotonic()
        # Start from the stream's newest keyframe rather than wait up to a GOP for the next.
        for unit in analysed.pipeline.listen(listener):
            feed.push(unit, now)
        worker = MotionWorker(analysed.camera, self.context, feed)
        analysed.feed, analysed.listener, analysed.worker = feed, listener, worker
        analysed.task = self._spawn(self._keep(worker), f"motion-{camera_id}")
        log.info(
            "%s: motion analysis on %s (%d zones)",
            camera_id,
            analysed.pipeline.name,
            len(motion.effective_zones()),
        )

    def _stop(self, analysed: _Analysed) -> None:
        if analysed.listener is not None:
            analysed.pipeline.unlisten(analysed.listener)
        if analysed.task is not None:
            analysed.task.cancel()
        analysed.feed = analysed.listener = analysed.worker = analysed.task = None

    @staticmethod
    async def _keep(worker: MotionWorker) -> None:
        """Run the worker; one that fails (the store away, a bug) starts again after a backoff
        with jitter, its stream's connection untouched."""
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                await worker.run()
                log.warning("%s stopped; starting it again", worker.name)
            except Exception:
                log.exception("%s failed", worker.name)
            if time.monotonic() - started > 60:
                delay = 1.0
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 30.0)

    def _on_config(self, topic: str, payload: bytes) -> None:
        head, tail = f"{self.topics.prefix}/cameras/", "/motion/config"
        camera_id = topic.removeprefix(head).removesuffix(tail)
        analysed = self.cameras.get(camera_id)
        if analysed is None:
            return  # another worker's camera
        try:
            data = orjson.loads(payload)
            given = data.get("motion") if isinstance(data, dict) else None
            motion = None if given is None else CameraMotion.model_validate(given)
        except (orjson.JSONDecodeError, ValidationError) as exc:
            log.warning("%s: motion settings from the bus refused: %s", camera_id, exc)
            return
        analysed.camera = analysed.camera.model_copy(update={"motion": motion})
        log.info("%s: new motion settings from the center", camera_id)
        self._apply(analysed)

    # -- stills ---------------------------------------------------------------------------

    async def _stills(self, analysed: _Analysed) -> None:
        pipeline = analysed.pipeline
        while True:
            await pipeline.ready.wait()
            jpeg = await asyncio.to_thread(keyframe_jpeg, pipeline.gop())
            if jpeg is not None:
                try:
                    await asyncio.to_thread(
                        write_snapshot, self.context.data_dir, analysed.camera.id, jpeg
                    )
                except OSError as exc:
                    log.warning("%s: cannot write its still: %s", analysed.camera.id, exc)
            await asyncio.sleep(STILL_S)
