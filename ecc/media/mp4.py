"""MP4 as ECC's recordings use it: written and read here, byte by byte, with no codec involved.

A recorded segment is a fragmented MP4 (ISO/IEC 14496-12; H.264 per 14496-15): an init section
(`ftyp` + `moov` with the track's avcC and an `mvex`) and then one fragment (`moof` + `mdat`) per
GOP, each starting with a keyframe. HLS (RFC 8216) addresses the init section with EXT-X-MAP and
the fragments with EXT-X-BYTERANGE of the same file, so a segment is also a file any player opens.

Why not MPEG-TS: TS cuts every 188 bytes for a 4-byte header and adds PES headers, PCR and
PAT/PMT tables: a few per cent over the video bitrate (bench/recording.py measures it). Here the
cost is one `moof` per GOP, 12 bytes per sample: about 0.2 % at 2 Mbit/s.

A decode time stamp per sample: sources give presentation times only (RTP carries sampling time,
RFC 6184 5.1). With B-frames, decode order is the arrival order and the decode times are the
GOP's presentation times sorted; version 1 `trun` boxes carry the (signed) composition offsets.

The clip export writes a progressive MP4 (one `moov` in front, one `mdat`), which every player
and editor takes, from samples read out of the segments' fragments without touching them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ecc.media.h264 import Nal, SequenceParameters, nal_type, sequence_parameters

TIMESCALE = 90_000
MOVIE_TIMESCALE = 1000
TRACK_ID = 1
# sample_flags (14496-12 8.8.3.1): a sync sample depends on nothing; any other is a non-sync
# sample that depends on others.
SYNC_FLAGS = 0x0200_0000
NON_SYNC_FLAGS = 0x0101_0000
_NON_SYNC_BIT = 0x0001_0000
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000)
# tfhd and trun flags
_BASE_DATA_OFFSET = 0x1
_SAMPLE_DESCRIPTION = 0x2
_DEFAULT_DURATION = 0x8
_DEFAULT_SIZE = 0x10
_DEFAULT_FLAGS = 0x20
_BASE_IS_MOOF = 0x02_0000
_DATA_OFFSET = 0x1
_FIRST_FLAGS = 0x4
_DURATION = 0x100
_SIZE = 0x200
_FLAGS = 0x400
_CTO = 0x800


class Mp4Error(ValueError):
    """The bytes are not an MP4 this module can read; the message says where."""


def box(kind: bytes, *payload: bytes) -> bytes:
    size = 8 + sum(len(p) for p in payload)
    if size > 0xFFFF_FFFF:
        return struct.pack(">I4sQ", 1, kind, size + 8) + b"".join(payload)
    return struct.pack(">I4s", size, kind) + b"".join(payload)


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


# -- the track ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Track:
    """One H.264 video track as the init section describes it."""

    sps: bytes
    pps: bytes
    params: SequenceParameters

    @classmethod
    def of(cls, sps: bytes, pps: bytes) -> Track:
        """ValueError if `sps` is not a readable SPS."""
        return cls(sps, pps, sequence_parameters(sps))

    @property
    def width(self) -> int:
        return self.params.width

    @property
    def height(self) -> int:
        return self.params.height

    @property
    def codec(self) -> str:
        """RFC 6381 `codecs` value: avc1 and the SPS's profile, constraints and level."""
        return "avc1." + self.sps[1:4].hex()

    def avcc(self) -> bytes:
        """AVCDecoderConfigurationRecord (14496-15 5.3.3.1), 4-byte NAL unit lengths."""
        p = self.params
        record = bytes([1, p.profile_idc, p.constraints, p.level_idc, 0xFF, 0xE1])
        record += struct.pack(">H", len(self.sps)) + self.sps
        record += b"\x01" + struct.pack(">H", len(self.pps)) + self.pps
        if p.profile_idc in (100, 110, 122, 144):
            record += bytes(
                [
                    0xFC | p.chroma_format_idc,
                    0xF8 | (p.bit_depth_luma - 8),
                    0xF8 | (p.bit_depth_chroma - 8),
                    0,
                ]
            )
        return record


