"""The recorder on real H.264: segments cut on keyframes, indexed once whole, decodable, timed
in wall time; a clean stop keeps everything; a slow or full disk never stops it."""

from __future__ import annotations

import asyncio
import errno
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ecc.bus.alerter import Alerter
from ecc.config import Settings
from ecc.media import mp4
from ecc.media.frames import VIDEO_CLOCK
from ecc.media.recorder import (
    Clock,
    Recorder,
    RecorderOptions,
    SegmentFile,
    segment_name,
    source_dir,
    start_of,
)
from ecc.media.recordings import Recordings
from ecc.storage import Store
from tests.support.recording import covered, decoded, feed, gop, stopped, units

CAM = "camera:quay"
T0 = 1_783_814_400.0  # 2026-07-12T00:00:00Z


def parts(folder: Path) -> list[Path]:
    """Files being written (or left half-written)."""
    return list(folder.rglob("*.part"))


@pytest.fixture
def executor() -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(2)
    yield pool  # type: ignore[misc]
    pool.shutdown()


def recorder(
    store: Store, data_dir: Path, executor: ThreadPoolExecutor, segment_s: float = 4.0
) -> Recorder:
    options = RecorderOptions(segment_s=segment_s, queue_fragments=1000, idle_close_s=60)
    return Recorder(CAM, store, data_dir, executor, options)


