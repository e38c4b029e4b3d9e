"""Recording test rig: real H.264 made once per test session, replayed at any timestamps, and
helpers that record it through a Recorder and read the result back with PyAV."""

from __future__ import annotations

import asyncio
import fractions
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.media.h264 import is_keyframe, split_annexb
from ecc.media.recorder import Recorder
from ecc.storage.models import Segment


@dataclass(frozen=True)
class Gop:
    """One closed GOP in decode order: NAL units and presentation offsets (90 kHz)."""

    units: tuple[tuple[bytes, ...], ...]
    offsets: tuple[int, ...]
    fps: int

    @property
    def duration(self) -> int:
        return len(self.units) * VIDEO_CLOCK // self.fps


@functools.cache
def gop(width: int = 160, height: int = 96, fps: int = 25, bframes: int = 0) -> Gop:
    """A one-second GOP of a moving bar, x264, SPS/PPS in front of the keyframe."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, VIDEO_CLOCK)
    codec.framerate = fractions.Fraction(fps)
    codec.options = {
        "preset": "ultrafast",
        "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes={bframes}"
        ":repeat-headers=1:open-gop=0",
    }
    packets = []
    for i in range(fps * 2):
        picture = np.full((height, width, 3), 40, np.uint8)
        picture[:, (i * 4) % width : (i * 4) % width + 4] = 250
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = i * VIDEO_CLOCK // fps
        frame.time_base = codec.time_base
        packets.extend(codec.encode(frame))
    packets.extend(codec.encode(None))
    out = [(tuple(split_annexb(bytes(p))), int(p.pts)) for p in packets]
    # The second GOP: a keyframe that is not the stream's first (no encoder start-up extras).
    keys = [i for i, (units, _) in enumerate(out) if is_keyframe(list(units))]
    second = out[keys[1] : keys[1] + fps]
    base = second[0][1]
    return Gop(tuple(u for u, _ in second), tuple(p - base for _, p in second), fps)


def units(seconds: float, start_pts: int = 0, source: Gop | None = None) -> Iterator[AccessUnit]:
    """`seconds` of stream (whole GOPs), presentation times from `start_pts`."""
    g = source or gop()
    n = max(1, round(seconds * VIDEO_CLOCK / g.duration))
    for k in range(n):
        base = start_pts + k * g.duration
        for i, (nal, offset) in enumerate(zip(g.units, g.offsets, strict=True)):
            yield AccessUnit(list(nal), base + offset, i == 0)


def feed(
    recorder: Recorder, stream: Iterator[AccessUnit], wall0: float, latency: float = 0.05
) -> float:
    """Push a stream as arriving in real time `latency` after each picture (decode order:
    a unit arrives once it can be sent, after the pictures it refers to); returns the wall time
    of the last arrival."""
    wall = wall0
    first: int | None = None
    for unit in stream:
        first = unit.pts if first is None else first
        wall = max(wall, wall0 + (unit.pts - first) / VIDEO_CLOCK + latency)
        recorder.push(unit, wall)
    return wall


async def stopped(recorder: Recorder, task: asyncio.Task[None]) -> None:
    """Stop a recorder the way its owner does: cancel its task, await it, close it."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await recorder.close()


def decoded(path: Path) -> list[float]:
    """Presentation times (s) of every frame PyAV decodes from a file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            float(f.pts * stream.time_base) for f in container.decode(stream) if f.pts is not None
        ]


def covered(segments: list[Segment], tolerance: float = 0.1) -> list[tuple[float, float]]:
    """The spans the segments cover, joined where one starts within `tolerance` of the last."""
    spans: list[tuple[float, float]] = []
    for s in sorted(segments, key=lambda s: s.start):
        if spans and s.start - spans[-1][1] <= tolerance:
            spans[-1] = (spans[-1][0], max(spans[-1][1], s.end))
        else:
            spans.append((s.start, s.end))
    return spans