def parameter_sets(units: Sequence[bytes]) -> tuple[bytes, bytes] | None:
    """The SPS and PPS among an access unit's NAL units, if it has both."""
    sps = next((u for u in units if u and nal_type(u) == Nal.SPS), None)
    pps = next((u for u in units if u and nal_type(u) == Nal.PPS), None)
    return None if sps is None or pps is None else (sps, pps)


def avcc_sample(units: Sequence[bytes]) -> bytes:
    """An access unit as an MP4 sample: each NAL unit behind its 4-byte length. Access unit
    delimiters are left out: MP4 frames samples itself (14496-15 5.3.2)."""
    return b"".join(struct.pack(">I", len(u)) + u for u in units if u and nal_type(u) != Nal.AUD)


# -- init section ---------------------------------------------------------------------------


def _ftyp() -> bytes:
    return box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6", b"iso5", b"isom", b"avc1", b"mp41")


def _tkhd(track: Track, duration: int) -> bytes:
    return full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, TRACK_ID, 0, duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", track.width << 16, track.height << 16),
    )


def _mvhd(duration: int) -> bytes:
    return full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, MOVIE_TIMESCALE, duration),
        struct.pack(">IH", 0x0001_0000, 0x0100),
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", TRACK_ID + 1),
    )


def _mdhd(duration: int) -> bytes:
    language = 0x55C4  # "und", packed ISO 639-2/T
    return full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, duration, language, 0))


def _hdlr() -> bytes:
    return full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"vide"), bytes(12), b"ECC video\x00")


def _stsd(track: Track) -> bytes:
    avc1 = box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", track.width, track.height),
        struct.pack(">II", 0x0048_0000, 0x0048_0000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressorname
        struct.pack(">Hh", 0x0018, -1),
        box(b"avcC", track.avcc()),
    )
    return full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1)


def _minf(stbl: bytes) -> bytes:
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    return box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)


def init_section(track: Track) -> bytes:
    """ftyp + moov of a fragmented file: empty sample tables, samples in the fragments."""
    stbl = box(
        b"stbl",
        _stsd(track),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    trak = box(b"trak", _tkhd(track, 0), box(b"mdia", _mdhd(0), _hdlr(), _minf(stbl)))
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0))
    return _ftyp() + box(b"moov", _mvhd(0), trak, box(b"mvex", trex))


def init_id(init: bytes) -> str:
    """A short digest of an init section: equal ones can share one EXT-X-MAP."""
    return hashlib.blake2s(init, digest_size=8).hexdigest()


# -- fragments ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    size: int
    duration: int
    """Decode-time step to the next sample, in TIMESCALE units."""
    cto: int
    """Composition offset: presentation time minus decode time (negative allowed)."""
    keyframe: bool


def fragment(sequence: int, base_dts: int, samples: Sequence[Sample], data: bytes) -> bytes:
    """moof + mdat of one GOP: `data` is the samples' bytes, in order."""
    if not samples:
        raise ValueError("a fragment needs samples")
    first = SYNC_FLAGS if samples[0].keyframe else NON_SYNC_FLAGS
    entries = b"".join(struct.pack(">IIi", s.duration, s.size, s.cto) for s in samples)
    trun_fixed = 8 + 4 + 4 + 4  # header, version/flags, sample_count, data_offset
    trun_size = trun_fixed + 4 + len(entries)
    tfhd = full_box(
        b"tfhd", 0, _BASE_IS_MOOF | _DEFAULT_FLAGS, struct.pack(">II", TRACK_ID, NON_SYNC_FLAGS)
    )
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_dts))
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence))
    moof_size = 8 + len(mfhd) + 8 + len(tfhd) + len(tfdt) + trun_size
    mdat_header = 8 if len(data) + 8 <= 0xFFFF_FFFF else 16
    trun = full_box(
        b"trun",
        1,
        _DATA_OFFSET | _FIRST_FLAGS | _DURATION | _SIZE | _CTO,
        struct.pack(">IiI", len(samples), moof_size + mdat_header, first),
        entries,
    )
    moof = box(b"moof", mfhd, box(b"traf", tfhd, tfdt, trun))
    assert len(moof) == moof_size
    return moof + box(b"mdat", data)


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fragment:
    """A complete moof + mdat of a file."""

    offset: int
    size: int
    base_dts: int
    samples: tuple[Sample, ...]
    data_offset: int
    """File offset of the first sample's bytes; the others follow it in order."""

    @property
    def duration(self) -> int:
        return sum(s.duration for s in self.samples)

    @property
    def data_size(self) -> int:
        return sum(s.size for s in self.samples)


