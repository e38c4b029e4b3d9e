"""A WHIP publisher: a camera worker or a vehicle pushing one source into the hub.

Nothing it sends is decoded. aiortc receives and reassembles the RTP as usual (SRTP, NACKs to
the publisher, reordering), then at the decoder seam ECC's forwarders take each frame and
packetize it once for the viewers (see ecc.media.rtc and ecc.media.forwarders).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError

from ecc.command_center.mediahub.session import BadOffer, Session, parse_offer
from ecc.command_center.mediahub.source import LiveSource
from ecc.media import rtc
from ecc.media.forwarders import H264Forwarder, OpusForwarder
from ecc.media.frames import RtpFrame
from ecc.media.h264 import PROFILE_LEVEL_IDS, Profile, profile_of

log = logging.getLogger(__name__)


def h264_labels(media: Any) -> list[str]:
    """The profile-level-ids ECC answers for an offered video m-line, in the offer's order."""
    labels: list[str] = []
    for codec in media.rtp.codecs:
        if codec.mimeType.lower() != "video/h264":
            continue
        if str(codec.parameters.get("packetization-mode", "0")) != "1":
            continue
        try:
            plid = PROFILE_LEVEL_IDS[profile_of(str(codec.parameters["profile-level-id"]))]
        except (KeyError, ValueError):
            continue
        if plid not in labels:
            labels.append(plid)
    if not labels:
        raise BadOffer("the offer has no H.264 (packetization-mode=1) video")
    return labels


class Publisher(Session):
    kind = "whip"

    def __init__(self, source: LiveSource, pc: RTCPeerConnection) -> None:
        super().__init__(source, pc)
        self.profile: Profile | None = None
        self._video: RTCRtpTransceiver | None = None
        self._audio: RTCRtpTransceiver | None = None
        self.frames = 0
        self.video_taps: list[Callable[[RtpFrame], None]] = []
        """Also given each forwarded video frame (the recorder), on the event loop."""

        @pc.on("track")
        def _track(track: Any) -> None:
            self.spawn(self._pump(track), f"{track.kind}-in")

    async def negotiate(self, offer: str) -> str:
        description = parse_offer(offer)
        # Transceivers in the offer's order: with max-bundle, aiortc would stop the shared
        # transport if the first transceiver made were not the offer's first m-line.
        for media in description.media:
            if media.kind == "video" and self._video is None:
                self._video = self.pc.addTransceiver("video", direction="recvonly")
                # H.264 only, in the publisher's order of preference: a frame of any other
                # codec would have to be decoded and encoded again to reach every browser.
                self._video.setCodecPreferences(
                    [rtc.h264_capability(p) for p in h264_labels(media)]
                )
                rtc.replace_jitter_buffers(self._video.receiver, "video")
            elif media.kind == "audio" and self._audio is None:
                self._audio = self.pc.addTransceiver("audio", direction="recvonly")
                self._audio.setCodecPreferences([rtc.opus_capability()])
                rtc.replace_jitter_buffers(self._audio.receiver, "audio")
        try:
            return await self.answer(offer)
        except BadOffer:
            raise
        except Exception as exc:
            raise BadOffer(f"cannot answer the offer: {exc}") from None

    def after_remote_description(self) -> None:
        if self._video is not None:
            if not self._video._codecs:
                raise BadOffer("no common video codec")
            rtc.forward_codecs(self._video, H264Forwarder)
            self.profile = profile_of(
                str(self._video._codecs[0].parameters.get("profile-level-id", "42e01f"))
            )
        if self._audio is not None:
            rtc.forward_codecs(self._audio, OpusForwarder)

    async def _pump(self, track: Any) -> None:
        """Frames of one received track into the source's fan-out, until the track ends."""
        video = track.kind == "video"
        source = self.source
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, RtpFrame):
                    # Only a codec left unmarked could reach a real decoder; never forward it.
                    log.error("%s: a decoded frame reached the hub; dropping it", source.key)
                    continue
                if source.publisher is not self:
                    continue
                if video:
                    self.frames += 1
                    source.on_video(frame)
                    for tap in self.video_taps:
                        tap(frame)
                else:
                    source.on_audio(frame)
        except MediaStreamError:
            return

    def request_keyframe(self) -> None:
        if self._video is not None and self.connected:
            self.spawn(rtc.request_keyframe_task(self._video.receiver), "pli", ends_session=False)
