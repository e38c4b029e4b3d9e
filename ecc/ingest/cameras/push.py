"""Pushing one camera stream to the center over WHIP (RFC 9725), while someone watches.

The stream's H.264 goes through as it came from the camera: a PacketTrack hands aiortc's sender
the access units, which it only packetizes. The push starts from the pipeline's GOP so the
center has a keyframe at once. A failed push (center unreachable, answer refused, connection
lost) is retried after a backoff with jitter, never reported as pushing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

from aiortc import RTCPeerConnection

from ecc.config.settings import VideoSettings
from ecc.ingest.cameras.pipeline import StreamPipeline
from ecc.media import rtc, whip
from ecc.media.audio import OpusTrack
from ecc.media.frames import AccessUnit
from ecc.media.h264 import PROFILE_LEVEL_IDS, Profile, profile_of
from ecc.media.track import PacketTrack

log = logging.getLogger(__name__)


class Push:
    def __init__(
        self,
        pipeline: StreamPipeline,
        url: str,
        token: Callable[[], str],
        settings: VideoSettings,
    ) -> None:
        self.pipeline = pipeline
        self.url = url
        self.token = token
        self.settings = settings
        self.pushing = False
        self.sessions = 0
        self.on_change: Callable[[], None] = lambda: None

    async def run(self) -> None:
        """Push until cancelled, starting again after every failure."""
        delay = self.settings.reconnect_min_s
        while True:
            started = time.monotonic()
            try:
                await self._session()
                reason = "the session ended"
            except whip.WhipError as exc:
                reason = str(exc)
            except ConnectionError as exc:
                reason = f"connection failed: {exc}"
            finally:
                if self.pushing:
                    self.pushing = False
                    self.on_change()
            if time.monotonic() - started > 60:
                delay = self.settings.reconnect_min_s
            wait = delay * random.uniform(0.5, 1.5)
            log.info("%s: push: %s; again in %.1f s", self.pipeline.name, reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.settings.reconnect_max_s)

    async def _session(self) -> None:
        pipeline = self.pipeline
        await self._source_ready()
        plid = pipeline.health.profile_level_id or "42e01f"
        try:
            label = PROFILE_LEVEL_IDS[profile_of(plid)]
        except ValueError:
            label = PROFILE_LEVEL_IDS[Profile.CONSTRAINED_BASELINE]
        pc = RTCPeerConnection(rtc.configuration(self.settings.ice_servers))
        track = PacketTrack()
        connected, ended = asyncio.Event(), asyncio.Event()

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState == "connected":
                connected.set()
            elif pc.connectionState in ("failed", "closed"):
                ended.set()

        def feed(unit: AccessUnit, now: float) -> None:
            track.push(unit, now)

        transceiver = pc.addTransceiver(track, direction="sendonly")
        # The camera's own profile: the center answers it and offers it on to the browsers.
        transceiver.setCodecPreferences([rtc.h264_capability(label)])
        # Its sound, as Opus, when it has any, with the main stream: full-screen viewers hear
        # it; tiles (the sub stream) are silent, so nothing is encoded for them (0.6 % of a
        # core for AAC at 48 kHz).
        sound: OpusTrack | None = None
        if pipeline.health.audio and pipeline.stream == "main":
            sound = OpusTrack()
            pc.addTransceiver(sound, direction="sendonly").setCodecPreferences(
                [rtc.opus_capability()]
            )
            pipeline.listen_audio(sound.push)
        session: whip.WhipSession | None = None
        track.prime(pipeline.listen(feed), time.monotonic())
        try:
            session = await whip.publish(pc, self.url, self.token())
            self.sessions += 1
            await self._connected(pc, connected, ended)
            self.pushing = True
            self.on_change()
            log.info(
                "%s: pushing to the center (%s%s)",
                pipeline.name,
                plid,
                ", with sound" if sound is not None else "",
            )
            # Until the connection drops, or the camera comes back with another profile.
            while not ended.is_set():
                try:
                    await asyncio.wait_for(ended.wait(), timeout=1.0)
                except TimeoutError:
                    current = pipeline.health.profile_level_id
                    if pipeline.health.online and current and current != plid:
                        log.info("%s: profile changed to %s", pipeline.name, current)
                        return
        finally:
            pipeline.unlisten(feed)
            track.stop()
            if sound is not None:
                pipeline.unlisten_audio(sound.push)
                sound.stop()
            if session is not None:
                await session.delete()
            await pc.close()

    async def _source_ready(self) -> None:
        """Wait for the camera to be online with a keyframe in hand."""
        await self.pipeline.ready.wait()

    async def _connected(
        self, pc: RTCPeerConnection, connected: asyncio.Event, ended: asyncio.Event
    ) -> None:
        waits = [asyncio.ensure_future(connected.wait()), asyncio.ensure_future(ended.wait())]
        try:
            await asyncio.wait(
                waits, timeout=self.settings.connect_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for w in waits:
                w.cancel()
        if not connected.is_set() or ended.is_set():
            raise ConnectionError(f"WebRTC to the center: {pc.connectionState}")
