"""Every place where ECC reaches past aiortc's public API, in one module.

aiortc is built to decode what it receives and encode what it sends. ECC forwards encoded media,
so it needs seams that aiortc (1.16) has no public hook for:

1. H.264 Main and High profiles in aiortc's codec table (it offers only Constrained Baseline),
   so a Main or High camera is negotiated as what it is (`register_h264_profiles`).
2. The decoder seam: aiortc's receiver hands each complete frame to `get_decoder(codec)` in a
   worker thread. `install_decoder_seam` makes that call return ECC's forwarders for the codecs
   of a hub publisher, which packetize the frame for RTP instead of decoding it.
3. The receive jitter buffer: aiortc's video buffer releases a frame only when the first packet
   of the next one arrives (a frame interval of added latency) and holds four audio packets
   before releasing one. `replace_jitter_buffers` completes a frame on its RTP marker bit and
   releases audio at once.
4. The sender side: viewers get RTP packets that the hub writes itself (one header per packet on
   payloads shared by every viewer) through the sender's DTLS transport, with the viewer's RTCP
   feedback (NACK, PLI, reports) routed to ECC and the sender reports (RTCP SR) kept true; a
   viewer's PLI is passed to the publisher as the receiver's own PLI.
5. ICE host candidates: aioice leaves 127.0.0.1 out; `use_host_addresses` sets the addresses
   gathered, so the center works on a closed network and on loopback.
6. The end of the DTLS handshake: `flush_dtls` sends the final flight aiortc leaves buffered
   (see there), before the first media packet.

`check_seams()` verifies at start-up that these names still exist, so an aiortc upgrade that
moves them fails loudly instead of silently decoding or sending nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import aioice.ice
import aiortc.codecs
import aiortc.rtcrtpreceiver
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtcpFeedback, RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_gt

from ecc.media.h264 import PROFILE_LEVEL_IDS

log = logging.getLogger(__name__)

_lock = threading.Lock()
_created = {"decoders": 0}
_FORWARDER = "_ecc_forwarder"
_SR_FIELDS = ("ntp_timestamp", "rtp_timestamp", "packet_count", "octet_count")


class Forwarder(Protocol):
    """What the receiver's decoder thread calls instead of a decoder: frame in, frames out."""

    def decode(self, encoded_frame: JitterFrame) -> list[Any]: ...


# -- 1. codecs ------------------------------------------------------------------------------


def register_h264_profiles() -> None:
    """Add every profile of PROFILE_LEVEL_IDS to aiortc's codec table, once per process.

    aiortc matches H.264 by profile (not level) when it answers, and codec preferences may only
    name codecs of this table; with the entries present, a transceiver can offer or answer
    exactly the profile a source sends.
    """
    with _lock:
        video = aiortc.codecs.CODECS["video"]
        known = {str(c.parameters.get("profile-level-id")) for c in video}
        pt = max(c.payloadType or 0 for c in video) + 1
        for plid in PROFILE_LEVEL_IDS.values():
            if plid in known:
                continue
            video.append(
                RTCRtpCodecParameters(
                    mimeType="video/H264",
                    clockRate=90000,
                    payloadType=pt,
                    rtcpFeedback=[
                        RTCRtcpFeedback(type="nack"),
                        RTCRtcpFeedback(type="nack", parameter="pli"),
                        RTCRtcpFeedback(type="goog-remb"),
                    ],
                    parameters={
                        "level-asymmetry-allowed": "1",
                        "packetization-mode": "1",
                        "profile-level-id": plid,
                    },
                )
            )
            video.append(
                RTCRtpCodecParameters(
                    mimeType="video/rtx",
                    clockRate=90000,
                    payloadType=pt + 1,
                    parameters={"apt": pt},
                )
            )
            pt += 2


def h264_capability(plid: str) -> Any:
    """The RTCRtpCodecCapability of one registered H.264 profile-level-id."""
    for codec in RTCRtpSender.getCapabilities("video").codecs:
        if codec.mimeType.lower() == "video/h264" and (
            codec.parameters.get("profile-level-id") == plid
            and codec.parameters.get("packetization-mode") == "1"
        ):
            return codec
    raise LookupError(f"H.264 {plid} is not registered (call register_h264_profiles first)")


def opus_capability() -> Any:
    for codec in RTCRtpSender.getCapabilities("audio").codecs:
        if codec.mimeType.lower() == "audio/opus":
            return codec
    raise LookupError("aiortc has no Opus codec")


