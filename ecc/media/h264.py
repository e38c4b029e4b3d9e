"""H.264 bitstream facts ECC relies on: NAL units, parameter sets, profiles, RTP payloads.

Annex-B is the byte-stream format (start codes before each NAL unit) that RTSP and MPEG-TS
demuxers give and that RTP depacketizers rebuild; MP4 stores AVCC (length-prefixed units) and
keeps SPS/PPS out of band, in the stream's extradata.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import NamedTuple

START_CODE = b"\x00\x00\x00\x01"
# RTP payload size: leaves room for IP/UDP, RTP, SRTP and a header extension under a 1280-byte
# path MTU (the IPv6 minimum), so nothing is fragmented on a cellular or VPN link.
MAX_PAYLOAD = 1160


class Nal(IntEnum):
    SLICE = 1
    IDR = 5
    SEI = 6
    SPS = 7
    PPS = 8
    AUD = 9
    STAP_A = 24
    FU_A = 28


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream, without start codes (3- or 4-byte)."""
    units: list[bytes] = []
    start = data.find(b"\x00\x00\x01")
    while start != -1:
        begin = start + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        # A 4-byte start code leaves its leading zero at the end of the previous unit; trailing
        # zero bytes are never part of a NAL unit (its RBSP ends in a one bit).
        unit = data[begin : len(data) if nxt == -1 else nxt].rstrip(b"\x00")
        if unit:
            units.append(unit)
        start = nxt
    return units


def join_annexb(units: Iterable[bytes]) -> bytes:
    return b"".join(START_CODE + u for u in units)


def parameter_sets_of(extradata: bytes | None) -> list[bytes]:
    """SPS and PPS carried out of band: avcC (MP4) or Annex-B (RTSP sprop-parameter-sets)."""
    if not extradata:
        return []
    if extradata[0] == 1 and len(extradata) >= 7:
        # avcC: version 1, profile, compatibility, level, length size, then counted SPS/PPS.
        units: list[bytes] = []
        pos = 5
        for _ in range(2):
            count = extradata[pos] & (0x1F if not units else 0xFF)
            pos += 1
            for _ in range(count):
                (size,) = struct.unpack_from("!H", extradata, pos)
                pos += 2
                units.append(extradata[pos : pos + size])
                pos += size
        return [u for u in units if u and nal_type(u) in (Nal.SPS, Nal.PPS)]
    return [u for u in split_annexb(extradata) if nal_type(u) in (Nal.SPS, Nal.PPS)]


def is_keyframe(units: Sequence[bytes]) -> bool:
    return any(nal_type(u) == Nal.IDR for u in units)


class ParameterSets:
    """The newest SPS and PPS of a stream, put back in front of keyframes that lack them.

    A viewer that joins at a keyframe can only decode it with the SPS/PPS in hand; cameras that
    send them only in the SDP (sprop-parameter-sets) or MP4 extradata would leave it with frames
    it cannot decode.
    """

    def __init__(self, out_of_band: Iterable[bytes] = ()) -> None:
        self.sps: bytes | None = None
        self.pps: bytes | None = None
        self.learn(out_of_band)

    def learn(self, units: Iterable[bytes]) -> None:
        for u in units:
            kind = nal_type(u)
            if kind == Nal.SPS:
                self.sps = u
            elif kind == Nal.PPS:
                self.pps = u

    def complete(self, units: list[bytes]) -> list[bytes]:
        """The access unit with SPS/PPS in front if it is a keyframe without them."""
        self.learn(units)
        if not is_keyframe(units) or self.sps is None or self.pps is None:
            return units
        kinds = {nal_type(u) for u in units}
        if Nal.SPS in kinds and Nal.PPS in kinds:
            return units
        body = [u for u in units if nal_type(u) not in (Nal.SPS, Nal.PPS, Nal.AUD)]
        return [self.sps, self.pps, *body]

    @property
    def profile_level_id(self) -> str | None:
        return profile_level_id(self.sps) if self.sps else None


def profile_level_id(sps: bytes) -> str:
    """The SDP profile-level-id (RFC 6184 section 8.1) of an SPS: profile_idc, flags, level."""
    if len(sps) < 4 or nal_type(sps) != Nal.SPS:
        raise ValueError("not an SPS NAL unit")
    return sps[1:4].hex()


