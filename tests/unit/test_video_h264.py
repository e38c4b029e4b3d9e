"""H.264 bitstream handling, timecode and timelines, on synthetic inputs."""

from __future__ import annotations

import struct

import pytest

from ecc.media import timecode
from ecc.media.frames import Timeline
from ecc.media.h264 import (
    Nal,
    ParameterSets,
    Profile,
    answer_order,
    depacketize,
    is_keyframe,
    join_annexb,
    packetize,
    parameter_sets_of,
    profile_level_id,
    profile_of,
    split_annexb,
)

SPS = bytes([0x67, 0x4D, 0x40, 0x1F, 0xAA, 0xBB])
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])
IDR = bytes([0x65]) + bytes(range(256)) * 20
SLICE = bytes([0x41]) + b"\x01\x02\x03"


def test_annexb_round_trip_with_3_and_4_byte_start_codes() -> None:
    data = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + IDR
    assert split_annexb(data) == [SPS, PPS, IDR]
    assert split_annexb(join_annexb([SPS, PPS, IDR])) == [SPS, PPS, IDR]
    assert split_annexb(b"") == []


def test_parameter_sets_out_of_band_avcc_and_annexb() -> None:
    avcc = bytes([1, 0x4D, 0x40, 0x1F, 0xFF, 0xE1]) + struct.pack("!H", len(SPS)) + SPS
    avcc += bytes([1]) + struct.pack("!H", len(PPS)) + PPS
    assert parameter_sets_of(avcc) == [SPS, PPS]
    assert parameter_sets_of(join_annexb([SPS, PPS])) == [SPS, PPS]
    assert parameter_sets_of(None) == []


def test_parameter_sets_go_in_front_of_keyframes_that_lack_them() -> None:
    sets = ParameterSets([SPS, PPS])
    assert sets.complete([IDR]) == [SPS, PPS, IDR]
    assert sets.complete([SLICE]) == [SLICE]
    assert sets.complete([SPS, PPS, IDR]) == [SPS, PPS, IDR]
    assert sets.profile_level_id == "4d401f"
    assert ParameterSets().complete([IDR]) == [IDR]  # nothing known yet: nothing to add
    assert is_keyframe([SPS, PPS, IDR]) and not is_keyframe([SLICE])


@pytest.mark.parametrize("size", [1, 100, 1159, 1160, 1161, 5000, 100_000])
def test_packetize_round_trips_and_respects_the_payload_size(size: int) -> None:
    # (a NAL unit never ends in a zero byte: its RBSP ends with a one bit)
    big = bytes([0x65]) + bytes(1 + i % 250 for i in range(size))
    units = [SPS, PPS, big, SLICE]
    payloads = packetize(units, max_payload=1160)
    assert all(len(p) <= 1160 for p in payloads)
    assert depacketize(payloads) == units
    # Small units ride together in one STAP-A (RFC 6184 5.7.1).
    assert payloads[0][0] & 0x1F == Nal.STAP_A
    assert split_annexb(join_annexb(depacketize(payloads))) == units


def test_fu_a_headers_mark_start_and_end() -> None:
    payloads = packetize([IDR], max_payload=1000)
    assert len(payloads) > 1
    assert all(p[0] & 0x1F == Nal.FU_A for p in payloads)
    assert payloads[0][1] & 0x80 and not payloads[0][1] & 0x40
    assert payloads[-1][1] & 0x40 and not payloads[-1][1] & 0x80
    assert all(p[1] & 0x1F == Nal.IDR for p in payloads)


def test_profiles() -> None:
    assert profile_level_id(SPS) == "4d401f"
    assert profile_of("42e01f") is Profile.CONSTRAINED_BASELINE
    assert profile_of("42001f") is Profile.BASELINE
    assert profile_of("428016") is Profile.BASELINE
    assert profile_of("4d401f") is Profile.MAIN
    assert profile_of("64001f") is Profile.HIGH
    assert profile_of("42c01f") is Profile.CONSTRAINED_BASELINE
    with pytest.raises(ValueError):
        profile_of("ff001f")


def test_answer_order_prefers_the_source_profile_then_supersets() -> None:
    exact, fallback = answer_order(Profile.MAIN)
    assert exact == [Profile.MAIN, Profile.HIGH]
    assert Profile.CONSTRAINED_BASELINE in fallback
    exact, _ = answer_order(Profile.CONSTRAINED_BASELINE)
    assert exact[0] is Profile.CONSTRAINED_BASELINE and Profile.MAIN in exact


def test_timecode_round_trip_and_checksum() -> None:
    ms = 1_790_000_123_456
    bits = timecode.encode(ms)
    assert len(bits) == timecode.BITS
    value = timecode.decode(bits)
    assert value is not None and timecode.unwrap(value, ms + 80) == ms
    bits[3] ^= 1
    assert timecode.decode(bits) is None
    plane = bytearray(1280 * 64)
    timecode.paint_luma(plane, 1280, ms)
    c = timecode.cell_size(1280)
    x0, y0 = timecode.origin(1280)
    read = [1 if plane[(y0 + c // 2) * 1280 + x0 + i * c + c // 2] > 128 else 0 for i in range(48)]
    assert timecode.decode(read) == ms % (1 << timecode.VALUE_BITS)


def test_timeline_keeps_b_frames_and_rebases_restarts() -> None:
    t = Timeline(90_000)
    assert t.map(900_000, 0.0) == 0
    assert t.map(903_000, 0.033) == 3000
    assert t.map(901_500, 0.066) == 1500  # a B-frame, a little back: kept
    restarted = t.map(0, 1.0)  # the camera restarted from zero a second later
    assert 3000 < restarted <= 3000 + 90_000
    assert t.map(3000, 1.033) == restarted + 3000
