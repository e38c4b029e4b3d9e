"""The media hub: WHIP publishers in, WHEP viewers out, demand signalled to the camera workers.

Cameras are pushed only while watched. The hub counts a camera's viewers per stream (those
negotiating included) and publishes the count retained on `<prefix>/cameras/{id}/demand`
(`{"main": n, "sub": n, "ts": ...}`); the camera worker pushes a stream while its count is
above zero, and a linger time after. A viewer that arrives while its camera is idle waits (up
to `whep_wait_s`) for the push to start and its first keyframe to arrive, so its answer is
ready to play at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiortc import RTCPeerConnection
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ecc import times
from ecc.bus import Bus, Topics
from ecc.command_center.mediahub.publisher import Publisher
from ecc.command_center.mediahub.session import BadOffer, Session, parse_offer
from ecc.command_center.mediahub.source import STREAMS, LiveSource, SourceKey
from ecc.command_center.mediahub.viewer import Viewer
from ecc.command_center.metrics import Metrics
from ecc.config import Site
from ecc.config.settings import VideoSettings
from ecc.media import rtc

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 1.0
# A source whose publisher is connected but sends nothing (its camera went dark) for this long
# has its GOP cache dropped: a new viewer must not be shown a stale picture as live.
STALE_S = 3.0


class NotPublishing(Exception):
    """The source is not being pushed and did not start within the wait."""


class TooManyViewers(Exception):
    """The public viewer cap of this camera is reached."""


@dataclass
class HubCounts:
    """The hub's own figures (also in /metrics): what was pulled, packetized and sent."""

    publishes: int = 0
    viewers_started: int = 0
    frames_packetized: int = 0
    frames_sent: int = 0
    dropped: int = 0
    decoders: int = 0
    encoders: int = 0