class Profile(IntEnum):
    """H.264 profiles as WebRTC negotiates them, ordered from the simplest decoder up."""

    CONSTRAINED_BASELINE = 0
    BASELINE = 1
    MAIN = 2
    HIGH = 3


# The profile-level-id ECC offers and answers for each profile. Level 3.1 as browsers use it;
# with level-asymmetry-allowed=1 (RFC 6184) the level does not limit what is sent.
PROFILE_LEVEL_IDS: dict[Profile, str] = {
    Profile.CONSTRAINED_BASELINE: "42e01f",
    Profile.BASELINE: "42001f",
    Profile.MAIN: "4d001f",
    Profile.HIGH: "64001f",
}


def profile_of(plid: str) -> Profile:
    """Profile of a profile-level-id (RFC 6184 table 5, as WebRTC reads it)."""
    if len(plid) != 6:
        raise ValueError(f"profile-level-id {plid!r} is not 6 hex digits")
    idc, iop = int(plid[0:2], 16), int(plid[2:4], 16)
    if idc == 0x42:
        return Profile.CONSTRAINED_BASELINE if iop & 0x40 else Profile.BASELINE
    if idc == 0x4D:
        # Main with constraint_set1 is Constrained Baseline compatible.
        return Profile.CONSTRAINED_BASELINE if iop & 0x80 and iop & 0x40 else Profile.MAIN
    if idc == 0x58:
        return Profile.CONSTRAINED_BASELINE if iop & 0xC0 == 0xC0 else Profile.BASELINE
    if idc in (0x64, 0x6E, 0x7A, 0xF4):
        return Profile.HIGH
    raise ValueError(f"profile-level-id {plid!r}: unknown H.264 profile")


def answer_order(source: Profile) -> tuple[list[Profile], list[Profile]]:
    """Labels a viewer's answer may carry for a source of profile `source`, best first.

    First the source's own profile and those whose decoders are a superset of it (a Main or High
    decoder decodes Constrained Baseline; High decodes Main). Then, as a last resort, labels that
    are not a superset but that browsers' software decoders still decode: Main sent under a
    Constrained Baseline label is outside RFC 6184, so the caller logs it.
    """
    exact = {
        Profile.CONSTRAINED_BASELINE: [
            Profile.CONSTRAINED_BASELINE,
            Profile.BASELINE,
            Profile.MAIN,
            Profile.HIGH,
        ],
        # No other profile has Baseline's FMO and ASO, though cameras' Baseline rarely uses them.
        Profile.BASELINE: [Profile.BASELINE],
        Profile.MAIN: [Profile.MAIN, Profile.HIGH],
        Profile.HIGH: [Profile.HIGH],
    }[source]
    rest = sorted((p for p in Profile if p not in exact), key=lambda p: abs(p - source))
    return exact, rest


