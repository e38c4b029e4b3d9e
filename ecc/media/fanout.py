"""Fan-out of one source's RTP frames to many viewers, packetized once.

A source's frames arrive packetized (`RtpFrame`: payloads shared by every viewer). Per viewer
there is only what must differ between viewers: a 12-byte RTP header (its SSRC, its sequence
numbers, its timestamps), SRTP and the socket send. That is the work a C relay such as Janus
does per viewer too; aiortc's own sender would packetize the frame again for every viewer and
build each packet through its generic RtpPacket serializer.

Each viewer has a bounded queue: a viewer that falls behind drops everything queued and then
every frame until the next keyframe, so it resumes with a picture it can decode, never stalls
the others and never grows memory.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
)

from ecc.media import rtc
from ecc.media.frames import RtpFrame

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHII")
_NTP_EPOCH = 2208988800  # seconds from 1900 (NTP) to 1970 (Unix)
HISTORY = 512  # packets kept per viewer to answer NACKs: about 2 s at 2 Mbit/s
# Pause after each cached frame of a GOP sent to a new viewer: a second of 2 Mbit/s video sent
# at once is more than a receiver's default UDP buffer (208 KiB on Linux) holds. Paced, the
# keyframe still leaves at once and the GOP within about 0.1 s.
BURST_GAP_S = 0.003


def ntp_now() -> int:
    return int((time.time() + _NTP_EPOCH) * (1 << 32))


def mid_extension(ext_id: int, mid: str) -> bytes:
    """A one-byte RTP header extension block (RFC 8285) carrying the sdes:mid, or b"" if not
    negotiated. Constant per viewer, so it is built once."""
    if not ext_id or not mid:
        return b""
    value = mid.encode()
    body = bytes([(ext_id << 4) | (len(value) - 1)]) + value
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


class GopCache:
    """The frames since the newest keyframe: a new viewer starts from them at once instead of
    waiting up to a GOP for the next keyframe.

    Bounded by bytes: a source whose GOP outgrows the cap (a 10 s GOP at a high bitrate) keeps
    only the newest keyframe's arrival and makes new viewers wait, rather than hold megabytes.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._frames: list[RtpFrame] = []
        self._bytes = 0

    def push(self, frame: RtpFrame) -> None:
        if frame.keyframe:
            self._frames = [frame]
            self._bytes = frame.size
        elif self._frames:
            self._bytes += frame.size
            if self._bytes > self.max_bytes:
                self.clear()
            else:
                self._frames.append(frame)

    def clear(self) -> None:
        self._frames = []
        self._bytes = 0

    def frames(self) -> list[RtpFrame]:
        return list(self._frames)

    @property
    def bytes(self) -> int:
        return self._bytes


@dataclass
class OutboundStats:
    frames: int = 0
    packets: int = 0
    octets: int = 0
    dropped: int = 0
    """Frames not sent: the queue was full, or they came while waiting for a keyframe."""
    nacks: int = 0
    retransmitted: int = 0
    keyframe_requests: int = 0


