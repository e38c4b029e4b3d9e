"""The vehicle's stream to the center: one WHIP session (RFC 9725), published again whenever it
drops, with backoff and jitter.

Video goes as the source gives it: H.264 from a file, an RTSP camera or a USB camera that encodes
is passed through (a PacketTrack hands aiortc's sender access units it only packetizes) and the
session is negotiated in the source's own profile; anything else was encoded once by the reader
(ecc.media.source). Audio is encoded to Opus by aiortc's sender, once.

A session is dead when the center stops sending RTCP receiver reports for `stall_s`: the center
restarted or the link broke, and ICE's own consent check would take half a minute to say so.
The same reports give the link's telemetry: round-trip time and loss as the center measures
them, and the bitrate sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiortc import RTCPeerConnection

from ecc.ingest.cameras.pipeline import StreamPipeline
from ecc.ingest.vehicle.audio import AudioFeed, AudioTrack
from ecc.ingest.vehicle.center import Link
from ecc.media import rtc, whip
from ecc.media.frames import AccessUnit
from ecc.media.h264 import PROFILE_LEVEL_IDS, Profile, profile_of
from ecc.media.track import PacketTrack

log = logging.getLogger(__name__)

CHECK_S = 1.0
# When the center answers again after the link was down, a session whose last RTCP report is
# older than this is the old center's: publish again at once rather than wait out `stall_s`.
RESTORED_STALE_S = 2.0


@dataclass(frozen=True, slots=True)
class UplinkOptions:
    whip_url: str
    ice_servers: tuple[str, ...] = ()
    connect_timeout_s: float = 15.0
    stall_s: float = 6.0
    """No RTCP report from the center this long: the session is dead, publish again."""
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 15.0


@dataclass(frozen=True, slots=True)
class LinkFigures:
    rtt_ms: float | None
    loss_pct: float | None
    bitrate_kbps: float | None


class Uplink:
    def __init__(
        self,
        options: UplinkOptions,
        video: StreamPipeline | None,
        audio: AudioFeed | None,
        token: Callable[[], str],
        link: Link,
    ) -> None:
        self.options = options
        self.video = video
        self.audio = audio
        self.token = token
        self.link = link
        self.publishing = False
        self.sessions = 0
        self._pc: RTCPeerConnection | None = None
        self._sent: tuple[float, int] | None = None

    async def run(self) -> None:
        """Publish until cancelled, again after every failure."""
        delay = self.options.reconnect_min_s
        while True:
            started = time.monotonic()
            try:
                reason = await self._session()
            except whip.WhipError as exc:
                reason = str(exc)
                if exc.status is None:
                    self.link.failed(reason)
            except ConnectionError as exc:
                reason = f"connection failed: {exc}"
            finally:
                self.publishing = False
            if time.monotonic() - started > 60:
                delay = self.options.reconnect_min_s
            wait = delay * random.uniform(0.5, 1.5)
            log.info("stream: %s; publishing again in %.1f s", reason, wait)
            await self.link.pause(wait)
            delay = min(delay * 2, self.options.reconnect_max_s)

    async def _session(self) -> str:
        video, audio = self.video, self.audio
        label = None
        if video is not None:
            # A picture to start from: the center's viewers begin at a keyframe.
            await video.ready.wait()
            label = _label(video.health.profile_level_id)
        pc = RTCPeerConnection(rtc.configuration(self.options.ice_servers))
        connected, ended = asyncio.Event(), asyncio.Event()

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState == "connected":
                connected.set()
            elif pc.connectionState in ("failed", "closed"):
                ended.set()

        track: PacketTrack | None = None
        sound: AudioTrack | None = None

        def feed(unit: AccessUnit, now: float) -> None:
            assert track is not None
            track.push(unit, now)

        session: whip.WhipSession | None = None
        try:
            if video is not None and label is not None:
                track = PacketTrack()
                transceiver = pc.addTransceiver(track, direction="sendonly")
                # The source's own profile: the center answers it and offers it on to viewers.
                transceiver.setCodecPreferences([rtc.h264_capability(label)])
                track.prime(video.listen(feed), time.monotonic())
            if audio is not None:
                sound = audio.track()
                pc.addTransceiver(sound, direction="sendonly").setCodecPreferences(
                    [rtc.opus_capability()]
                )
            session = await whip.publish(pc, self.options.whip_url, self.token())
            self.link.ok()
            self.sessions += 1
            await self._connected(pc, connected, ended)
            self._pc, self._sent = pc, None
            self.publishing = True
            log.info("stream: publishing to the center (%s)", label or "audio only")
            return await self._watch(pc, ended, label)
        finally:
            self._pc = None
            if video is not None:
                video.unlisten(feed)
            if track is not None:
                track.stop()
            if audio is not None and sound is not None:
                audio.release(sound)
            if session is not None:
                await session.delete()
            await pc.close()

    async def _connected(
        self, pc: RTCPeerConnection, connected: asyncio.Event, ended: asyncio.Event
    ) -> None:
        waits = [asyncio.ensure_future(connected.wait()), asyncio.ensure_future(ended.wait())]
        try:
            await asyncio.wait(
                waits,
                timeout=self.options.connect_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for w in waits:
                w.cancel()
        if not connected.is_set() or ended.is_set():
            raise ConnectionError(f"WebRTC to the center: {pc.connectionState}")

    async def _watch(self, pc: RTCPeerConnection, ended: asyncio.Event, label: str | None) -> str:
        """Until the session dies: ICE fails, the center stops reporting, or the source comes
        back with another profile (a new negotiation)."""
        since = time.time()
        restored = self.link.restored
        while True:
            waits = [asyncio.ensure_future(ended.wait()), asyncio.ensure_future(restored.wait())]
            try:
                await asyncio.wait(waits, timeout=CHECK_S, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            if ended.is_set():
                return f"the connection {pc.connectionState}"
            silent = time.time() - max(since, await _last_report(pc))
            if restored.is_set():
                restored = self.link.restored
                if silent > RESTORED_STALE_S:
                    return "the center is back and this session is not"
            if silent > self.options.stall_s:
                return f"no report from the center for {self.options.stall_s:.0f} s"
            if self.video is not None and self.video.health.online:
                current = _label(self.video.health.profile_level_id)
                if current != label:
                    return f"the video profile changed to {current}"

    async def figures(self) -> LinkFigures | None:
        """RTT and loss as the center reports them, and the bitrate sent since last asked."""
        pc = self._pc
        if pc is None or not self.publishing:
            return None
        stats = list((await pc.getStats()).values())
        octets = sum(int(s.bytesSent) for s in stats if s.type == "outbound-rtp")
        remote = [s for s in stats if s.type == "remote-inbound-rtp"]
        # The video's report where there is one: it carries most of the packets.
        report = next((s for s in remote if s.kind == "video"), remote[0] if remote else None)
        rtt = loss = None
        if report is not None:
            if report.roundTripTime is not None:
                rtt = float(report.roundTripTime) * 1000
            # RTCP's fraction lost is in 256ths (RFC 3550 6.4.1).
            loss = float(report.fractionLost) * 100 / 256
        now = time.monotonic()
        bitrate = None
        if self._sent is not None and now > self._sent[0]:
            bitrate = (octets - self._sent[1]) * 8 / 1000 / (now - self._sent[0])
        self._sent = (now, octets)
        return LinkFigures(
            rtt_ms=None if rtt is None else round(rtt, 1),
            loss_pct=None if loss is None else round(loss, 2),
            bitrate_kbps=None if bitrate is None else round(bitrate, 1),
        )


async def _last_report(pc: RTCPeerConnection) -> float:
    """Wall time of the newest RTCP receiver report from the center (0 if none came yet)."""
    newest = 0.0
    for s in (await pc.getStats()).values():
        if s.type == "remote-inbound-rtp":
            at: datetime = s.timestamp
            newest = max(newest, at.replace(tzinfo=at.tzinfo or UTC).timestamp())
    return newest


def _label(plid: str | None) -> str:
    try:
        return PROFILE_LEVEL_IDS[profile_of(plid or "42e01f")]
    except ValueError:
        return PROFILE_LEVEL_IDS[Profile.CONSTRAINED_BASELINE]
