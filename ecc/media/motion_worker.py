"""The motion worker of one camera: decode, detect, store, announce, alert.

A thread decodes the camera's sub stream (its main stream when it has none) and runs the
detector; what the detector reports crosses to the event loop through a bounded queue, and is
stored, published on `events/motion` and turned into intrusion alerts from worker threads, so
the loop never blocks. It is a Part.

Where the frames come from: in `ecc run` and `ecc ingest cameras` from a `UnitFeed`, the access
units of the stream that the camera worker already pulls (ecc.ingest.cameras.analysis), so a
camera is connected to once; given `SourceOptions` (or nothing) the worker opens the source
itself, as the tests and the benchmark do.

`reconfigure` applies new settings (zones drawn on the dashboard) from the next frame: the
events going on end, and the detector starts again with the new zones.

Rate limit: a camera that starts more than `max_events_per_hour` events in the last hour (rain on
the lens, a flag in the wind) keeps storing them, but they no longer reach dashboards or raise
alerts; one `motion_rate` alert says so, and clears when the rate has fallen to half the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import orjson

from ecc import times
from ecc.bus.alerter import Alerter, Condition, Publish
from ecc.bus.topics import Topics
from ecc.config import Camera
from ecc.config.motion import CameraMotion, MotionZone
from ecc.media.motion import MotionChange, MotionDetector
from ecc.media.motion_events import motion_to_wire, thumbnail_name, thumbnail_path
from ecc.media.sampler import FrameSampler, SourceOptions, UnitFeed
from ecc.storage import Store
from ecc.storage.models import MotionEvent

log = logging.getLogger(__name__)

HOUR_S = 3600.0
# Changes waiting for the store: far more than a camera makes; when full, the analysis thread
# waits (and the live source falls behind and is caught up by skipping analysis, see sampler).
QUEUE_SIZE = 64
RETENTION_CHECK_S = 3600.0


@dataclass(frozen=True, slots=True)
class MotionContext:
    """What every camera's worker shares."""

    store: Store
    publish: Publish
    """Thread-safe (MqttClient.publish, LocalBus.publish)."""
    topics: Topics
    data_dir: Path
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


@dataclass(frozen=True, slots=True)
class _Done:
    pass


_Item = MotionChange | _Failed | _Done


def source_of(camera: Camera) -> SourceOptions:
    """The sub stream when the camera has one: a fraction of the main stream's decoding cost."""
    return SourceOptions(url=camera.sub or camera.main)


def armed(zone: MotionZone, ts: float, tz: ZoneInfo) -> bool:
    """Whether the zone's intrusion alert is armed at `ts` (its active hours, local time)."""
    if not zone.active_hours:
        return True
    local = datetime.fromtimestamp(ts, tz).time()
    for text in zone.active_hours:
        start, end = (_clock(part) for part in text.split("-"))
        inside = start <= local < end if start < end else local >= start or local < end
        if inside:
            return True
    return False


