"""Frames for analysis: a source decoded with PyAV as cheaply as the analysis allows.

Two ways in: `FrameSampler` opens the source itself (tests, the benchmark, a motion worker
alone); `UnitFeed` decodes the access units of a stream that the camera worker already pulls,
so that a camera is connected to once however many parts use its stream.

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

import fractions
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from ecc.media.frames import VIDEO_CLOCK, AccessUnit
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
# A fed stream that brings nothing for this long has stopped (the camera is offline): the
# pass over it ends, so that the events going on end too.
QUIET_S = 5.0
START_CODE = b"\x00\x00\x00\x01"
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)


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


@dataclass
class FeedStats:
    received: int = 0
    dropped: int = 0
    """Units never decoded: the queue was full (or they followed a dropped unit)."""
    decoded: int = 0
    sampled: int = 0
    lagging: int = 0
    errors: int = 0
    """Units the decoder refused (the feed then waits for the next keyframe)."""


class UnitFeed:
    """Access units of a stream pulled elsewhere, decoded in the analysis thread.

    `push` is a StreamPipeline listener: it runs on the event loop, so it only queues. The
    queue is bounded (units and bytes); when it is full the unit is dropped, and so is every
    unit after it up to the next keyframe, because a P frame decoded without the frames it
    refers to is a smear, not a picture. The analysis thereby falls behind by at most one queue
    and catches up at a keyframe, and the camera's other users never wait for it.
    """

    def __init__(
        self,
        name: str,
        max_units: int = 150,
        max_bytes: int = 8 * 1024 * 1024,
        quiet_s: float = QUIET_S,
    ) -> None:
        self.name = name
        self.max_units = max_units
        self.max_bytes = max_bytes
        self.quiet_s = quiet_s
        self.stats = FeedStats()
        self._units: deque[AccessUnit] = deque()
        self._bytes = 0
        self._skipping = True
        """Dropping until the next keyframe (also at the start: nothing decodes before one)."""
        self._ready = threading.Condition()

    def push(self, unit: AccessUnit, now: float = 0.0) -> None:
        """Queue a unit (a pipeline Listener; `now` is not needed: a unit carries the time
        the reader had it)."""
        with self._ready:
            self.stats.received += 1
            full = len(self._units) >= self.max_units or self._bytes + unit.size > self.max_bytes
            if unit.keyframe and (self._skipping or full):
                if full:
                    # Far behind: what waits is older than this keyframe, and useless after it.
                    self.stats.dropped += len(self._units)
                    self._units.clear()
                    self._bytes = 0
                self._skipping = False
            elif self._skipping or full:
                self._skipping = True
                self.stats.dropped += 1
                return
            self._units.append(unit)
            self._bytes += unit.size
            self._ready.notify()

    def wake(self) -> None:
        """Wake the analysis thread (to see that it is asked to stop)."""
        with self._ready:
            self._ready.notify_all()

    def _next(self, stop: threading.Event) -> AccessUnit | None:
        """The oldest queued unit; None when the stream stays quiet for `quiet_s`, or at stop."""
        deadline = time.monotonic() + self.quiet_s
        with self._ready:
            while not self._units:
                left = deadline - time.monotonic()
                if stop.is_set() or left <= 0:
                    return None
                self._ready.wait(left)
            unit = self._units.popleft()
            self._bytes -= unit.size
            return unit

    def frames(self, due: Callable[[float], bool], stop: threading.Event) -> Iterator[Frame]:
        """Frames that `due(ts)` asks for, until the stream goes quiet or `stop` is set.

        Each pass starts a decoder of its own, from the next keyframe."""
        codec = av.CodecContext.create("h264", "r")
        codec.thread_type = "NONE"
        codec.thread_count = 1
        codec.options = {"skip_loop_filter": "all"}
        anchor: tuple[float, float] | None = None
        waiting_for_key = True
        while not stop.is_set():
            unit = self._next(stop)
            if unit is None:
                return
            if waiting_for_key and not unit.keyframe:
                self.stats.dropped += 1
                continue
            waiting_for_key = False
            packet = av.Packet(b"".join(START_CODE + nal for nal in unit.units))
            packet.pts = unit.pts
            packet.time_base = VIDEO_TIME_BASE
            try:
                decoded_frames = codec.decode(packet)
            except av.error.FFmpegError as exc:
                log.debug("%s: undecodable unit: %s", self.name, exc)
                self.stats.errors += 1
                waiting_for_key = True
                continue
            # The unit's wall time: when the reader had it from the camera.
            captured = time.time() - (time.monotonic() - unit.captured) if unit.captured else 0
            for decoded in decoded_frames:
                self.stats.decoded += 1
                pts = (decoded.pts if decoded.pts is not None else unit.pts) / VIDEO_CLOCK
                now = time.time()
                seen = captured or now
                if anchor is None or abs(seen - (anchor[0] + pts - anchor[1])) > MAX_DRIFT_S:
                    # First frame, or the stream restarted with another clock.
                    anchor = (seen, pts)
                ts = anchor[0] + (pts - anchor[1])
                if now - ts > MAX_LAG_S:
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