@dataclass(frozen=True, slots=True)
class Layout:
    """What a fragmented file holds, read from its boxes (no sample data is read)."""

    init_bytes: int
    timescale: int
    track: Track
    fragments: tuple[Fragment, ...]
    complete_bytes: int
    """End of the last complete fragment: past it, a writer stopped mid-fragment."""

    @property
    def base_dts(self) -> int:
        return self.fragments[0].base_dts if self.fragments else 0

    @property
    def duration(self) -> int:
        if not self.fragments:
            return 0
        last = self.fragments[-1]
        return last.base_dts + last.duration - self.base_dts


def _header(f: BinaryIO, offset: int, size: int) -> tuple[bytes, int, int] | None:
    """(type, box size, header size) of the box at `offset`, None past the end of the data."""
    if offset + 8 > size:
        return None
    f.seek(offset)
    head = f.read(16)
    length, kind = struct.unpack_from(">I4s", head)
    header = 8
    if length == 1:
        if len(head) < 16:
            return None
        (length,) = struct.unpack_from(">Q", head, 8)
        header = 16
    elif length == 0:
        length = size - offset
    if length < header:
        raise Mp4Error(f"box {kind!r} at {offset}: size {length} is too small")
    return kind, length, header


def _children(
    data: bytes, start: int = 0, end: int | None = None
) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if length == 1:
            (length,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif length == 0:
            length = end - pos
        if length < header or pos + length > end:
            raise Mp4Error(f"box {kind!r} at {pos} overruns its parent")
        yield kind, pos + header, pos + length
        pos += length


def _find(
    data: bytes, path: Sequence[bytes], start: int = 0, end: int | None = None
) -> tuple[int, int]:
    """Payload bounds of the first box along `path` (e.g. trak, mdia, mdhd)."""
    for kind, begin, stop in _children(data, start, end):
        if kind == path[0]:
            return (begin, stop) if len(path) == 1 else _find(data, path[1:], begin, stop)
    raise Mp4Error(f"no {b'/'.join(path).decode()} box")


def _track(moov: bytes) -> tuple[int, Track]:
    mdhd, _ = _find(moov, [b"trak", b"mdia", b"mdhd"])
    version = moov[mdhd]
    timescale = struct.unpack_from(">I", moov, mdhd + (20 if version == 1 else 12))[0]
    stsd, stsd_end = _find(moov, [b"trak", b"mdia", b"minf", b"stbl", b"stsd"])
    # stsd: version/flags, entry_count, then the avc1 entry: 78 bytes of fields, then boxes.
    entries = list(_children(moov, stsd + 8, stsd_end))
    if not entries or entries[0][0] != b"avc1":
        raise Mp4Error("the track is not H.264 (avc1)")
    _, avc1, avc1_end = entries[0]
    avcc, _ = _find(moov, [b"avcC"], avc1 + 78, avc1_end)
    pos = avcc + 5
    count = moov[pos] & 0x1F
    pos += 1
    (size,) = struct.unpack_from(">H", moov, pos)
    sps = moov[pos + 2 : pos + 2 + size]
    pos += 2 + size
    for _ in range(count - 1):
        (size,) = struct.unpack_from(">H", moov, pos)
        pos += 2 + size
    pos += 1
    (size,) = struct.unpack_from(">H", moov, pos)
    pps = moov[pos + 2 : pos + 2 + size]
    try:
        return timescale, Track.of(bytes(sps), bytes(pps))
    except ValueError as exc:
        raise Mp4Error(f"avcC: {exc}") from None


def _traf(moof: bytes, moof_offset: int) -> tuple[int, tuple[Sample, ...], int]:
    """(base decode time, samples, file offset of the first sample) of a moof's one traf."""
    traf, traf_end = _find(moof, [b"traf"])
    flags = default_duration = default_size = 0
    default_flags = NON_SYNC_FLAGS
    base = moof_offset
    base_dts = 0
    samples: list[Sample] = []
    data_offset: int | None = None
    for kind, begin, _end in _children(moof, traf, traf_end):
        version_flags = struct.unpack_from(">I", moof, begin)[0]
        version, flags = version_flags >> 24, version_flags & 0xFF_FFFF
        pos = begin + 4
        if kind == b"tfhd":
            pos += 4  # track_ID
            if flags & _BASE_DATA_OFFSET:
                (base,) = struct.unpack_from(">Q", moof, pos)
                pos += 8
            elif not flags & _BASE_IS_MOOF:
                base = moof_offset
            if flags & _SAMPLE_DESCRIPTION:
                pos += 4
            if flags & _DEFAULT_DURATION:
                (default_duration,) = struct.unpack_from(">I", moof, pos)
                pos += 4
            if flags & _DEFAULT_SIZE:
                (default_size,) = struct.unpack_from(">I", moof, pos)
                pos += 4
            if flags & _DEFAULT_FLAGS:
                (default_flags,) = struct.unpack_from(">I", moof, pos)
        elif kind == b"tfdt":
            base_dts = struct.unpack_from(">Q" if version == 1 else ">I", moof, pos)[0]
        elif kind == b"trun":
            (count,) = struct.unpack_from(">I", moof, pos)
            pos += 4
            offset = 0
            if flags & _DATA_OFFSET:
                (offset,) = struct.unpack_from(">i", moof, pos)
                pos += 4
            first_flags = None
            if flags & _FIRST_FLAGS:
                (first_flags,) = struct.unpack_from(">I", moof, pos)
                pos += 4
            if data_offset is None:
                data_offset = base + offset
            for i in range(count):
                duration, size, sample_flags, cto = default_duration, default_size, default_flags, 0
                if flags & _DURATION:
                    (duration,) = struct.unpack_from(">I", moof, pos)
                    pos += 4
                if flags & _SIZE:
                    (size,) = struct.unpack_from(">I", moof, pos)
                    pos += 4
                if flags & _FLAGS:
                    (sample_flags,) = struct.unpack_from(">I", moof, pos)
                    pos += 4
                elif i == 0 and first_flags is not None:
                    sample_flags = first_flags
                if flags & _CTO:
                    (cto,) = struct.unpack_from(">i" if version == 1 else ">I", moof, pos)
                    pos += 4
                samples.append(Sample(size, duration, cto, not sample_flags & _NON_SYNC_BIT))
    if data_offset is None:
        raise Mp4Error(f"moof at {moof_offset} has no trun")
    return base_dts, tuple(samples), data_offset


def read_layout(f: BinaryIO, size: int) -> Layout:
    """The layout of a fragmented file of `size` bytes; Mp4Error if its init section is not
    whole. A fragment cut short (the writer died) ends the layout at `complete_bytes`."""
    kind_size = _header(f, 0, size)
    if kind_size is None or kind_size[0] != b"ftyp":
        raise Mp4Error("not an MP4 file (no ftyp)")
    pos = kind_size[1]
    moov = _header(f, pos, size)
    if moov is None or moov[0] != b"moov" or pos + moov[1] > size:
        raise Mp4Error("the init section is not whole (no complete moov)")
    f.seek(pos + moov[2])
    timescale, track = _track(f.read(moov[1] - moov[2]))
    init_bytes = pos = pos + moov[1]
    fragments: list[Fragment] = []
    while True:
        moof = _header(f, pos, size)
        if moof is None or moof[0] != b"moof" or pos + moof[1] > size:
            break
        mdat = _header(f, pos + moof[1], size)
        end = pos + moof[1] + (mdat[1] if mdat else 0)
        if mdat is None or mdat[0] != b"mdat" or end > size:
            break
        f.seek(pos + moof[2])
        base_dts, samples, data_offset = _traf(f.read(moof[1] - moof[2]), pos)
        data_size = sum(s.size for s in samples)
        if data_offset < pos + moof[1] or data_offset + data_size > end:
            raise Mp4Error(f"fragment at {pos}: its samples lie outside its mdat")
        fragments.append(Fragment(pos, end - pos, base_dts, samples, data_offset))
        pos = end
    return Layout(init_bytes, timescale, track, tuple(fragments), pos)


# -- progressive MP4 (clip export) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    """Samples that lie back to back in the output's mdat (one source fragment's worth)."""

    samples: tuple[Sample, ...]

    @property
    def size(self) -> int:
        return sum(s.size for s in self.samples)


def _table(kind: bytes, item: str, values: Sequence[int]) -> bytes:
    """A full box holding a counted array of one field."""
    return full_box(
        kind, 0, 0, struct.pack(">I", len(values)), struct.pack(f">{len(values)}{item[1]}", *values)
    )


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] == v:
            runs[-1] = (runs[-1][0] + 1, v)
        else:
            runs.append((1, v))
    return runs


