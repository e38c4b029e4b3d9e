"""The recorder: one source's encoded H.264 into segment files, each indexed once it is whole.

A packet consumer with one entry point, `push(unit, wall)`: an access unit (NAL units, its
presentation time on the 90 kHz clock, whether it is a keyframe) and the wall time it arrived.
Stream parameters come in band: SPS and PPS travel in front of every keyframe on both paths that
feed it (the camera reader and the hub's forwarder put them there), and a change of them starts a
new segment with a new init section. Nothing is decoded or encoded: units are only re-framed for
MP4 (start codes become lengths, see ecc.media.mp4).

How a segment comes to be:

1. On the event loop, units gather into GOPs; at each keyframe the finished GOP becomes one
   fragment (decode times, durations and composition offsets worked out) and joins a bounded
   queue. A GOP that finds the queue full (the disk is slower than the source) is dropped whole,
   so what reaches the disk still starts at a keyframe; the segment ends there.
2. The recorder's task hands each fragment to a thread of the recordings' executor, which
   appends it (moof + mdat, one write) to `<name>.mp4.part`.
3. When the segment reaches `segment_s` (at the first keyframe at or after it) the file is
   flushed, fsync'd, renamed to its final name and the directory fsync'd; then it is indexed.

A crash loses at most the `.part` being written, and the reconcile at the next start salvages
its complete fragments (ecc.media.reconcile); the index never names a file that is not whole.

Wall time: a source's clock is its own. Each unit's arrival gives an upper bound on when its
picture was taken; the earliest such bound over the last 30 s of the stream (a frame may arrive
late, never early) anchors the source's timestamps to wall time, and follows clock drift. A jump
of the source's timestamps (a restart, a new publisher) starts a new run: a new segment and anchor.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import functools
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from ecc.media import mp4
from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.storage import Store, StoreError
from ecc.storage.models import SEGMENT_MAX_S, Segment

log = logging.getLogger(__name__)

ROOT = "recordings"
PART = ".part"
WINDOW_S = 30.0
# A step of the source's timestamps beyond these is a new run (a restart, another publisher).
MAX_BACK_S = 1.0
MAX_GAP_S = 5.0
GOP_MAX_BYTES = 64 * 1024 * 1024
KEYFRAME_REQUEST_EVERY_S = 1.0
RETRY_AFTER_FAILURE_S = 5.0
PENDING_INDEX_MAX = 1000

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RecorderOptions:
    segment_s: float = 10.0
    queue_fragments: int = 16
    """GOPs waiting for the disk, at most; past it a new GOP is dropped."""
    idle_close_s: float = 3.0
    """A source that sends nothing this long has its segment closed (and indexed)."""


@dataclass
class RecorderCounts:
    frames: int = 0
    fragments: int = 0
    segments: int = 0
    bytes: int = 0
    dropped_frames: int = 0
    """Frames not recorded: before the first keyframe, or in GOPs dropped for a slow disk."""
    write_errors: int = 0
    index_errors: int = 0


# -- where segments live --------------------------------------------------------------------


def source_dir(source: str) -> str:
    """`camera:dam-east` -> `recordings/camera/dam-east` (ids are [a-z0-9-])."""
    kind, _, ident = source.partition(":")
    if not kind or not ident or "/" in ident or ident.startswith("."):
        raise ValueError(f"not a source id: {source!r}")
    return f"{ROOT}/{kind}/{ident}"


def segment_name(source: str, wall: float) -> str:
    """Relative path of a segment starting at `wall`: one folder per UTC day and hour."""
    t = datetime.fromtimestamp(wall, tz=UTC)
    return f"{source_dir(source)}/{t:%Y-%m-%d}/{t:%H}/{t:%H%M%S}.{t.microsecond // 1000:03d}.mp4"


def start_of(name: str) -> float:
    """The wall time a segment's path names (inverse of `segment_name`); ValueError if none."""
    parts = name.removesuffix(PART).split("/")
    if len(parts) < 3 or not parts[-1].endswith(".mp4"):
        raise ValueError(f"not a segment path: {name!r}")
    day, hour, stem = parts[-3], parts[-2], parts[-1].removesuffix(".mp4")
    clock, _, ms = stem.partition(".")
    t = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H%M%S").replace(tzinfo=UTC)
    if f"{t:%H}" != hour or len(ms) != 3:
        raise ValueError(f"not a segment path: {name!r}")
    return t.timestamp() + int(ms) / 1000


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (POSIX: the directory entry is the directory's data)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the file being written (a thread of the executor) ---------------------------------------


@dataclass(frozen=True, slots=True)
class Fragment:
    """One GOP, ready for the file: units in decode order and their MP4 timing."""

    units: list[list[bytes]]
    durations: list[int]
    ctos: list[int]
    base_dts: int
    """Decode time of the first unit on the run's media timeline (90 kHz)."""
    wall: float
    """Wall time of the fragment's first picture shown, as the clock has it now."""
    clock: Clock
    first_pts: int
    """The source's time of that picture: the clock maps it again when the segment ends."""
    track: mp4.Track
    new_segment: bool

    @property
    def duration(self) -> int:
        return sum(self.durations)


class SegmentFile:
    """One segment being written under a temporary name; blocking, for the executor."""

    def __init__(self, data_dir: Path, source: str, first: Fragment) -> None:
        self.data_dir = data_dir
        self.source = source
        self.track = first.track
        self.base_dts = first.base_dts
        self.temp = data_dir / (segment_name(source, first.wall) + PART)
        self.temp.parent.mkdir(parents=True, exist_ok=True)
        self._init = mp4.init_section(first.track)
        self._file = self.temp.open("wb")
        self.size = 0
        self.duration = 0
        self.keyframes: list[float] = []
        self._sequence = 0
        try:
            self._write(self._init)
        except BaseException:
            self.abort()
            raise

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)

    def append(self, fragment: Fragment) -> int:
        """Write one fragment whole (one write call); returns its size in bytes."""
        samples: list[mp4.Sample] = []
        data: list[bytes] = []
        for i, (units, duration, cto) in enumerate(
            zip(fragment.units, fragment.durations, fragment.ctos, strict=True)
        ):
            sample = mp4.avcc_sample(units)
            data.append(sample)
            samples.append(mp4.Sample(len(sample), duration, cto, i == 0))
        self._sequence += 1
        box = mp4.fragment(self._sequence, fragment.base_dts, samples, b"".join(data))
        self.keyframes.append((fragment.base_dts - self.base_dts) / VIDEO_CLOCK)
        self._write(box)
        # Flushed per fragment: a crash loses at most the fragment in Python's buffer.
        self._file.flush()
        self.duration = fragment.base_dts + fragment.duration - self.base_dts
        return len(box)

    def finish(self, start: float) -> Segment:
        """fsync, rename to the final name (from the segment's wall time `start`), fsync the
        folder: the file is whole on disk."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        name = segment_name(self.source, start)
        while (self.data_dir / name).exists():  # two segments of one millisecond: never seen
            start += 0.001
            name = segment_name(self.source, start)
        path = self.data_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.temp.rename(path)
        fsync_dir(path.parent)
        if path.parent != self.temp.parent:
            fsync_dir(self.temp.parent)
        return Segment(
            source=self.source,
            start=start,
            end=start + self.duration / VIDEO_CLOCK,
            path=name,
            bytes=self.size,
            init_bytes=len(self._init),
            keyframes=tuple(round(k, 6) for k in self.keyframes),
            codec=self.track.codec,
            width=self.track.width,
            height=self.track.height,
            init_id=mp4.init_id(self._init),
        )

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


# -- the source's clock ---------------------------------------------------------------------


class Clock:
    """Maps one run of a source's 90 kHz timestamps to wall time and to a media timeline."""

    def __init__(self, pts: int, wall: float) -> None:
        self.pts0 = pts
        self.last_pts = pts
        self.media_base = round(wall * VIDEO_CLOCK)
        # (pts, candidate offset) with increasing offsets: the window's minimum is first.
        self._window: deque[tuple[int, float]] = deque()
        self.offset = wall
        self.observe(pts, wall)

    def breaks(self, pts: int) -> bool:
        step = (pts - self.last_pts) / VIDEO_CLOCK
        return step < -MAX_BACK_S or step > MAX_GAP_S

    def observe(self, pts: int, wall: float) -> None:
        candidate = wall - (pts - self.pts0) / VIDEO_CLOCK
        window = self._window
        while window and window[-1][1] >= candidate:
            window.pop()
        window.append((pts, candidate))
        horizon = pts - WINDOW_S * VIDEO_CLOCK
        while len(window) > 1 and window[0][0] < horizon:
            window.popleft()
        self.offset = window[0][1]
        self.last_pts = max(self.last_pts, pts)

    def wall(self, pts: int) -> float:
        return self.offset + (pts - self.pts0) / VIDEO_CLOCK

    def media(self, pts: int) -> int:
        return self.media_base + (pts - self.pts0)