# -- 2. decoder seam ------------------------------------------------------------------------


def install_decoder_seam() -> None:
    """Route aiortc's receivers to ECC forwarders for codecs marked with `forward_codecs`.

    Receivers whose codecs are not marked still get aiortc's decoders, so a process may hold a
    hub and ordinary peer connections at once.
    """
    with _lock:
        current = getattr(aiortc.rtcrtpreceiver, "get_decoder")  # noqa: B009 - not exported
        if getattr(current, "_ecc_seam", False):
            return
        original: Callable[[RTCRtpCodecParameters], Any] = current

        def get_decoder(codec: RTCRtpCodecParameters) -> Any:
            factory: Callable[[], Forwarder] | None = getattr(codec, _FORWARDER, None)
            if factory is not None:
                return factory()
            with _lock:
                _created["decoders"] += 1
            return original(codec)

        get_decoder._ecc_seam = True  # type: ignore[attr-defined]
        setattr(aiortc.rtcrtpreceiver, "get_decoder", get_decoder)  # noqa: B010


def decoders_created() -> int:
    """Real decoders aiortc made in this process since the seam was installed (0 in a hub: its
    publishers' frames are never decoded)."""
    return _created["decoders"]


def forward_codecs(transceiver: RTCRtpTransceiver, factory: Callable[[], Forwarder]) -> None:
    """Mark the negotiated codecs of a receiving transceiver: its frames go to `factory()`'s
    forwarder instead of a decoder. Call after setRemoteDescription, before the connection
    starts (the receiver takes the codec objects when DTLS is up)."""
    for codec in transceiver._codecs:
        setattr(codec, _FORWARDER, factory)


async def request_keyframe_task(receiver: RTCRtpReceiver) -> None:
    """Ask the publisher for a keyframe (RTCP PLI, RFC 4585 6.3.1) on behalf of a viewer; a
    publisher that encodes (a vehicle's browser) sends one, a camera passed through cannot."""
    sources = receiver.getSynchronizationSources()
    if sources:
        await receiver._send_rtcp_pli(sources[0].source)


# -- 3. jitter buffers ----------------------------------------------------------------------


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, but a frame whose packets are all in and whose last packet
    carries the marker bit (RFC 6184 5.1: last packet of an access unit) is released at once,
    instead of when the next frame's first packet arrives."""

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli, frame = super().add(packet)
        if frame is None and packet.marker:
            frame = self._complete()
        return pli, frame

    def _complete(self) -> JitterFrame | None:
        if self._origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None or (packets and packet.timestamp != packets[0].timestamp):
                return None
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return JitterFrame(
                    data=b"".join(p._data for p in packets),  # type: ignore[attr-defined]
                    timestamp=packets[0].timestamp,
                )
        return None


class PassJitterBuffer(JitterBuffer):
    """For Opus: every packet is a whole frame; release it at once, drop it if it is late."""

    def __init__(self) -> None:
        super().__init__(capacity=16)
        self._last: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if self._last is not None and not uint16_gt(packet.sequence_number, self._last):
            return False, None
        self._last = packet.sequence_number
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]


def replace_jitter_buffers(receiver: RTCRtpReceiver, kind: str) -> None:
    buffer: JitterBuffer = (
        MarkerJitterBuffer(capacity=512, is_video=True) if kind == "video" else PassJitterBuffer()
    )
    receiver._RTCRtpReceiver__jitter_buffer = buffer  # type: ignore[attr-defined]


# -- 4. sender side -------------------------------------------------------------------------


class RtcpRecipient(Protocol):
    async def _handle_rtcp_packet(self, packet: Any) -> None: ...


def sender_ssrc(sender: RTCRtpSender) -> int:
    return int(sender._ssrc)


def sender_ready(sender: RTCRtpSender) -> bool:
    """The sender's DTLS transport is up, so SRTP keys exist."""
    return bool(sender.transport.state == "connected")


def claim_rtcp(sender: RTCRtpSender, recipient: RtcpRecipient) -> None:
    """Route the viewer's RTCP feedback for the sender's SSRC (NACK, PLI, receiver reports) to
    `recipient`; aiortc's sender would ignore it, having sent nothing itself."""
    senders: dict[int, Any] = sender.transport._rtp_router.senders
    senders[sender._ssrc] = recipient


async def send_rtp(sender: RTCRtpSender, packet: bytes) -> None:
    """SRTP-protect and send one RTP packet on the sender's transport (ConnectionError if down)."""
    await sender.transport._send_rtp(packet)


