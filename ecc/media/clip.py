"""A clip of the recordings as one progressive MP4: remuxed, never decoded or encoded.

The clip starts at the keyframe at or before the asked start (the nearest picture a player can
start from), and ends with the last picture before the asked end. Its samples are the recorded
ones, byte for byte: their bytes are read from the segments' fragments and streamed after a
`moov` built from the fragments' `trun` tables (ecc.media.mp4). A gap in the recording is held
on the last picture before it, so the clip's time stays the wall time of its start plus the
time played. The init section is the first segment's; SPS and PPS also travel before every
keyframe, so a player follows a change of parameters within the clip.

Planning reads only the segments' boxes (blocking: a thread).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ecc.media import mp4
from ecc.media.playlist import GAP_S
from ecc.storage.models import Segment

READ_BYTES = 1 << 20


class NothingRecorded(Exception):
    """The range holds no recorded picture."""


@dataclass(frozen=True, slots=True)
class Part:
    """Bytes of one fragment's kept samples, copied as they are."""

    path: Path
    offset: int
    size: int


@dataclass
class Clip:
    header: bytes
    parts: list[Part]
    start: float
    """Wall time of the clip's first picture (a keyframe at or before the asked start)."""
    end: float
    frames: int

    @property
    def size(self) -> int:
        return len(self.header) + sum(p.size for p in self.parts)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def body(self) -> Iterator[bytes]:
        """The file's bytes, read from the segments as they are sent."""
        yield self.header
        for part in self.parts:
            with part.path.open("rb") as f:
                f.seek(part.offset)
                left = part.size
                while left > 0:
                    data = f.read(min(left, READ_BYTES))
                    if not data:
                        raise OSError(f"{part.path} is shorter than its index says")
                    left -= len(data)
                    yield data


@dataclass
class _Kept:
    wall: float
    samples: list[mp4.Sample] = field(default_factory=list)


def plan(data_dir: Path, segments: Sequence[Segment], start: float, end: float) -> Clip:
    """The clip of [start, end] from the segments that overlap it (sorted by start)."""
    track: mp4.Track | None = None
    chosen: list[tuple[_Kept, Part]] = []
    for segment in segments:
        if segment.start >= end:
            break
        path = data_dir / segment.path
        with path.open("rb") as f:
            layout = mp4.read_layout(f, segment.bytes)
        track = track or layout.track
        scale = layout.timescale
        for fragment in layout.fragments:
            wall = segment.start + (fragment.base_dts - layout.base_dts) / scale
            if wall >= end:
                break
            if wall + fragment.duration / scale <= start:
                # Over before the start: a start in a gap begins at the first picture after.
                chosen.clear()
                continue
            if wall <= start:
                chosen.clear()  # the keyframe nearest before the start, so far
            kept = _Kept(wall)
            size = 0
            at = wall
            for sample in fragment.samples:
                if at >= end:
                    break
                kept.samples.append(sample)
                size += sample.size
                at += sample.duration / scale
            chosen.append((kept, Part(path, fragment.data_offset, size)))
    if track is None or not chosen:
        raise NothingRecorded("nothing is recorded in that range")
    chunks: list[mp4.Chunk] = []
    for i, (kept, _) in enumerate(chosen):
        samples = kept.samples
        if i + 1 < len(chosen):
            # Hold the last picture over a gap before the next fragment.
            ends = kept.wall + sum(s.duration for s in samples) / mp4.TIMESCALE
            gap = chosen[i + 1][0].wall - ends
            if gap > GAP_S:
                last = samples[-1]
                samples[-1] = mp4.Sample(
                    last.size, last.duration + round(gap * mp4.TIMESCALE), last.cto, last.keyframe
                )
        chunks.append(mp4.Chunk(tuple(samples)))
    first_wall = chosen[0][0].wall
    frames = sum(len(c.samples) for c in chunks)
    ticks = sum(s.duration for c in chunks for s in c.samples)
    return Clip(
        header=mp4.progressive_header(track, chunks),
        parts=[p for _, p in chosen],
        start=first_wall,
        end=first_wall + ticks / mp4.TIMESCALE,
        frames=frames,
    )