# -- the recorder ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Finish:
    """End the segment being written (the source went quiet or stopped)."""


@dataclass
class _Run:
    clock: Clock
    delay: int = 0
    """Reorder delay (B-frames): decode times run this far behind presentation times."""
    track: mp4.Track | None = None


@dataclass
class Recorder:
    """Records one source; `push` from the event loop, `run` as a task that owns the writing."""

    source: str
    store: Store
    data_dir: Path
    executor: Executor | None = None
    """Where files are written; set before `run` (the recordings' own thread pool)."""
    options: RecorderOptions = field(default_factory=RecorderOptions)
    on_failure: Callable[[str, OSError], None] = lambda source, exc: None
    on_success: Callable[[str], None] = lambda source: None
    request_keyframe: Callable[[], None] | None = None
    """Asks the source for a keyframe (a vehicle's browser encodes one on a PLI); cameras passed
    through cannot, and their segments end at their own keyframes."""
    motion_seen: Callable[[float, float], bool | None] = lambda start, end: None
    """Whether motion analysis saw movement in [start, end] (Segment.motion); None when nothing
    analyses the source. Called from the recordings' thread, as a segment is indexed."""
    counts: RecorderCounts = field(default_factory=RecorderCounts)

    def __post_init__(self) -> None:
        self._run: _Run | None = None
        self._gop: list[AccessUnit] = []
        self._gop_bytes = 0
        self._segment_ticks = 0
        self._cut = True
        self._items: deque[Fragment | _Finish] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._last_push = 0.0
        self._keyframe_asked = 0.0
        self._closed = False
        self._writing: _Writer | None = None
        self._written_at: float | None = None
        self._failing = False

    @property
    def recording(self) -> bool:
        """Writing now: a fragment reached the disk within the last two segments' time, and
        the last write did not fail."""
        return (
            not self._failing
            and self._written_at is not None
            and time.monotonic() - self._written_at < 2 * max(self.options.segment_s, 5.0)
        )

    # -- the event loop's side ----------------------------------------------------------------

    def push(self, unit: AccessUnit, wall: float) -> None:
        """Take one access unit that arrived at `wall`. Never blocks."""
        if self._closed:
            return
        self.counts.frames += 1
        self._last_push = time.monotonic()
        run = self._run
        if run is None or run.clock.breaks(unit.pts):
            if run is not None:
                log.info("%s: the source's timestamps jumped; a new segment starts", self.source)
            self.restart()
            run = self._run = _Run(Clock(unit.pts, wall))
        else:
            run.clock.observe(unit.pts, wall)
        if unit.keyframe:
            if self._gop:
                self._end_gop(unit.pts)
            self._gop, self._gop_bytes = [unit], unit.size
        elif self._gop:
            self._gop.append(unit)
            self._gop_bytes += unit.size
            if self._gop_bytes > GOP_MAX_BYTES:
                log.warning("%s: a GOP outgrew %d bytes; dropped", self.source, GOP_MAX_BYTES)
                self._drop(len(self._gop))
                self._gop, self._gop_bytes = [], 0
        else:
            self.counts.dropped_frames += 1
        self._maybe_ask_keyframe(unit)

    def restart(self) -> None:
        """The source starts over (new publisher, reconnected camera): end what was going on."""
        if self._gop:
            self._end_gop(None)
        self._gop, self._gop_bytes = [], 0
        self._run = None
        self._cut = True
        self._enqueue(_Finish())

    def _maybe_ask_keyframe(self, unit: AccessUnit) -> None:
        if self.request_keyframe is None or not self._gop or unit.keyframe:
            return
        elapsed = self._segment_ticks + (unit.pts - self._gop[0].pts)
        now = time.monotonic()
        if (
            elapsed >= self.options.segment_s * VIDEO_CLOCK
            and now - self._keyframe_asked >= KEYFRAME_REQUEST_EVERY_S
        ):
            self._keyframe_asked = now
            self.request_keyframe()

    def _end_gop(self, next_pts: int | None, bounded: bool = True) -> None:
        """Turn the gathered GOP into a fragment and queue it; `next_pts` is the presentation
        time of the keyframe after it (None: estimate the last frame's duration). `bounded`:
        drop it if the queue is full (not when closing, which writes everything queued)."""
        run, gop = self._run, self._gop
        assert run is not None and gop
        self._gop, self._gop_bytes = [], 0
        units = [u.units for u in gop]
        sets = mp4.parameter_sets(gop[0].units)
        if sets is None and run.track is None:
            self._drop(len(gop))
            log.warning("%s: a keyframe without SPS/PPS; its GOP is dropped", self.source)
            return
        if sets is not None and (run.track is None or sets != (run.track.sps, run.track.pps)):
            try:
                track = mp4.Track.of(*sets)
            except ValueError as exc:
                self._drop(len(gop))
                log.warning("%s: unreadable SPS (%s); its GOP is dropped", self.source, exc)
                return
            if run.track is not None:
                self._cut = True  # new parameters: a new init section, a new segment
            run.track = track
        assert run.track is not None
        pts = [u.pts for u in gop]
        order = sorted(pts)
        # Decode times are the presentation times in order, held back by the reorder delay so
        # that no composition offset is negative (see ecc.media.mp4).
        delay = max(0, *(o - p for o, p in zip(order, pts, strict=True)))
        if delay > run.delay:
            run.delay = delay
            self._cut = self._cut or self._segment_ticks > 0
        dts = [o - run.delay for o in order]
        if next_pts is not None:
            last = next_pts - run.delay - dts[-1]
        else:
            steps = sorted(b - a for a, b in itertools.pairwise(order))
            last = steps[len(steps) // 2] if steps else VIDEO_CLOCK // 25
        durations = [max(1, b - a) for a, b in itertools.pairwise(dts)] + [max(1, last)]
        fragment_ticks = sum(durations)
        target = self.options.segment_s * VIDEO_CLOCK
        new_segment = (
            self._cut
            or self._segment_ticks >= target - VIDEO_CLOCK / 100
            or (self._segment_ticks + fragment_ticks) / VIDEO_CLOCK > SEGMENT_MAX_S
        )
        self._cut = False
        self._segment_ticks = (0 if new_segment else self._segment_ticks) + fragment_ticks
        fragment = Fragment(
            units=units,
            durations=durations,
            ctos=[p - d for p, d in zip(pts, dts, strict=True)],
            base_dts=run.clock.media(dts[0]),
            wall=run.clock.wall(order[0]),
            clock=run.clock,
            first_pts=order[0],
            track=run.track,
            new_segment=new_segment,
        )
        if bounded and self._queued >= self.options.queue_fragments:
            # The disk is behind: drop this GOP whole; the segment being written ends before it.
            self._drop(len(units))
            self._cut = True
            return
        self._enqueue(fragment)

    def _drop(self, frames: int) -> None:
        self.counts.dropped_frames += frames

    def _enqueue(self, item: Fragment | _Finish) -> None:
        if isinstance(item, Fragment):
            self._queued += 1
        elif self._items and isinstance(self._items[-1], _Finish):
            return
        self._items.append(item)
        self._wake.set()

    # -- the task -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Write what is queued until cancelled; then end the segment being written (a clean
        stop loses nothing)."""
        writer = self._writer()
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.options.idle_close_s / 2)
                except TimeoutError:
                    self._check_idle()
                self._wake.clear()
                while self._items:
                    item = self._items.popleft()
                    if isinstance(item, Fragment):
                        self._queued -= 1
                    await writer.take(item)
        finally:
            await asyncio.shield(self.close())

    async def close(self) -> None:
        """Stop taking units, write what is queued and end the segment: it is indexed.
        Idempotent; the owner calls it too, for a recorder whose task never got to run."""
        if self._closed and not self._items:
            return
        self._closed = True
        if self._gop and self._run is not None:
            self._end_gop(None, bounded=False)
        self._items.append(_Finish())
        writer = self._writer()
        while self._items:
            item = self._items.popleft()
            await writer.take(item)
        self._queued = 0

    def _writer(self) -> _Writer:
        if self._writing is None:
            self._writing = _Writer(self, asyncio.get_running_loop())
        return self._writing

    def _check_idle(self) -> None:
        if self._gop and time.monotonic() - self._last_push > self.options.idle_close_s:
            log.info(
                "%s: silent for %.0f s; segment closed", self.source, self.options.idle_close_s
            )
            self.restart()


class _Writer:
    """The recorder's task's side: the segment file (in the executor), indexing, failures."""

    def __init__(self, recorder: Recorder, loop: asyncio.AbstractEventLoop) -> None:
        self.recorder = recorder
        self.loop = loop
        self.file: SegmentFile | None = None
        self.first: Fragment | None = None
        """The first fragment of the file being written: its wall time is fixed at the end."""
        self.failed_at: float | None = None
        self.pending: list[Segment] = []

    async def _call(self, fn: Callable[[], _T]) -> _T:
        executor = self.recorder.executor
        assert executor is not None, "set the recorder's executor before running it"
        return await self.loop.run_in_executor(executor, fn)

    async def take(self, item: Fragment | _Finish) -> None:
        r = self.recorder
        if isinstance(item, _Finish):
            await self._finish()
            return
        if self.failed_at is not None:
            if time.monotonic() - self.failed_at < RETRY_AFTER_FAILURE_S:
                r.counts.dropped_frames += len(item.units)
                return
            self.failed_at = None
        try:
            if item.new_segment or self.file is None:
                await self._finish()
                self.file = await self._call(lambda: SegmentFile(r.data_dir, r.source, item))
                self.first = item
            file = self.file
            size = await self._call(lambda: file.append(item))
        except OSError as exc:
            await self._failed(exc, len(item.units))
            return
        r.counts.fragments += 1
        r.counts.bytes += size
        r._written_at = time.monotonic()
        r._failing = False

    async def _finish(self) -> None:
        file, self.file = self.file, None
        first, self.first = self.first, None
        if file is None or first is None:
            return
        r = self.recorder
        # Mapped now, a segment later: the clock has seen the stream settle since its start (a
        # camera's first second comes in a burst, buffered while its stream was probed).
        start = first.clock.wall(first.first_pts)
        try:
            segment = await self._call(functools.partial(file.finish, start))
        except OSError as exc:
            await self._call(file.abort)
            await self._failed(exc, 0)
            return
        r.counts.segments += 1
        self.pending.append(segment)
        await self._index()
        r.on_success(r.source)

    async def _index(self) -> None:
        """Index what is written; what the store refuses now is tried again at the next
        segment (and a file never indexed is found by the reconcile at the next start)."""
        r = self.recorder
        while self.pending:
            segment = self.pending[0]
            try:
                await self._call(functools.partial(_add, r, segment))
            except StoreError as exc:
                r.counts.index_errors += 1
                log.warning("%s: cannot index %s yet: %s", r.source, segment.path, exc)
                del self.pending[:-PENDING_INDEX_MAX]
                return
            self.pending.pop(0)

    async def _failed(self, exc: OSError, frames: int) -> None:
        r = self.recorder
        file, self.file = self.file, None
        self.first = None
        if file is not None:
            await self._call(file.abort)
        r.counts.write_errors += 1
        r.counts.dropped_frames += frames
        r._failing = True
        self.failed_at = time.monotonic()
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        log.error("%s: recording failed (%s)", r.source, "disk full" if full else exc)
        r.on_failure(r.source, exc)


def _add(recorder: Recorder, segment: Segment) -> None:
    """Index a segment with its motion flag as the analysis knows it now; an event that the
    analysis stores later marks the segments it covers (RecordingRepo.mark_motion)."""
    motion = recorder.motion_seen(segment.start, segment.end)
    recorder.store.recordings.add(dataclasses.replace(segment, motion=motion))
