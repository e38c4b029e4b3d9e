"""The per-viewer RTP path: headers written per viewer on shared payloads, the GOP cache, and
the bounded queue that drops a lagging viewer to the next keyframe."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from aiortc import RTCRtpSender
from aiortc.rtp import RtpPacket

from ecc.media.fanout import Fanout, GopCache, Outbound, mid_extension
from ecc.media.frames import VIDEO_CLOCK, RtpFrame


@dataclass
class FakeRouter:
    senders: dict[int, Any] = field(default_factory=dict)


@dataclass
class FakeTransport:
    """What ECC uses of aiortc's DTLS transport: send RTP, route RTCP."""

    sent: list[bytes] = field(default_factory=list)
    _rtp_router: FakeRouter = field(default_factory=FakeRouter)
    state: str = "connected"

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)


class FakeSender:
    def __init__(self) -> None:
        self._ssrc = 0x1234ABCD
        self.transport = FakeTransport()


def frame(n: int, key: bool, packets: int = 3) -> RtpFrame:
    payloads = [bytes([0x7C, n, i]) for i in range(packets)]
    return RtpFrame(payloads, n * 3000, key, size=3 * packets)


def outbound(sender: FakeSender, queue_frames: int = 4) -> Outbound:
    return Outbound(
        cast(RTCRtpSender, sender),
        payload_type=102,
        extension=mid_extension(4, "0"),
        queue_frames=queue_frames,
        video=True,
    )


def parse(data: list[bytes]) -> list[RtpPacket]:
    return [RtpPacket.parse(d) for d in data]


async def drain(out: Outbound, sender: FakeSender, expected: int) -> list[RtpPacket]:
    task = asyncio.create_task(out.run())
    try:
        # A GOP is paced (a few ms a frame): give it the time, no more.
        deadline = asyncio.get_running_loop().time() + 2.0
        while len(sender.transport.sent) < expected:
            assert asyncio.get_running_loop().time() < deadline, sender.transport.sent
            await asyncio.sleep(0.001)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return parse(sender.transport.sent)


async def test_each_viewer_writes_its_own_headers_on_shared_payloads() -> None:
    fan = Fanout(video=True, gop_max_bytes=1 << 20)
    a, b = FakeSender(), FakeSender()
    b._ssrc = 0x55
    out_a, out_b = outbound(a), outbound(b)
    fan.attach(out_a)
    fan.attach(out_b)
    for n in range(3):
        fan.push(frame(n, key=n == 0), VIDEO_CLOCK)
    pa, pb = await drain(out_a, a, 9), await drain(out_b, b, 9)
    assert [p.payload for p in pa] == [p.payload for p in pb]
    assert {p.ssrc for p in pa} == {0x1234ABCD} and {p.ssrc for p in pb} == {0x55}
    seqs = [p.sequence_number for p in pa]
    assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(9)]
    # The marker bit ends each frame (RFC 6184 5.1); all packets of a frame share a timestamp.
    assert [p.marker for p in pa] == [0, 0, 1] * 3
    stamps = sorted({p.timestamp for p in pa})
    assert [(t - stamps[0]) & 0xFFFFFFFF for t in stamps] == [0, 3000, 6000]
    assert a.transport._rtp_router.senders[0x1234ABCD] is out_a  # RTCP feedback comes to ECC


async def test_a_new_viewer_starts_from_the_gop_cache_squeezed_in_time() -> None:
    fan = Fanout(video=True, gop_max_bytes=1 << 20)
    for n in range(5):
        fan.push(frame(n, key=n in (0, 2), packets=1), VIDEO_CLOCK)
    assert fan.gop is not None and len(fan.gop.frames()) == 3  # frames 2, 3, 4
    sender = FakeSender()
    out = outbound(sender)
    fan.attach(out)
    fan.push(frame(5, key=False, packets=1), VIDEO_CLOCK)
    packets = await drain(out, sender, 4)
    assert [p.payload[1] for p in packets] == [2, 3, 4, 5]
    t = [p.timestamp for p in packets]
    # Cached frames one tick apart; the live one keeps its real spacing from the newest.
    assert [(x - t[0]) & 0xFFFFFFFF for x in t] == [0, 1, 2, 3002]


async def test_a_lagging_viewer_drops_to_the_next_keyframe() -> None:
    sender = FakeSender()
    out = outbound(sender, queue_frames=4)
    fan = Fanout(video=True, gop_max_bytes=1 << 20)
    fan.attach(out)
    for n in range(10):  # its task never ran: the queue overflows
        fan.push(frame(n, key=n in (0, 8), packets=1), VIDEO_CLOCK)
    assert out.stats.dropped == 8  # four queued and frames 4..7 while waiting for a keyframe
    packets = await drain(out, sender, 2)
    assert [p.payload[1] for p in packets] == [8, 9]


def test_the_gop_cache_is_bounded() -> None:
    gop = GopCache(max_bytes=10)
    gop.push(frame(0, key=True, packets=1))
    gop.push(frame(1, key=False, packets=1))
    assert len(gop.frames()) == 2
    for n in range(2, 6):
        gop.push(frame(n, key=False, packets=1))
    assert gop.frames() == []  # over the cap: new viewers wait for the next keyframe
    gop.push(frame(6, key=True, packets=1))
    assert len(gop.frames()) == 1


def test_mid_extension_is_rfc_8285_one_byte() -> None:
    ext = mid_extension(4, "0")
    assert ext[:2] == b"\xbe\xde" and len(ext) % 4 == 0
    assert ext[4] == (4 << 4) | 0 and ext[5:6] == b"0"
    assert mid_extension(0, "0") == b""