async def test_segments_are_cut_on_keyframes_indexed_whole_and_decode(
    store: Store, tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    r = recorder(store, tmp_path, executor)
    task = asyncio.create_task(r.run())
    feed(r, units(10.0), T0)
    await stopped(r, task)

    segments = store.recordings.range(CAM, 0, 2e9)
    assert [round(s.duration, 3) for s in segments] == [4.0, 4.0, 2.0]
    assert covered(segments) == [(segments[0].start, segments[-1].end)]
    # Wall time of the first picture: it arrived 50 ms after it was taken, and nothing earlier.
    assert segments[0].start == pytest.approx(T0 + 0.05, abs=1e-6)
    assert segments[0].keyframes == (0.0, 1.0, 2.0, 3.0)
    assert parts(tmp_path) == []
    frames = 0
    for s in segments:
        path = tmp_path / s.path
        assert path.stat().st_size == s.bytes
        assert start_of(s.path) == pytest.approx(s.start, abs=1e-3)
        assert s.codec == "avc1." + gop().units[0][0][1:4].hex()
        assert (s.width, s.height) == (160, 96)
        times = decoded(path)
        assert len(times) == round(s.duration * 25)
        frames += len(times)
    assert frames == 250
    assert r.counts.frames == 250 and r.counts.dropped_frames == 0 and r.counts.segments == 3
    # What the container adds to the H.264 it carries: under 1 kB per second (init sections,
    # one moof per GOP, 12 bytes per frame), 0.4 % of a 2 Mbit/s camera.
    payload = 10 * sum(sum(len(n) for n in u) for u in gop().units)
    written = sum(s.bytes for s in segments)
    assert (written - payload) / 10 < 1000


async def test_b_frames_keep_their_order_and_times(
    store: Store, tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    source = gop(bframes=2)
    assert list(source.offsets) != sorted(source.offsets), "the encoder made no B-frames"
    r = recorder(store, tmp_path, executor)
    task = asyncio.create_task(r.run())
    feed(r, units(5.0, start_pts=123_456, source=source), T0)
    await stopped(r, task)
    segments = store.recordings.range(CAM, 0, 2e9)
    assert [round(s.duration, 3) for s in segments] == [4.0, 1.0]
    times = decoded(tmp_path / segments[0].path)
    # Every picture, shown in order, 40 ms apart, the first at the start of the file's media time.
    assert len(times) == 100
    steps = {round(b - a, 4) for a, b in itertools.pairwise(times)}
    assert steps == {0.04}


async def test_a_jump_in_the_sources_timestamps_starts_a_new_segment(
    store: Store, tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    r = recorder(store, tmp_path, executor, segment_s=10.0)
    task = asyncio.create_task(r.run())
    end = feed(r, units(3.0), T0)
    # The camera reconnects 7 s later and counts from 0 again.
    feed(r, units(2.0, start_pts=0), end + 7.0)
    await stopped(r, task)
    segments = store.recordings.range(CAM, 0, 2e9)
    assert [round(s.duration, 3) for s in segments] == [3.0, 2.0]
    gap = segments[1].start - segments[0].end
    assert 6.9 < gap < 7.1


async def test_new_parameters_start_a_segment_with_their_own_init(
    store: Store, tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    r = recorder(store, tmp_path, executor, segment_s=10.0)
    task = asyncio.create_task(r.run())
    feed(r, units(2.0), T0)
    feed(r, units(2.0, start_pts=2 * VIDEO_CLOCK, source=gop(width=192)), T0 + 2.0)
    await stopped(r, task)
    first, second = store.recordings.range(CAM, 0, 2e9)
    assert (first.width, second.width) == (160, 192)
    assert first.init_id != second.init_id
    assert second.start == pytest.approx(first.end, abs=0.01)


async def test_a_source_gone_quiet_has_its_segment_closed_and_indexed(
    store: Store, tmp_path: Path, executor: ThreadPoolExecutor
) -> None:
    options = RecorderOptions(segment_s=10.0, queue_fragments=100, idle_close_s=0.2)
    r = Recorder(CAM, store, tmp_path, executor, options)
    task = asyncio.create_task(r.run())
    feed(r, units(2.0), T0)
    try:
        for _ in range(100):
            if store.recordings.range(CAM, 0, 2e9):
                break
            await asyncio.sleep(0.05)
        segments = store.recordings.range(CAM, 0, 2e9)
        assert [round(s.duration, 2) for s in segments] == [2.0]
    finally:
        await stopped(r, task)


async def test_a_slow_disk_drops_whole_gops_and_recording_goes_on(
    store: Store, tmp_path: Path
) -> None:
    gate = threading.Event()
    pool = ThreadPoolExecutor(1)
    try:
        # The writer's only thread is held: queued GOPs pile up to the limit, then drop.
        pool.submit(gate.wait)
        options = RecorderOptions(segment_s=10.0, queue_fragments=3, idle_close_s=60)
        r = Recorder(CAM, store, tmp_path, pool, options)
        task = asyncio.create_task(r.run())
        feed(r, units(8.0), T0)
        gate.set()
        await stopped(r, task)
    finally:
        gate.set()
        pool.shutdown()
    assert r.counts.dropped_frames == 25 * 4  # GOPs 4 to 7 found the queue full
    segments = store.recordings.range(CAM, 0, 2e9)
    # What was kept: the first three seconds, then (a new segment) the last one.
    assert [round(s.duration, 3) for s in segments] == [3.0, 1.0]
    for s in segments:
        assert len(decoded(tmp_path / s.path)) == round(s.duration * 25)


async def test_a_full_disk_raises_an_alert_and_recording_resumes_after(
    store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[bytes] = []
    alerter = Alerter(store, lambda topic, payload: published.append(payload), "ecc/v1/alerts")
    recording = settings.recording.model_copy(update={"segment_s": 2.0, "queue_fragments": 1000})
    recordings = Recordings(store, tmp_path, recording, {CAM: 30}, alerter)
    full = threading.Event()
    full.set()
    original = SegmentFile.append

    def append(self: SegmentFile, fragment: object) -> int:
        if full.is_set():
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, fragment)  # type: ignore[arg-type]

    monkeypatch.setattr(SegmentFile, "append", append)
    monkeypatch.setattr("ecc.media.recorder.RETRY_AFTER_FAILURE_S", 0.0)
    task = asyncio.create_task(recordings.run())
    r = recordings.recorders[CAM]
    try:
        end = feed(r, units(3.0), T0)
        alert = await _eventually(
            lambda: store.alerts.find_open("camera", "quay", "recording_failed", None)
        )
        assert alert.severity == "danger" and "磁盘已满" in alert.message
        assert parts(tmp_path) == [], "the failed segment is not left behind"
        full.clear()
        feed(r, units(4.0, start_pts=3 * VIDEO_CLOCK), end)
        await _eventually(
            lambda: store.alerts.find_open("camera", "quay", "recording_failed", None) is None
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert r.counts.write_errors >= 1
    assert store.recordings.range(CAM, 0, 2e9), "recording resumed"
    assert len(published) == 2  # raised, resolved


async def _eventually(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def test_the_clock_follows_the_earliest_arrival_and_drift() -> None:
    clock = Clock(1000, T0 + 0.9)  # the first unit came late (buffered while probing)
    for i in range(1, 50):
        clock.observe(1000 + i * 3600, T0 + i * 0.04 + 0.1 + (0.3 if i % 7 == 0 else 0))
    assert clock.wall(1000) == pytest.approx(T0 + 0.1)
    # A camera clock 100 ppm slow: 12 ms behind after two minutes, which the clock follows (it
    # lags by the drift over its 30 s window, 3 ms).
    for i in range(50, 3000):
        clock.observe(1000 + i * 3600, T0 + i * 0.04 * 1.0001 + 0.1)
    due = T0 + 2999 * 0.04 * 1.0001 + 0.1
    assert clock.wall(1000 + 2999 * 3600) == pytest.approx(due, abs=0.004)
    assert clock.breaks(1000 + 3000 * 3600 + 6 * VIDEO_CLOCK)
    assert clock.breaks(1000)
    assert not clock.breaks(1000 + 2998 * 3600)


def test_segment_paths_name_their_start_in_utc() -> None:
    name = segment_name("vehicle:cmd-1", T0 + 3600 * 8 + 5.25)
    assert name == "recordings/vehicle/cmd-1/2026-07-12/08/080005.250.mp4"
    assert start_of(name) == T0 + 3600 * 8 + 5.25
    assert start_of(name + ".part") == T0 + 3600 * 8 + 5.25
    for bad in ("camera", "camera:", "camera:../x", "camera:a/b"):
        with pytest.raises(ValueError):
            source_dir(bad)
    with pytest.raises(ValueError):
        start_of("recordings/camera/x/2026-07-12/09/080005.250.mp4")


def test_sps_sizes_are_read_with_cropping() -> None:
    # 90 lines are coded as 96 (whole macroblocks) and cropped, as 1080 is from 1088.
    for width, height in ((160, 96), (192, 96), (160, 90)):
        units = gop(width=width, height=height).units[0]
        sets = mp4.parameter_sets(units)
        assert sets is not None
        track = mp4.Track.of(*sets)
        assert (track.width, track.height) == (width, height)
