"""`ecc ingest cameras`: every camera of the site pulled, watched over, and pushed on demand.

Boot sequence of one worker:

1. a StreamPipeline per camera stream (main, and sub where the camera has one), each pulling
   its source for as long as the worker runs (health must be known whether or not anyone
   watches);
2. the bus: retained demand from the media hub (`<prefix>/cameras/+/demand`) starts and stops
   each stream's WHIP push; `preload = true` keeps a camera pushed; a push stops `linger_s`
   after its stream's last viewer left, so a viewer flicking between tiles does not make the
   camera reconnect each time;
3. health: each camera's status, published retained on `<prefix>/cameras/{id}/status` every
   `status_interval_s` and at each change; a camera whose main stream is offline for
   `offline_alert_s` raises a camera-offline alert (ecc.bus.alerter), resolved when it is back;
4. analysis (analysis.py): motion detection of the cameras that have it, and a still of each,
   fed from the same pulls (a camera is connected to once per stream);
5. recording (recording.py): the main stream of each camera with `record = true`, into
   segment files indexed in the store, with reconcile at start and retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ecc import times
from ecc.bus import Bus, Topics
from ecc.bus.alerter import Alerter, Condition
from ecc.config import Camera, Settings, Site, signing_secret
from ecc.ingest.cameras.analysis import Analysis
from ecc.ingest.cameras.pipeline import StreamPipeline
from ecc.ingest.cameras.push import Push
from ecc.ingest.cameras.recording import CameraRecording
from ecc.media import rtc
from ecc.media.motion_worker import MotionContext
from ecc.storage import Store
from ecc.storage.models import Severity
from ecc.tokens import Tokens

log = logging.getLogger(__name__)

TOKEN_TTL_S = 6 * 3600
CLOCK_MAIN = "clock:640x360@15"
CLOCK_SUB = "clock:320x180@10"


def demo_sources(camera: Camera, demo_dir: Path) -> dict[str, str]:
    """What `ecc run` streams for a camera instead of its real URLs: a looped clip from the
    shared video folder, or the generated clock scene (also when the clip is missing)."""
    demo = camera.demo or "clock"
    if demo != "clock":
        clip = demo_dir / demo
        if clip.is_file():
            return {"main": str(clip), "sub": str(clip)}
        log.warning("%s: demo clip %s not found; showing the clock scene", camera.id, clip)
    return {"main": CLOCK_MAIN, "sub": CLOCK_SUB}


def camera_sources(camera: Camera) -> dict[str, str]:
    streams = {"main": camera.main}
    if camera.sub is not None:
        streams["sub"] = camera.sub
    return streams


@dataclass
class CameraState:
    camera: Camera
    pipelines: dict[str, StreamPipeline]
    pushes: dict[str, Push] = field(default_factory=dict)
    push_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    demand: dict[str, int] = field(default_factory=dict)
    linger: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    offline_since: float | None = None
    alerted: bool = False


class CameraWorker:
    """The camera ingest worker as a supervised part."""

    name = "ingest-cameras"

    def __init__(
        self,
        settings: Settings,
        site: Site,
        store: Store,
        bus: Bus,
        demo: bool = False,
        only: set[str] | None = None,
    ) -> None:
        self.settings = settings
        self.video = settings.video
        self.site = site
        self.store = store
        self.bus = bus
        self.topics = Topics(settings.mqtt_prefix)
        self.alerter = Alerter(store, self._publish_alert, self.topics.alerts)
        self._tokens = Tokens(signing_secret(settings), TOKEN_TTL_S)
        self._token: tuple[str, float] | None = None
        self.cameras: dict[str, CameraState] = {}
        for camera in site.cameras:
            if only is not None and camera.id not in only:
                continue
            sources = demo_sources(camera, self.video.demo_dir) if demo else camera_sources(camera)
            pipelines = {
                stream: StreamPipeline(camera.id, stream, url, self.video)
                for stream, url in sources.items()
            }
            self.cameras[camera.id] = CameraState(camera, pipelines)
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.bus.subscribe(self.topics.camera_demand(), self._on_demand, qos=1)
        motion = MotionContext(store, bus.publish, self.topics, settings.data_dir, site.timezone)
        self.analysis = Analysis(motion, bus, self.topics)
        for state in self.cameras.values():
            self.analysis.add(state.camera, state.pipelines)
        self.recording = CameraRecording(settings, store, self.alerter)
        for state in self.cameras.values():
            self.recording.add(
                state.camera,
                state.pipelines,
                functools.partial(self.analysis.motion_seen, state.camera.id),
            )

    async def run(self) -> None:
        rtc.register_h264_profiles()
        rtc.use_host_addresses(self.video.ice_hosts, loopback=self.video.ice_loopback)
        await self.bus.start(timeout=None)
        try:
            for state in self.cameras.values():
                for pipeline in state.pipelines.values():
                    pipeline.on_change = self._changed.set
                    self._spawn(pipeline.run(), f"pull-{pipeline.name}")
                if state.camera.preload:
                    for stream in state.pipelines:
                        self._start_push(state, stream)
            self.analysis.start(self._spawn)
            self.recording.start(self._spawn)
            await self._health()
        finally:
            await self._stop()

    async def _stop(self) -> None:
        for state in self.cameras.values():
            for handle in state.linger.values():
                handle.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Say so on the bus: a stopped worker's cameras are not online.
        for state in self.cameras.values():
            for pipeline in state.pipelines.values():
                pipeline.health.online = False
            self._publish_status(state)
        await self.bus.stop()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=f"cameras-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    # -- demand ---------------------------------------------------------------------------

    def _on_demand(self, topic: str, payload: bytes) -> None:
        camera_id = topic.removeprefix(f"{self.topics.prefix}/cameras/").removesuffix("/demand")
        state = self.cameras.get(camera_id)
        if state is None:
            return
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            log.warning("demand for %s is not JSON", camera_id)
            return
        if not isinstance(data, dict):
            return
        for stream in state.pipelines:
            count = data.get(stream)
            state.demand[stream] = count if isinstance(count, int) and count > 0 else 0
            self._apply_demand(state, stream)

    def _apply_demand(self, state: CameraState, stream: str) -> None:
        wanted = state.camera.preload or state.demand.get(stream, 0) > 0
        handle = state.linger.pop(stream, None)
        if handle is not None:
            handle.cancel()
        if wanted:
            self._start_push(state, stream)
        elif stream in state.push_tasks:
            loop = asyncio.get_running_loop()
            state.linger[stream] = loop.call_later(
                self.video.linger_s, self._stop_push, state, stream
            )

    def _start_push(self, state: CameraState, stream: str) -> None:
        if stream in state.push_tasks:
            return
        pipeline = state.pipelines[stream]
        url = f"{self.settings.center}/api/whip/camera:{state.camera.id}?stream={stream}"
        push = Push(pipeline, url, self._bearer, self.video)
        push.on_change = self._changed.set
        state.pushes[stream] = push
        state.push_tasks[stream] = self._spawn(push.run(), f"push-{pipeline.name}")
        log.info("%s: watched; pushing", pipeline.name)

    def _stop_push(self, state: CameraState, stream: str) -> None:
        state.linger.pop(stream, None)
        task = state.push_tasks.pop(stream, None)
        state.pushes.pop(stream, None)
        if task is not None:
            log.info("%s/%s: nobody watches; push stopped", state.camera.id, stream)
            task.cancel()
            self._changed.set()

    def _bearer(self) -> str:
        now = time.time()
        if self._token is None or self._token[1] - now < 600:
            token, claims = self._tokens.issue("camera-worker", "service")
            self._token = (token, claims.exp)
        return self._token[0]

    # -- health ---------------------------------------------------------------------------

    async def _health(self) -> None:
        """Publish every camera's status at each change and every `status_interval_s`."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.video.status_interval_s)
            self._changed.clear()
            for state in self.cameras.values():
                for pipeline in state.pipelines.values():
                    pipeline.refresh()
                self._publish_status(state)
                await self._check_offline(state)

    def status(self, state: CameraState) -> dict[str, Any]:
        streams: dict[str, Any] = {}
        for name, pipeline in state.pipelines.items():
            h = pipeline.health
            push = state.pushes.get(name)
            streams[name] = {
                "online": h.online,
                "fps": h.fps,
                "bitrate": h.bitrate,
                "keyframe_age_s": h.keyframe_age_s,
                "since": times.iso(h.since),
                "error": h.error,
                "codec": h.codec,
                "profile_level_id": h.profile_level_id,
                "width": h.width,
                "height": h.height,
                "transcoding": h.transcoding,
                "audio": h.audio,
                "restarts": h.restarts,
                "pushing": push is not None and push.pushing,
            }
        main = streams["main"]
        return {
            "online": main["online"],
            "fps": main["fps"],
            "bitrate": main["bitrate"],
            "keyframe_age_s": main["keyframe_age_s"],
            "since": main["since"],
            "error": main["error"],
            "recording": self.recording.state(state.camera.id),
            "streams": streams,
            "ts": times.iso(time.time()),
        }

    def _publish_status(self, state: CameraState) -> None:
        with contextlib.suppress(RuntimeError):
            self.bus.publish(
                self.topics.camera_status(state.camera.id),
                orjson.dumps(self.status(state)),
                qos=1,
                retain=True,
            )

    async def _check_offline(self, state: CameraState) -> None:
        health = state.pipelines["main"].health
        if health.online:
            state.offline_since = None
            if state.alerted:
                state.alerted = False
                await self._alert(state, None, time.time())
            return
        if state.offline_since is None:
            state.offline_since = health.since
        if not state.alerted and time.time() - state.offline_since >= self.video.offline_alert_s:
            state.alerted = True
            await self._alert(state, "warning", state.offline_since)

    async def _alert(self, state: CameraState, severity: Severity | None, ts: float) -> None:
        camera = state.camera
        error = state.pipelines["main"].health.error or ""
        condition = Condition(
            kind="camera_offline",
            source_type="camera",
            source_id=camera.id,
            metric=None,
            severity=severity,
            ts=ts,
            message=f"{camera.name} 视频中断（{error}）" if severity else "",
        )
        try:
            await asyncio.to_thread(self.alerter.apply, condition)
        except Exception:
            # The store is away: try again at the next round rather than forget the alert.
            log.exception("%s: could not store the camera-offline alert", camera.id)
            state.alerted = severity is None

    def _publish_alert(self, topic: str, payload: bytes) -> None:
        self.bus.publish(topic, payload, qos=1)