def progressive_header(track: Track, chunks: Sequence[Chunk]) -> bytes:
    """ftyp, moov and the mdat header of a progressive file whose mdat holds the chunks' samples
    in order: stream the samples' bytes right after it.

    Decode times start at 0. Composition offsets are shifted to be non-negative (version 0
    ctts, which every reader takes) and an edit list starts the presentation at the first
    frame shown, so the clip plays from 0 and lasts what its frames last.
    """
    samples = [s for c in chunks for s in c.samples]
    if not samples:
        raise ValueError("a clip needs samples")
    shift = max(0, -min(s.cto for s in samples))
    dts = 0
    first_shown = None
    last_shown = 0
    for s in samples:
        pts = dts + s.cto + shift
        first_shown = pts if first_shown is None else min(first_shown, pts)
        last_shown = max(last_shown, pts + s.duration)
        dts += s.duration
    assert first_shown is not None
    media_duration = dts
    shown = last_shown - first_shown
    movie_duration = shown * MOVIE_TIMESCALE // TIMESCALE
    data_size = sum(c.size for c in chunks)
    wide = data_size > 0xFFFF_FFFF - (1 << 24)

    def moov(first_offset: int) -> bytes:
        offsets: list[int] = []
        pos = first_offset
        for c in chunks:
            offsets.append(pos)
            pos += c.size
        stts = _runs([s.duration for s in samples])
        ctts = _runs([s.cto + shift for s in samples])
        stsc_runs = _runs([len(c.samples) for c in chunks])
        stsc: list[bytes] = []
        index = 1
        for count, per_chunk in stsc_runs:
            stsc.append(struct.pack(">III", index, per_chunk, 1))
            index += count
        sync = [i + 1 for i, s in enumerate(samples) if s.keyframe]
        tables = [
            _stsd(track),
            full_box(
                b"stts",
                0,
                0,
                struct.pack(">I", len(stts)),
                b"".join(struct.pack(">II", n, v) for n, v in stts),
            ),
        ]
        if any(v for _, v in ctts):
            tables.append(
                full_box(
                    b"ctts",
                    0,
                    0,
                    struct.pack(">I", len(ctts)),
                    b"".join(struct.pack(">II", n, v) for n, v in ctts),
                )
            )
        tables += [
            _table(b"stss", ">I", sync),
            full_box(b"stsc", 0, 0, struct.pack(">I", len(stsc)), *stsc),
            full_box(
                b"stsz",
                0,
                0,
                struct.pack(">II", 0, len(samples)),
                struct.pack(f">{len(samples)}I", *(s.size for s in samples)),
            ),
            _table(b"co64", ">Q", offsets) if wide else _table(b"stco", ">I", offsets),
        ]
        elst = full_box(b"elst", 0, 0, struct.pack(">IIiHH", 1, movie_duration, first_shown, 1, 0))
        trak = box(
            b"trak",
            _tkhd(track, movie_duration),
            box(b"edts", elst),
            box(b"mdia", _mdhd(media_duration), _hdlr(), _minf(box(b"stbl", *tables))),
        )
        return box(b"moov", _mvhd(movie_duration), trak)

    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"avc1", b"mp41")
    mdat_header = (
        struct.pack(">I4sQ", 1, b"mdat", data_size + 16)
        if wide
        else struct.pack(">I4s", data_size + 8, b"mdat")
    )
    # The moov's size does not depend on the offset values: measure it, then write it true.
    size = len(moov(0))
    return ftyp + moov(len(ftyp) + size + len(mdat_header)) + mdat_header