def packetize(units: Sequence[bytes], max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """RTP payloads of one access unit: STAP-A for runs of small units (SPS, PPS, SEI), single
    NAL unit packets, and FU-A fragments for units larger than `max_payload` (RFC 6184 5.7, 5.8).
    """
    out: list[bytes] = []
    pending: list[bytes] = []
    pending_size = 1  # the STAP-A NAL header

    def flush() -> None:
        nonlocal pending, pending_size
        if len(pending) == 1:
            out.append(pending[0])
        elif pending:
            # F is the OR of the aggregated units' F bits; NRI the highest NRI among them.
            f = max(u[0] & 0x80 for u in pending)
            nri = max(u[0] & 0x60 for u in pending)
            body = b"".join(struct.pack("!H", len(u)) + u for u in pending)
            out.append(bytes([f | nri | Nal.STAP_A]) + body)
        pending = []
        pending_size = 1

    for unit in units:
        if not unit:
            continue
        if len(unit) > max_payload:
            flush()
            out.extend(_fu_a(unit, max_payload))
            continue
        if pending_size + 2 + len(unit) > max_payload:
            flush()
        pending.append(unit)
        pending_size += 2 + len(unit)
    flush()
    return out


def _fu_a(unit: bytes, max_payload: int) -> list[bytes]:
    indicator = (unit[0] & 0xE0) | Nal.FU_A
    kind = unit[0] & 0x1F
    body = memoryview(unit)[1:]
    room = max_payload - 2
    # Equal-sized fragments rather than full ones and a runt: the same packet count, steadier
    # pacing.
    count = -(-len(body) // room)
    size = -(-len(body) // count)
    frags: list[bytes] = []
    for i in range(count):
        chunk = body[i * size : (i + 1) * size]
        header = kind | (0x80 if i == 0 else 0) | (0x40 if i == count - 1 else 0)
        frags.append(bytes((indicator, header)) + chunk)
    return frags


def depacketize(payloads: Iterable[bytes]) -> list[bytes]:
    """NAL units of one access unit's RTP payloads: the inverse of `packetize`."""
    units: list[bytes] = []
    fu: bytearray | None = None
    for p in payloads:
        kind = p[0] & 0x1F
        if kind == Nal.STAP_A:
            pos = 1
            while pos + 2 <= len(p):
                (size,) = struct.unpack_from("!H", p, pos)
                units.append(bytes(p[pos + 2 : pos + 2 + size]))
                pos += 2 + size
        elif kind == Nal.FU_A:
            if p[1] & 0x80:
                fu = bytearray([(p[0] & 0xE0) | (p[1] & 0x1F)])
            if fu is not None:
                fu += p[2:]
                if p[1] & 0x40:
                    units.append(bytes(fu))
                    fu = None
        else:
            units.append(bytes(p))
    return units


class SequenceParameters(NamedTuple):
    """What a container needs from an SPS (H.264 7.3.2.1.1): picture size and the avcC fields."""

    profile_idc: int
    constraints: int
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int


# Profiles whose SPS carries chroma format, bit depths and scaling matrices.
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class _Bits:
    """Exp-Golomb reader over an RBSP (emulation prevention bytes removed)."""

    def __init__(self, nal: bytes) -> None:
        self.data = nal.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("SPS ends early")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("SPS has a malformed Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def sequence_parameters(sps: bytes) -> SequenceParameters:
    """Parse an SPS NAL unit (with its header byte); ValueError if it is not one."""
    if len(sps) < 4 or nal_type(sps) != Nal.SPS:
        raise ValueError("not an SPS NAL unit")
    b = _Bits(sps[1:])
    profile, constraints, level = b.u(8), b.u(8), b.u(8)
    b.ue()  # seq_parameter_set_id
    chroma, depth_luma, depth_chroma, separate = 1, 8, 8, 0
    if profile in _HIGH_PROFILES:
        chroma = b.ue()
        if chroma == 3:
            separate = b.u(1)
        depth_luma, depth_chroma = b.ue() + 8, b.ue() + 8
        b.u(1)  # qpprime_y_zero_transform_bypass_flag
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if b.u(1):
                    last = following = 8
                    for _ in range(16 if i < 6 else 64):
                        if following:
                            following = (last + b.se() + 256) % 256
                        last = following or last
    b.ue()  # log2_max_frame_num_minus4
    poc_type = b.ue()
    if poc_type == 0:
        b.ue()
    elif poc_type == 1:
        b.u(1)
        b.se()
        b.se()
        for _ in range(b.ue()):
            b.se()
    b.ue()  # max_num_ref_frames
    b.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = b.ue() + 1, b.ue() + 1
    frame_mbs_only = b.u(1)
    if not frame_mbs_only:
        b.u(1)  # mb_adaptive_frame_field_flag
    b.u(1)  # direct_8x8_inference_flag
    crop = (b.ue(), b.ue(), b.ue(), b.ue()) if b.u(1) else (0, 0, 0, 0)
    # Crop units (7.4.2.1.1): in chroma samples, and in field pairs for interlaced coding.
    array_type = 0 if separate else chroma
    unit_x = 1 if array_type == 0 else (2 if chroma in (1, 2) else 1)
    unit_y = (2 - frame_mbs_only) * (1 if array_type == 0 else (2 if chroma == 1 else 1))
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - unit_y * (crop[2] + crop[3])
    return SequenceParameters(
        profile, constraints, level, chroma, depth_luma, depth_chroma, width, height
    )