class Outbound:
    """One viewer's RTP stream of one kind (video or audio), written through an aiortc sender.

    The sender is negotiated normally (its SSRC, payload type and header extensions are in the
    SDP answer) but never sends by itself: its track stays silent and ECC writes the packets.
    """

    def __init__(
        self,
        sender: RTCRtpSender,
        payload_type: int,
        extension: bytes,
        queue_frames: int,
        video: bool,
        on_keyframe_request: Callable[[], None] | None = None,
    ) -> None:
        self.sender = sender
        self.ssrc = rtc.sender_ssrc(sender)
        self.payload_type = payload_type
        self.extension = extension
        self.video = video
        self.queue_frames = queue_frames
        self.stats = OutboundStats()
        self.on_drop: Callable[[int], None] | None = None
        self._on_keyframe_request = on_keyframe_request
        self._queue: deque[RtpFrame] = deque()
        self._wake = asyncio.Event()
        self._waiting_keyframe = video
        # Sequence numbers start in the lower half of the range: SRTP's rollover counter must
        # not see a wrap right at the start (as aiortc and libwebrtc do).
        self._seq = random.randrange(0, 1 << 15)
        self._ts_offset: int | None = None
        self._last_ts = 0
        self._history: list[tuple[int, int, int, bytes] | None] = [None] * HISTORY
        self._burst = 0
        self._first_byte = 0x90 if extension else 0x80

    # -- called by the source, on the event loop ----------------------------------------------

    def prime(self, frames: list[RtpFrame]) -> None:
        """Queue a GOP cache: the keyframe and the frames after it, squeezed in time.

        Their real spacing would put the newest frame a GOP ahead of the browser's clock and
        hold the viewer that far behind live; one tick apart, the browser decodes them at once
        and shows the newest, and later frames keep their real spacing from there.
        """
        if not frames:
            return
        base = random.randrange(0, 1 << 32)
        newest = frames[-1].timestamp
        self._ts_offset = (base + len(frames) - 1 - newest) & 0xFFFFFFFF
        for i, frame in enumerate(frames):
            squeezed = (base + i - self._ts_offset) & 0xFFFFFFFF
            self._queue.append(
                RtpFrame(frame.payloads, squeezed, frame.keyframe, frame.size, frame.arrived)
            )
        self._burst = len(frames)
        self._waiting_keyframe = False
        self._wake.set()

    def offer(self, frame: RtpFrame) -> None:
        """Queue a live frame, or drop it (see the module doc)."""
        if self._waiting_keyframe:
            if not frame.keyframe:
                self._drop(1)
                return
            self._waiting_keyframe = False
        if len(self._queue) >= self.queue_frames:
            dropped = len(self._queue)
            self._queue.clear()
            if self.video and not frame.keyframe:
                self._waiting_keyframe = True
                dropped += 1
                self._drop(dropped)
                return
            self._drop(dropped)
        self._queue.append(frame)
        self._wake.set()

    def restart(self) -> None:
        """The source's picture chain broke (its publisher changed): wait for a keyframe."""
        self._drop(len(self._queue))
        self._queue.clear()
        self._waiting_keyframe = self.video

    def _drop(self, count: int) -> None:
        if count:
            self.stats.dropped += count
            if self.on_drop is not None:
                self.on_drop(count)

    # -- the viewer's task --------------------------------------------------------------------

    async def run(self) -> None:
        """Send queued frames until the transport closes (returns) or the task is cancelled."""
        queue, wake = self._queue, self._wake
        try:
            while True:
                while not queue:
                    wake.clear()
                    await wake.wait()
                await self._send(queue.popleft())
                if self._burst:
                    self._burst -= 1
                    await asyncio.sleep(BURST_GAP_S)
        except ConnectionError:
            return

    async def _send(self, frame: RtpFrame) -> None:
        if self._ts_offset is None:
            self._ts_offset = (random.randrange(0, 1 << 32) - frame.timestamp) & 0xFFFFFFFF
        ts = (frame.timestamp + self._ts_offset) & 0xFFFFFFFF
        pack = _HEADER.pack
        first, pt, ssrc, ext = self._first_byte, self.payload_type, self.ssrc, self.extension
        sender, history = self.sender, self._history
        payloads = frame.payloads
        last = len(payloads) - 1 if self.video else -1
        seq = self._seq
        octets = 0
        rtc.claim_rtcp(sender, self)
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == last else 0
            await rtc.send_rtp(sender, pack(first, pt | marker, seq, ts, ssrc) + ext + payload)
            history[seq % HISTORY] = (seq, ts, marker, payload)
            octets += len(payload)
            seq = (seq + 1) & 0xFFFF
        self._seq = seq
        self._last_ts = ts
        stats = self.stats
        stats.frames += 1
        stats.packets += len(payloads)
        stats.octets += octets
        rtc.report_sent(
            sender, ntp_now(), ts, stats.packets & 0xFFFFFFFF, stats.octets & 0xFFFFFFFF
        )

    # -- RTCP from the viewer, routed here by rtc.claim_rtcp ----------------------------------

    async def _handle_rtcp_packet(self, packet: object) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            self.stats.nacks += 1
            for seq in packet.lost:
                kept = self._history[seq % HISTORY]
                if kept is None or kept[0] != seq:
                    continue
                _, ts, marker, payload = kept
                header = _HEADER.pack(
                    self._first_byte, self.payload_type | marker, seq, ts, self.ssrc
                )
                try:
                    await rtc.send_rtp(self.sender, header + self.extension + payload)
                except ConnectionError:
                    return
                self.stats.retransmitted += 1
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            # A relay cannot make a keyframe; the publisher can, if it encodes (a vehicle).
            self.stats.keyframe_requests += 1
            if self._on_keyframe_request is not None:
                self._on_keyframe_request()


class Fanout:
    """The viewers of one source's video or audio: every frame is offered to each of them."""

    def __init__(self, video: bool, gop_max_bytes: int) -> None:
        self.video = video
        self.gop = GopCache(gop_max_bytes) if video else None
        self.viewers: set[Outbound] = set()
        self._offset = 0
        self._last_out: int | None = None
        self._last_wall = 0.0
        self._epoch_pending = False
        self.frames_in = 0
        self.octets_in = 0
        self.last_keyframe: float | None = None
        self.last_frame = 0.0

    def attach(self, outbound: Outbound) -> None:
        if self.gop is not None:
            outbound.prime(self.gop.frames())
        self.viewers.add(outbound)

    def detach(self, outbound: Outbound) -> None:
        self.viewers.discard(outbound)

    def new_epoch(self) -> None:
        """A new publisher took over: its timestamps start anew and its pictures do not refer
        to the old one's. Viewers keep their RTP streams and wait for its first keyframe."""
        self._epoch_pending = True
        if self.gop is not None:
            self.gop.clear()
        for outbound in self.viewers:
            outbound.restart()

    def push(self, frame: RtpFrame, clock_rate: int) -> None:
        """Offer one frame from the publisher to every viewer (on the event loop)."""
        now = time.monotonic()
        if self._epoch_pending or self._last_out is None:
            # Continue the source's timeline where it stopped, advanced by the wall time since.
            gap = 1 if self._last_out is None else max(1, int((now - self._last_wall) * clock_rate))
            self._offset = ((self._last_out or 0) + gap - frame.timestamp) & 0xFFFFFFFF
            self._epoch_pending = False
        ts = (frame.timestamp + self._offset) & 0xFFFFFFFF
        self._last_out = ts
        self._last_wall = now
        out = RtpFrame(frame.payloads, ts, frame.keyframe, frame.size, frame.arrived)
        self.frames_in += 1
        self.octets_in += frame.size
        self.last_frame = now
        if frame.keyframe:
            self.last_keyframe = now
        if self.gop is not None:
            self.gop.push(out)
        for outbound in self.viewers:
            outbound.offer(out)
