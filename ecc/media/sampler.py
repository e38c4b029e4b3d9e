"""Frames for analysis: a source decoded with PyAV as cheaply as the analysis allows.

H.264 cannot skip frames: every P frame refers to the one before, so each must be decoded (only
a stream's keyframes decode alone, and cameras send one every one to four seconds, too seldom
to time an event to half a second). What can be saved:

- the deblocking (loop) filter, `skip_loop_filter=all`: about a fifth of the decoding time.
  The filter is in the prediction loop, so skipping it lets small blocking errors build up
  until the next keyframe; at the ~160 px the detector looks at, after its blur, they vanish.
- one decoding thread per camera: threads add latency and overhead for one small stream, and
  the cameras of a worker run in parallel anyway.
- converting only the frames the detector will analyse, and only their luma plane (the Y of
  YUV is the grey picture, so no colour conversion at all); colour is made only for the few
  frames that become thumbnails.

Blocking (decoding, sleeping to pace a file): run `frames` in a thread of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from ecc.media.motion import THUMBNAIL_HEIGHT, Frame, Image

log = logging.getLogger(__name__)

# Pixel formats whose first plane is the full-resolution luma.
_PLANAR_LUMA = {
    "yuv420p",
    "yuvj420p",
    "yuv422p",
    "yuvj422p",
    "yuv444p",
    "yuvj444p",
    "nv12",
    "nv21",
    "gray",
}
# A live source whose frames come this much later than their time is not analysed until it
# catches up: decoding goes on (it must), analysis waits.
MAX_LAG_S = 1.0
# A live source's clock and ours may drift apart; past this, its frames are timed anew.
MAX_DRIFT_S = 2.0


@dataclass(frozen=True, slots=True)
class SourceOptions:
    url: str
    """rtsp://, http(s):// or a file."""
    realtime: bool = False
    """Pace a file at its own speed, as a camera sends it (for demos and latency figures)."""
    loop: bool = False
    """Start a file again at its end (the demo cameras of `ecc run`)."""
    cheap: bool = True
    """Skip the deblocking filter (see the module's note)."""
    open_timeout_s: float = 10.0
    read_timeout_s: float = 10.0

    @property
    def is_file(self) -> bool:
        return "://" not in self.url or self.url.startswith("file:")


@dataclass
class SamplerStats:
    decoded: int = 0
    sampled: int = 0
    lagging: int = 0
    """Frames decoded but not analysed because the source was late."""


class FrameSampler:
    def __init__(self, options: SourceOptions, stop: threading.Event) -> None:
        self.options = options
        self.stop = stop
        self.stats = SamplerStats()

    def frames(self, due: Callable[[float], bool]) -> Iterator[Frame]:
        """Frames of one pass over the source that `due(ts)` asks for; ends with the source or
        when `stop` is set. Raises av.error.FFmpegError when the source fails."""
        opts = self.options
        container_options = {"rtsp_transport": "tcp"} if opts.url.startswith("rtsp") else {}
        with av.open(
            opts.url,
            options=container_options,
            timeout=(opts.open_timeout_s, opts.read_timeout_s),
        ) as container:
            stream = container.streams.video[0]
            codec = stream.codec_context
            codec.thread_type = "NONE"
            codec.thread_count = 1
            if opts.cheap:
                codec.options = {"skip_loop_filter": "all"}
            time_base = float(stream.time_base) if stream.time_base else 1 / 90000
            anchor: tuple[float, float] | None = None
            for packet in container.demux(stream):
                if self.stop.is_set():
                    return
                for decoded in packet.decode():
                    self.stats.decoded += 1
                    if decoded.pts is None:
                        continue
                    pts = decoded.pts * time_base
                    now = time.time()
                    if anchor is None:
                        anchor = (now, pts)
                    ts = anchor[0] + (pts - anchor[1])
                    if opts.is_file and opts.realtime:
                        if ts > now and self.stop.wait(ts - now):
                            return
                    elif not opts.is_file:
                        if abs(now - ts) > MAX_DRIFT_S:
                            anchor, ts = (now, pts), now
                        elif now - ts > MAX_LAG_S:
                            self.stats.lagging += 1
                            continue
                    if not due(ts):
                        continue
                    self.stats.sampled += 1
                    yield Frame(_luma(decoded), ts, _still(decoded))


def _luma(frame: Any) -> Image:
    """The grey picture without a copy where the format allows: the Y plane as it is."""
    if frame.format.name in _PLANAR_LUMA:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        luma: Image = rows[:, : plane.width]
        return luma
    grey: Image = frame.to_ndarray(format="gray")
    return grey


def _still(frame: Any) -> Callable[[], Image]:
    def colour() -> Image:
        height = min(THUMBNAIL_HEIGHT, frame.height)
        width = max(2, round(frame.width * height / frame.height) // 2 * 2)
        image: Image = frame.reformat(width=width, height=height, format="bgr24").to_ndarray()
        return image

    return colour
