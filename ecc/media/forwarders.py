"""What stands in for aiortc's decoders at the decoder seam (see `rtc.install_decoder_seam`).

aiortc's receiver thread hands each complete frame here; instead of pictures, these return the
frame packetized for RTP, once per source, ready for the fan-out. They run in that thread, so
the parsing and packetizing stay off the event loop.
"""

from __future__ import annotations

import time

from aiortc.jitterbuffer import JitterFrame

from ecc.media.frames import RtpFrame
from ecc.media.h264 import ParameterSets, is_keyframe, packetize, split_annexb


class H264Forwarder:
    """Depayloaded Annex-B access unit in, RTP payloads out; SPS/PPS put back before keyframes
    that came without them (a browser publisher sends them in-band, not every camera does)."""

    def __init__(self) -> None:
        self.parameter_sets = ParameterSets()

    def decode(self, encoded_frame: JitterFrame) -> list[RtpFrame]:
        units = self.parameter_sets.complete(split_annexb(encoded_frame.data))
        if not units:
            return []
        return [
            RtpFrame(
                payloads=packetize(units),
                timestamp=encoded_frame.timestamp,
                keyframe=is_keyframe(units),
                size=sum(len(u) for u in units),
                arrived=time.monotonic(),
            )
        ]


class OpusForwarder:
    """An Opus packet is its own RTP payload (RFC 7587): passed on as it came."""

    def decode(self, encoded_frame: JitterFrame) -> list[RtpFrame]:
        data = encoded_frame.data
        if not data:
            return []
        return [RtpFrame([data], encoded_frame.timestamp, True, len(data), time.monotonic())]