class MediaHub:
    def __init__(
        self, settings: VideoSettings, site: Site, topics: Topics, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.site = site
        self.topics = topics
        self.metrics = metrics
        self.bus: Bus | None = None
        self.sources: dict[SourceKey, LiveSource] = {}
        self.sessions: dict[str, Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._housekeeping: asyncio.Task[None] | None = None
        self._demand_sent: dict[str, dict[str, int]] = {}
        self._ended_drops = 0
        self._ended_frames = 0
        self._viewers_started = 0
        self.on_publish: list[Callable[[SourceKey, Publisher], None]] = []
        """Called with each new publisher, once it is the source's (the vehicle recorder)."""
        metrics.registry.register(HubCollector(self))

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, bus: Bus) -> None:
        rtc.register_h264_profiles()
        rtc.install_decoder_seam()
        rtc.use_host_addresses(self.settings.ice_hosts, loopback=self.settings.ice_loopback)
        await rtc.check_seams()
        self.bus = bus
        # After a restart nobody watches: clear what a previous run left retained, or workers
        # would push for viewers that are gone.
        for camera in self.site.cameras:
            self._publish_demand(camera.id, force=True)
        self._housekeeping = asyncio.create_task(self._housekeep(), name="mediahub-housekeeping")

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        sessions = list(self.sessions.values())
        await asyncio.gather(*(self._end(s) for s in sessions), return_exceptions=True)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- WHIP -----------------------------------------------------------------------------

    async def publish(self, key: SourceKey, offer: str) -> Publisher:
        """Answer a publisher's offer; it replaces the source's current publisher, if any."""
        source = self._source(key)
        publisher = Publisher(source, self._pc())
        try:
            await publisher.negotiate(offer)
        except BaseException:
            await publisher.close()
            self._forget_if_idle(source)
            raise
        old = source.publisher
        source.attach_publisher(publisher)
        self._register(publisher)
        for hook in self.on_publish:
            hook(key, publisher)
        if old is not None:
            self._spawn(self._end(old), "replace-publisher")
        log.info("%s: publisher %s (%s)", key, publisher.id[:6], publisher.profile)
        self.metrics.video_publishers.labels(key.source_id, key.stream).inc()
        return publisher

    # -- WHEP -----------------------------------------------------------------------------

    async def watch(self, key: SourceKey, offer: str, public: bool = False) -> Viewer:
        """Answer a viewer's offer once the source is pushed (NotPublishing if it does not
        start within `whep_wait_s`)."""
        # A bad offer is refused at once, not after waiting for the camera.
        wanted = "audio" if key.audio_only else "video"
        if not any(m.kind == wanted for m in parse_offer(offer).media):
            raise BadOffer(f"the offer asks for no {wanted}")
        source = self._source(key)
        if public and (
            sum(1 for v in source.viewers if v.public) >= self.settings.public_viewers_per_camera
        ):
            raise TooManyViewers(f"{key}: {self.settings.public_viewers_per_camera} viewers")
        source.pending += 1
        self._demand_changed(source)
        try:
            try:
                await asyncio.wait_for(source.ready.wait(), self.settings.whep_wait_s)
            except TimeoutError:
                raise NotPublishing(f"{key} is not being pushed") from None
            viewer = Viewer(source, self._pc(), self.settings.viewer_queue_frames, public)
            viewer.on_drop = self._drops(key)
            try:
                await viewer.negotiate(offer)
            except BaseException:
                await viewer.close()
                raise
        except BaseException:
            source.pending -= 1
            self._demand_changed(source)
            self._forget_if_idle(source)
            raise
        source.pending -= 1
        source.viewers.add(viewer)
        self._register(viewer)
        self._demand_changed(source)
        self.metrics.video_viewers.labels(key.source_id, key.stream).inc()
        return viewer

    async def end(self, session_id: str, kind: str) -> bool:
        session = self.sessions.get(session_id)
        if session is None or session.kind != kind:
            return False
        await self._end(session)
        return True

    # -- figures --------------------------------------------------------------------------

    def counts(self) -> HubCounts:
        viewers = [s for s in self.sessions.values() if isinstance(s, Viewer)]
        return HubCounts(
            publishes=sum(s.publishes for s in self.sources.values()),
            viewers_started=self._viewers_started,
            frames_packetized=sum(s.video.frames_in for s in self.sources.values()),
            frames_sent=self._ended_frames + sum(v.frames_sent for v in viewers),
            dropped=self._ended_drops + sum(v.dropped for v in viewers),
            decoders=rtc.decoders_created(),
            encoders=sum(1 for v in viewers for o, _ in v.outbounds if rtc.has_encoder(o.sender)),
        )

    def describe(self) -> list[dict[str, object]]:
        now = time.monotonic()
        out: list[dict[str, object]] = []
        for key, s in sorted(self.sources.items()):
            publisher = s.publisher
            out.append(
                {
                    "source_id": key.source_id,
                    "stream": key.stream,
                    "publishing": publisher is not None and publisher.connected,
                    "profile": None if s.profile is None else s.profile.name.lower(),
                    "publishes": s.publishes,
                    "viewers": len(s.viewers),
                    "pending": s.pending,
                    "frames_packetized": s.video.frames_in,
                    "keyframe_age_s": None
                    if s.video.last_keyframe is None
                    else round(now - s.video.last_keyframe, 3),
                    "gop_cache_bytes": s.video.gop.bytes if s.video.gop else 0,
                    "frames_sent": sum(v.frames_sent for v in s.viewers),
                    "dropped": sum(v.dropped for v in s.viewers),
                }
            )
        return out

    # -- internals ------------------------------------------------------------------------

    def _pc(self) -> RTCPeerConnection:
        return RTCPeerConnection(rtc.configuration(self.settings.ice_servers))

    def _source(self, key: SourceKey) -> LiveSource:
        source = self.sources.get(key)
        if source is None:
            source = self.sources[key] = LiveSource(key, self.settings)
        return source

    def _register(self, session: Session) -> None:
        self.sessions[session.id] = session
        if isinstance(session, Viewer):
            self._viewers_started += 1
        session.on_end = lambda s: self._spawn(self._end(s), f"end-{s.kind}")

    async def _end(self, session: Session) -> None:
        if self.sessions.pop(session.id, None) is None:
            await session.close()
            return
        source = session.source
        key = source.key
        if isinstance(session, Viewer):
            source.viewers.discard(session)
            self._ended_drops += session.dropped
            self._ended_frames += session.frames_sent
            self.metrics.video_viewers.labels(key.source_id, key.stream).dec()
            self.metrics.video_viewer_drops.observe(session.dropped)
            self._demand_changed(source)
        elif isinstance(session, Publisher):
            source.detach_publisher(session)
            self.metrics.video_publishers.labels(key.source_id, key.stream).dec()
            log.info("%s: publisher %s ended", key, session.id[:6])
        await session.close()
        self._forget_if_idle(source)

    def _forget_if_idle(self, source: LiveSource) -> None:
        if source.idle and self.sources.get(source.key) is source:
            del self.sources[source.key]

    def _drops(self, key: SourceKey) -> Callable[[int], None]:
        counter = self.metrics.video_dropped.labels(key.source_id, key.stream)
        return counter.inc

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"mediahub-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def _housekeep(self) -> None:
        """End sessions that never connected; drop the GOP cache of sources gone dark."""
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            now = time.monotonic()
            for source in self.sources.values():
                fanout = source.audio if source.key.audio_only else source.video
                if source.ready.is_set() and now - fanout.last_frame > STALE_S:
                    source.went_dark()
                elif source.key.source_id.startswith("vehicle:") and source.publisher is not None:
                    self._keyframe_due(source, now)
            for session in list(self.sessions.values()):
                if (
                    not session.connected
                    and now - session.created > self.settings.connect_timeout_s
                ):
                    log.info("%s %s never connected; ending it", session.kind, session.id[:6])
                    await self._end(session)

    def _keyframe_due(self, source: LiveSource, now: float) -> None:
        """A vehicle's encoder (a browser's above all) makes a keyframe only when asked: ask
        every `encoder_keyframe_s`, so the GOP cache stays short (a new viewer's first picture
        comes at once, not after a burst of a long GOP) and the recorder can cut segments."""
        last = source.video.last_keyframe
        if last is None or now - last > self.settings.encoder_keyframe_s:
            source.request_keyframe()

    # -- demand ---------------------------------------------------------------------------

    def _demand_changed(self, source: LiveSource) -> None:
        camera = source.key.camera_id
        if camera is not None:
            self._publish_demand(camera)

    def _publish_demand(self, camera: str, force: bool = False) -> None:
        counts = {
            stream: (
                s.demand if (s := self.sources.get(SourceKey(f"camera:{camera}", stream))) else 0
            )
            for stream in STREAMS
        }
        if not force and self._demand_sent.get(camera) == counts:
            return
        self._demand_sent[camera] = counts
        if self.bus is None:
            return
        payload = orjson.dumps({**counts, "ts": times.iso(time.time())})
        with contextlib.suppress(RuntimeError):
            self.bus.publish(self.topics.camera_demand(camera), payload, qos=1, retain=True)


class HubCollector(Collector):
    """The hub's counters at scrape time: nothing is counted per packet on the live path."""

    def __init__(self, hub: MediaHub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        c = self._hub.counts()
        yield CounterMetricFamily(
            "ecc_video_publishes", "WHIP publisher sessions started", value=c.publishes
        )
        yield CounterMetricFamily(
            "ecc_video_viewers_started", "WHEP viewer sessions started", value=c.viewers_started
        )
        yield CounterMetricFamily(
            "ecc_video_frames_packetized",
            "video frames received and packetized for RTP (once per source)",
            value=c.frames_packetized,
        )
        yield CounterMetricFamily(
            "ecc_video_frames_sent", "video frames sent, summed over viewers", value=c.frames_sent
        )
        yield GaugeMetricFamily(
            "ecc_video_decoders",
            "decoders aiortc created in this process (0: the hub decodes nothing)",
            value=c.decoders,
        )
        yield GaugeMetricFamily(
            "ecc_video_viewer_encoders",
            "viewer senders with an encoder or packetizer of their own (0 by design)",
            value=c.encoders,
        )