async def flush_dtls(pc: RTCPeerConnection) -> None:
    """Send what the DTLS handshake left unsent. With DTLS 1.3 the client's Finished is its
    last message; aiortc leaves it in OpenSSL's buffer until it next receives a datagram, so
    the far end's handshake (and its first picture) would wait for a retransmission timer,
    and media sent meanwhile arrives before the keys."""
    for transceiver in pc.getTransceivers():
        transport = transceiver.receiver.transport
        if transport.state == "connected":
            await transport._write_ssl()


def has_encoder(sender: RTCRtpSender) -> bool:
    """Whether aiortc made an encoder (or packetizer) for this sender: never for a viewer's."""
    return getattr(sender, "_RTCRtpSender__encoder", None) is not None


def report_sent(
    sender: RTCRtpSender, ntp: int, rtp_timestamp: int, packets: int, octets: int
) -> None:
    """Feed aiortc's RTCP sender report with what ECC sent, so the viewer's RTCP SR maps RTP
    time to wall time truly (used for audio/video sync and round-trip figures)."""
    for name, value in zip(_SR_FIELDS, (ntp, rtp_timestamp, packets, octets), strict=True):
        setattr(sender, f"_RTCRtpSender__{name}", value)


# -- 5. ICE ---------------------------------------------------------------------------------


def use_host_addresses(addresses: Sequence[str] | None, loopback: bool = True) -> None:
    """Set the host addresses that ICE gathers for every peer connection of this process.

    `addresses` None keeps aioice's own list (every non-loopback address); `loopback` adds
    127.0.0.1, which aioice leaves out but which a browser on the same machine (an operator's
    desk running `ecc run`) and the test suite use.
    """
    with _lock:
        original: Callable[..., list[str]] = getattr(
            aioice.ice.get_host_addresses, "_ecc_original", aioice.ice.get_host_addresses
        )
        chosen = None if addresses is None else list(addresses)

        def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            found = original(use_ipv4, use_ipv6) if chosen is None else list(chosen)
            if loopback and use_ipv4 and "127.0.0.1" not in found:
                found.insert(0, "127.0.0.1")
            return [a for a in found if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

        get_host_addresses._ecc_original = original  # type: ignore[attr-defined]
        aioice.ice.get_host_addresses = get_host_addresses


def configuration(ice_servers: Sequence[str] = ()) -> RTCConfiguration:
    """A peer connection configuration with no STUN server unless one is configured: aiortc's
    default (a public STUN server) stalls candidate gathering on a closed network. One
    transport for audio and video (max-bundle), as WHIP and WHEP require (RFC 9725 4.2)."""
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=url) for url in ice_servers],
        bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
    )


# -- start-up check -------------------------------------------------------------------------


async def check_seams() -> None:
    """Raise RuntimeError if this aiortc lacks a name the seams above use."""
    problems: list[str] = []
    if not callable(getattr(aiortc.rtcrtpreceiver, "get_decoder", None)):
        problems.append("aiortc.rtcrtpreceiver.get_decoder")
    if not callable(getattr(aioice.ice, "get_host_addresses", None)):
        problems.append("aioice.ice.get_host_addresses")
    pc = RTCPeerConnection(configuration())
    try:
        transceiver = pc.addTransceiver("video", direction="sendonly")
        sender, receiver = transceiver.sender, transceiver.receiver
        for name in (*_SR_FIELDS, "encoder"):
            if not hasattr(sender, f"_RTCRtpSender__{name}"):
                problems.append(f"RTCRtpSender.__{name}")
        for name in ("_ssrc", "transport"):
            if not hasattr(sender, name):
                problems.append(f"RTCRtpSender.{name}")
        transport = sender.transport
        for name in ("_send_rtp", "_rtp_router", "_write_ssl"):
            if not hasattr(transport, name):
                problems.append(f"RTCDtlsTransport.{name}")
        if not isinstance(getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None), JitterBuffer):
            problems.append("RTCRtpReceiver.__jitter_buffer")
        if not hasattr(receiver, "_send_rtcp_pli"):
            problems.append("RTCRtpReceiver._send_rtcp_pli")
        if not hasattr(transceiver, "_codecs"):
            problems.append("RTCRtpTransceiver._codecs")
    finally:
        await pc.close()
    if problems:
        raise RuntimeError("this aiortc lacks what ECC's media path uses: " + ", ".join(problems))
