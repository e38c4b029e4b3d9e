"""A camera's sound as Opus, the one audio codec every browser takes over WebRTC.

Opus from the source passes through untouched. Anything else (AAC, G.711 A-law and u-law, the
usual sound of IP cameras) is decoded and encoded to Opus once per source, here, in the
camera's reader thread, and only while someone listens (ecc.media.source): sound is a few
kbit/s and costs little next to the picture, which is never decoded.

`OpusTrack` hands the packets to aiortc's sender, which only packetizes them (its Opus encoder's
`pack()`), so the center's hub receives Opus it forwards as it came.
"""

from __future__ import annotations

import fractions
import logging
from collections.abc import Iterator
from typing import Any

import av
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.packet import Packet

from ecc.media.track import QueuedTrack

log = logging.getLogger(__name__)

OPUS_RATE = 48_000
FRAME_SAMPLES = 960
"""20 ms at 48 kHz: the frame size WebRTC endpoints expect."""
TIME_BASE = fractions.Fraction(1, OPUS_RATE)
BITRATE = 32_000


class OpusOut:
    """One source's audio packets in, Opus packets out: (payload, samples at 48 kHz)."""

    def __init__(self, stream: AudioStream, label: str = "") -> None:
        self.stream = stream
        self.codec = stream.codec_context.name
        self.passthrough = self.codec == "opus"
        self.decode_errors = 0
        if self.passthrough:
            return
        self._resampler = AudioResampler(
            format="s16", layout="stereo", rate=OPUS_RATE, frame_size=FRAME_SAMPLES
        )
        encoder = av.CodecContext.create("libopus", "w")
        assert isinstance(encoder, av.AudioCodecContext)
        encoder.sample_rate = OPUS_RATE
        encoder.layout = "stereo"
        encoder.format = "s16"
        encoder.bit_rate = BITRATE
        encoder.time_base = TIME_BASE
        encoder.options = {"application": "audio"}
        self._encoder = encoder
        log.info("%s: %s sound is encoded to Opus once, here", label, self.codec)

    def packets(self, packet: Packet[Any]) -> Iterator[tuple[bytes, int]]:
        if self.passthrough:
            samples = FRAME_SAMPLES
            if packet.duration and packet.time_base:
                samples = int(packet.duration * packet.time_base * OPUS_RATE) or FRAME_SAMPLES
            yield bytes(packet), samples
            return
        try:
            frames = self.stream.codec_context.decode(packet)
        except av.FFmpegError as exc:
            self.decode_errors += 1
            log.debug("undecodable %s packet: %s", self.codec, exc)
            return
        for frame in frames:
            for chunk in self._resampler.resample(frame):
                for out in self._encoder.encode(chunk):
                    yield bytes(out), FRAME_SAMPLES


class OpusTrack(QueuedTrack[tuple[bytes, int]]):
    """A bounded queue of Opus packets in front of an aiortc sender; full, the oldest go (a
    listener hears the present, not a growing delay)."""

    kind = "audio"

    def __init__(self, queue_packets: int = 25) -> None:
        super().__init__(maxlen=queue_packets)
        self.sent = 0
        self.dropped = 0
        self._pts = 0

    def push(self, payload: bytes, samples: int) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._put((payload, samples))

    async def recv(self) -> Packet[Any]:
        payload, samples = await self._next()
        packet = Packet(payload)
        packet.pts = self._pts
        packet.time_base = TIME_BASE
        self._pts += samples
        self.sent += 1
        return packet