def _clock(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


class RateLimit:
    """Starts of events in the last hour, against the camera's limit."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._starts: deque[float] = deque()
        self.limited = False

    def count(self, now: float) -> int:
        while self._starts and self._starts[0] < now - HOUR_S:
            self._starts.popleft()
        return len(self._starts)

    def admit(self, ts: float) -> bool:
        """Count an event starting at `ts`; whether it may be announced."""
        self._starts.append(ts)
        if self.count(ts) > self.per_hour:
            self.limited = True
        return not self.limited

    def recovered(self, now: float) -> bool:
        """Whether a limited camera is back to half its limit (and so no longer limited)."""
        if self.limited and self.count(now) <= self.per_hour // 2:
            self.limited = False
            return True
        return False


class MotionWorker:
    def __init__(
        self,
        camera: Camera,
        context: MotionContext,
        source: SourceOptions | UnitFeed | None = None,
    ) -> None:
        if camera.motion is None or not camera.motion.enabled:
            raise ValueError(f"camera {camera.id!r} has no motion detection enabled")
        self.camera = camera
        self.config: CameraMotion = camera.motion
        self.context = context
        self.source = source or source_of(camera)
        self.name = f"motion:{camera.id}"
        self._pending: CameraMotion | None = None
        self._pending_lock = threading.Lock()
        self._tz = ZoneInfo(context.timezone)
        self._alerter = Alerter(context.store, context.publish, context.topics.alerts)
        self._rate = RateLimit(self.config.max_events_per_hour)
        self._events: dict[str, MotionEvent] = {}
        self._pruned_at = 0.0
        self.detector = MotionDetector(self.config)
        self.sampler: FrameSampler | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue(QUEUE_SIZE)
        stop = threading.Event()
        thread = threading.Thread(
            target=self._analyse,
            args=(loop, queue, stop),
            name=f"motion-{self.camera.id}",
            daemon=True,
        )
        thread.start()
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), RETENTION_CHECK_S / 60)
                except TimeoutError:
                    await asyncio.to_thread(self._housekeeping, times.now())
                    continue
                if isinstance(item, _Done):
                    return
                if isinstance(item, _Failed):
                    raise item.error
                await asyncio.to_thread(self._handle, item)
        finally:
            stop.set()
            if isinstance(self.source, UnitFeed):
                self.source.wake()
            await asyncio.to_thread(thread.join)

    def reconfigure(self, motion: CameraMotion) -> None:
        """New settings, applied from the next analysed frame (thread-safe)."""
        if not motion.enabled:
            raise ValueError(f"{self.name}: disabled settings stop the worker, not reconfigure it")
        with self._pending_lock:
            self._pending = motion

    # --- the analysis thread ---------------------------------------------------------------

    def _analyse(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[_Item], stop: threading.Event
    ) -> None:
        def hand_over(item: _Item) -> bool:
            """Wait for room in the queue (never drop an event's end); False once stopping."""
            future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            while not stop.is_set():
                try:
                    future.result(timeout=0.5)
                    return True
                except TimeoutError:
                    continue
            future.cancel()
            return False

        try:
            self._decode_and_detect(stop, hand_over)
        except Exception as exc:
            if not stop.is_set():
                hand_over(_Failed(exc))
            return
        hand_over(_Done())

    def _decode_and_detect(self, stop: threading.Event, hand_over: Callable[[_Item], bool]) -> None:
        self.detector = MotionDetector(self.config)
        source = self.source
        sampler = self.sampler = (
            None if isinstance(source, UnitFeed) else FrameSampler(source, stop)
        )
        delay = 1.0
        last_ts = times.now()
        while not stop.is_set():
            try:
                frames = (
                    source.frames(self._due, stop)
                    if isinstance(source, UnitFeed)
                    else sampler.frames(self._due)  # type: ignore[union-attr]
                )
                for frame in frames:
                    last_ts = frame.ts
                    for change in self._reload(frame.ts) + self.detector.feed(frame):
                        if not hand_over(change):
                            return
                delay = 1.0
            except av.error.FFmpegError as exc:
                # A camera that fails is retried with backoff and jitter, never given up on.
                log.warning("%s: %s; retrying in %.0f s", self.name, exc, delay)
            for change in self.detector.flush(last_ts):
                if not hand_over(change):
                    return
            if isinstance(source, UnitFeed) or sampler is None:
                # The stream went quiet (its pipeline reconnects): wait for it to come back.
                continue
            if source.is_file and not source.loop:
                return
            if not source.is_file or sampler.stats.sampled == 0:
                stop.wait(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 30.0)

    def _due(self, ts: float) -> bool:
        return self.detector.due(ts)

    def _reload(self, ts: float) -> list[MotionChange]:
        """Switch to settings given to `reconfigure`, ending the events of the old ones."""
        with self._pending_lock:
            motion, self._pending = self._pending, None
        if motion is None:
            return []
        ended = self.detector.flush(ts)
        self.config = motion
        self.camera = self.camera.model_copy(update={"motion": motion})
        self._rate.per_hour = motion.max_events_per_hour
        self.detector = MotionDetector(motion)
        log.info(
            "%s: new settings: %d zones, %d masks",
            self.name,
            len(motion.zones),
            len(motion.masks),
        )
        return ended

    # --- store, announce, alert (worker threads) --------------------------------------------

    def _handle(self, change: MotionChange) -> None:
        m, zone = change.motion, change.zone
        if change.kind == "update":
            previous = self._events.get(m.id)
        else:
            previous = self._events.pop(m.id, None)
        if change.kind == "start":
            announced = self._rate.admit(m.start)
            if not announced and self._rate.count(m.start) == self.config.max_events_per_hour + 1:
                self._rate_alert(m.start)
        else:
            announced = previous.announced if previous is not None else False
        thumbnail = None
        if m.thumbnail is not None:
            thumbnail = thumbnail_name(self.camera.id, m.id, m.start)
            _write(self.context.data_dir / thumbnail, m.thumbnail)
        event = MotionEvent(
            id=m.id,
            camera_id=self.camera.id,
            zone=m.zone,
            start=m.start,
            end=m.end,
            peak_score=m.peak_score,
            box=m.box,
            thumbnail=thumbnail or (previous.thumbnail if previous else None),
            alert_id=previous.alert_id if previous else None,
            announced=announced,
            label=m.label,
        )
        if announced and zone.intrusion is not None and change.kind != "update":
            event = replace(event, alert_id=self._intrusion(change, zone) or event.alert_id)
        self.context.store.motion_events.put(event)
        if change.kind == "end" and m.end is not None:
            # Segments indexed before the event was stored (it is stored when detected, a
            # moment after its first frame) missed it at indexing: flag them now.
            self.context.store.recordings.mark_motion(f"camera:{self.camera.id}", m.start, m.end)
        if change.kind != "end":
            self._events[m.id] = event
        if announced:
            self.context.publish(
                self.context.topics.events("motion"), orjson.dumps(motion_to_wire(event))
            )
        self._housekeeping(m.end or m.start)

    def _intrusion(self, change: MotionChange, zone: MotionZone) -> str | None:
        m = change.motion
        store = self.context.store
        if change.kind == "end":
            alert = self._alerter.apply(
                Condition("intrusion", "camera", self.camera.id, zone.id, None, m.end or m.start)
            )
            return alert.id if alert else None
        if not armed(zone, m.start, self._tz):
            return None
        current = store.alerts.find_open("camera", self.camera.id, "intrusion", zone.id)
        if current is not None and current.state == "acknowledged":
            # The operator has seen the last one: a new intrusion is a new alert.
            self._alerter.announce(store.alerts.resolve(current.id, m.start))
        name = zone.name or zone.id
        alert = self._alerter.apply(
            Condition(
                kind="intrusion",
                source_type="camera",
                source_id=self.camera.id,
                metric=zone.id,
                severity=zone.intrusion,
                ts=m.start,
                value=m.peak_score,
                # In the site's language, as every alert message (pages say the rest from
                # the alert's kind and metric in their own).
                message=f"{self.camera.name}：区域 {name} 有移动",
                require_ack=True,
            )
        )
        if alert is not None:
            return alert.id
        current = store.alerts.find_open("camera", self.camera.id, "intrusion", zone.id)
        return current.id if current else None

    def _rate_alert(self, ts: float) -> None:
        limit = self.config.max_events_per_hour
        self._alerter.apply(
            Condition(
                kind="motion_rate",
                source_type="camera",
                source_id=self.camera.id,
                metric=None,
                severity="warning",
                ts=ts,
                value=float(self._rate.count(ts)),
                threshold=float(limit),
                message=(
                    f"{self.camera.name}：近一小时移动事件超过 {limit} 次；之后的事件照常保存，"
                    "但在频率降到一半之前不再提示或告警（请检查区域、屏蔽区和灵敏度）"
                ),
            )
        )

    def _housekeeping(self, now: float) -> None:
        if self._rate.recovered(now):
            self._alerter.apply(Condition("motion_rate", "camera", self.camera.id, None, None, now))
        if now - self._pruned_at < RETENTION_CHECK_S:
            return
        self._pruned_at = now
        before = now - self.camera.retention_days * 86400
        for event in self.context.store.motion_events.delete_before(before, self.camera.id):
            path = thumbnail_path(self.context.data_dir, event)
            if path is not None:
                path.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader never sees half a JPEG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    with contextlib.suppress(FileNotFoundError):
        partial.replace(path)
