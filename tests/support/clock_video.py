"""Recorded sources whose every picture carries its own wall time (ecc.media.timecode), made
without a camera: H.264 encoded here, fed to a real Recorder at the times it shows, so that the
segments, the clips and what a browser plays can all be checked against the burned-in clock."""

from __future__ import annotations

import asyncio
import fractions
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np

from ecc.media import timecode
from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.media.h264 import split_annexb
from ecc.media.recorder import Recorder, RecorderOptions
from ecc.storage import Store
from ecc.storage.models import Segment

WIDTH, HEIGHT = 640, 360


def clock_units(
    wall0: float, seconds: float, fps: int = 10, shade: int = 60
) -> list[tuple[AccessUnit, float]]:
    """Pictures from `wall0` for `seconds`, each showing its time; one-second GOPs."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = fractions.Fraction(1, VIDEO_CLOCK)
    codec.framerate = fractions.Fraction(fps)
    codec.options = {
        "preset": "ultrafast",
        "crf": "16",
        "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0"
        ":repeat-headers=1:open-gop=0",
    }
    packets = []
    for i in range(round(seconds * fps)):
        ms = round((wall0 + i / fps) * 1000)
        y = np.full((HEIGHT, WIDTH), shade, np.uint8)
        # A bar that moves, so the pictures differ beyond the clock.
        y[HEIGHT // 2 :, (i * 8) % WIDTH : (i * 8) % WIDTH + 8] = 200
        plane = bytearray(y.tobytes())
        timecode.paint_luma(plane, WIDTH, ms)
        yuv = np.concatenate(
            [
                np.frombuffer(bytes(plane), np.uint8),
                np.full(WIDTH * HEIGHT // 2, 128, np.uint8),
            ]
        ).reshape(HEIGHT * 3 // 2, WIDTH)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i * VIDEO_CLOCK // fps
        frame.time_base = codec.time_base
        packets.extend(codec.encode(frame))
    packets.extend(codec.encode(None))
    out = []
    for p in packets:
        units = split_annexb(bytes(p))
        pts = int(p.pts)
        out.append((AccessUnit(list(units), pts, bool(p.is_keyframe)), wall0 + pts / VIDEO_CLOCK))
    return out


async def _record(
    store: Store, data_dir: Path, source: str, units: list[tuple[AccessUnit, float]]
) -> None:
    with ThreadPoolExecutor(1) as pool:
        options = RecorderOptions(segment_s=6.0, queue_fragments=10_000, idle_close_s=600)
        recorder = Recorder(source, store, data_dir, pool, options)
        task = asyncio.create_task(recorder.run(), name=f"record-{source}")
        for unit, wall in units:
            recorder.push(unit, wall)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await recorder.close()


def record_clock(
    store: Store, data_dir: Path, source: str, wall0: float, seconds: float, fps: int = 10
) -> list[Segment]:
    """Record `seconds` of the clock picture as `source`, from `wall0`; its segments. (On a
    thread of its own: a browser test's thread already runs Playwright's event loop.)"""
    units = clock_units(wall0, seconds, fps)
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _record(store, data_dir, source, units)).result()
    return store.recordings.range(source, wall0 - 1, wall0 + seconds + 1)


def read_clock(luma: np.ndarray, around_ms: int) -> int | None:
    """The burned-in time (ms) of a decoded picture's luma plane, or None if unreadable."""
    width = luma.shape[1]
    c = timecode.cell_size(width)
    x0, y0 = timecode.origin(width)
    mid = (timecode.LIGHT + timecode.DARK) / 2
    bits = [int(luma[y0 + c // 2, x0 + i * c + c // 2] > mid) for i in range(timecode.BITS)]
    value = timecode.decode(bits)
    return None if value is None else timecode.unwrap(value, around_ms)
