"""A WHEP viewer: a browser watching one source.

The viewer's answer names the H.264 profile the source really sends when the browser offers it
(see ecc.media.h264.answer_order); its aiortc senders are negotiated but silent, and ECC writes
their RTP from the source's once-packetized frames (ecc.media.fanout).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.frame import Frame

from ecc.command_center.mediahub.session import BadOffer, Session, parse_offer
from ecc.command_center.mediahub.source import LiveSource
from ecc.media import rtc
from ecc.media.fanout import Outbound, mid_extension
from ecc.media.h264 import PROFILE_LEVEL_IDS, Profile, answer_order, profile_of

log = logging.getLogger(__name__)

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"


class SilentTrack(MediaStreamTrack):
    """The track of a viewer's sender: it never yields, so aiortc's sender never encodes or
    packetizes anything; it waits here at no cost until the session ends."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._stopped = asyncio.Event()

    async def recv(self) -> Frame:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


def choose_profile(offered: list[str], source: Profile) -> tuple[Profile, bool] | None:
    """The profile label to answer from the browser's offered profile-level-ids, and whether it
    is the source's own profile or a superset of it (False: a last-resort label)."""
    profiles: set[Profile] = set()
    for plid in offered:
        try:
            profiles.add(profile_of(plid))
        except ValueError:
            continue
    exact, fallback = answer_order(source)
    for label in exact:
        if label in profiles:
            return label, True
    for label in fallback:
        if label in profiles:
            return label, False
    return None


class Viewer(Session):
    kind = "whep"

    def __init__(
        self, source: LiveSource, pc: RTCPeerConnection, queue_frames: int, public: bool
    ) -> None:
        super().__init__(source, pc)
        self.public = public
        self.queue_frames = queue_frames
        self.outbounds: list[tuple[Outbound, bool]] = []
        self.label: Profile | None = None
        self.on_drop: Callable[[int], None] | None = None
        self._video: RTCRtpTransceiver | None = None
        self._audio: RTCRtpTransceiver | None = None

    async def negotiate(self, offer: str) -> str:
        description = parse_offer(offer)
        source_profile = self.source.profile
        if source_profile is None:
            source_profile = Profile.CONSTRAINED_BASELINE
        for media in description.media:
            if media.kind == "video" and self._video is None and not self.source.key.audio_only:
                offered = [
                    str(c.parameters.get("profile-level-id", ""))
                    for c in media.rtp.codecs
                    if c.mimeType.lower() == "video/h264"
                    and str(c.parameters.get("packetization-mode", "0")) == "1"
                ]
                chosen = choose_profile(offered, source_profile)
                if chosen is None:
                    raise BadOffer("the browser offers no H.264 profile ECC can send")
                self.label, exact = chosen
                if not exact:
                    log.warning(
                        "%s sends %s; this browser offers no superset of it, so it is labelled "
                        "%s (outside RFC 6184; software decoders play it)",
                        self.source.key,
                        source_profile.name,
                        self.label.name,
                    )
                # Preferences before setRemoteDescription: set after, aiortc would answer with
                # the browser's first codec (VP8) and the H.264 packets would go out under it.
                self._video = self.pc.addTransceiver(SilentTrack("video"), direction="sendonly")
                self._video.setCodecPreferences(
                    [rtc.h264_capability(PROFILE_LEVEL_IDS[self.label])]
                )
            elif media.kind == "audio" and self._audio is None:
                self._audio = self.pc.addTransceiver(SilentTrack("audio"), direction="sendonly")
                self._audio.setCodecPreferences([rtc.opus_capability()])
        if self._video is None and not self.source.key.audio_only:
            raise BadOffer("the offer asks for no video")
        if self._audio is None and self.source.key.audio_only:
            raise BadOffer("the offer asks for no audio")
        try:
            return await self.answer(offer)
        except BadOffer:
            raise
        except Exception as exc:
            raise BadOffer(f"cannot answer the offer: {exc}") from None

    def _outbound(self, transceiver: RTCRtpTransceiver, video: bool) -> Outbound | None:
        codecs = [c for c in transceiver._codecs if c.name.lower() != "rtx"]
        if not codecs or codecs[0].payloadType is None:
            return None
        ext_id = next((e.id for e in transceiver._headerExtensions if e.uri == MID_URI), 0)
        outbound = Outbound(
            transceiver.sender,
            payload_type=codecs[0].payloadType,
            extension=mid_extension(ext_id, transceiver.mid or ""),
            queue_frames=self.queue_frames if video else self.queue_frames * 5,
            video=video,
            on_keyframe_request=self.source.request_keyframe if video else None,
        )
        outbound.on_drop = self.on_drop
        return outbound

    def on_connected(self) -> None:
        for transceiver, video in ((self._video, True), (self._audio, False)):
            if transceiver is None:
                continue
            outbound = self._outbound(transceiver, video)
            if outbound is None:
                continue
            (self.source.video if video else self.source.audio).attach(outbound)
            self.outbounds.append((outbound, video))
            self.spawn(outbound.run(), "video-out" if video else "audio-out")

    async def close(self) -> None:
        for outbound, video in self.outbounds:
            (self.source.video if video else self.source.audio).detach(outbound)
        await super().close()

    @property
    def dropped(self) -> int:
        return sum(o.stats.dropped for o, _ in self.outbounds)

    @property
    def frames_sent(self) -> int:
        return sum(o.stats.frames for o, video in self.outbounds if video)
