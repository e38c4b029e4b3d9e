"""Recording a real RTSP camera with the real `ecc ingest cameras` process, as deployed.

A real clip (Main profile, B-frames, 10 fps, a keyframe a second) served by GStreamer's RTSP
server is recorded for over a minute; the worker is then killed with SIGKILL in the middle of a
segment and started again. One recording serves the tests of this module: coverage and timing,
the index and the disk after the crash, and a clip of it exported by the center.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import pytest

from ecc import times
from ecc.bus.broker import PrivateBroker, free_port
from ecc.config import load_settings
from ecc.media import mp4
from ecc.storage import Store, open_store
from ecc.storage.models import Segment
from tests.support.center import RunningCenter
from tests.support.recording import covered, decoded
from tests.support.video import (
    MAIN_PROFILE_CLIP,
    WorkerProcess,
    rtsp_cameras,
    video_settings,
    video_site,
    wait_for,
)

pytestmark = pytest.mark.slow

CAMERA = "person-cam"
SOURCE = f"camera:{CAMERA}"
SEGMENT_S = 10.0
RECORD_S = 60.0
FPS = 10


@dataclass
class Recorded:
    store: Store
    center: RunningCenter
    data_dir: Path
    before_kill: list[Segment]
    """Whole segments indexed before the kill."""
    indexed_at: dict[str, float]
    """Monotonic time each of them appeared in the index, as the test saw it."""
    part_at_kill: str
    """The file being written when the worker was killed."""
    logs: list[str] = field(default_factory=list)


def _segments(store: Store) -> list[Segment]:
    return store.recordings.range(SOURCE, 0, 4e9)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    folder = tmp_path_factory.mktemp("recording")
    cameras = rtsp_cameras({"/person/main": f"clip:{MAIN_PROFILE_CLIP}"})
    broker = PrivateBroker(folder / "mosquitto")
    broker.start()
    settings = load_settings(
        database_url=f"sqlite:///{folder}/ecc.db",
        data_dir=str(folder / "var"),
        http_port=free_port(),
        secret="test-secret-not-for-production",
        mqtt_url=broker.url,
    )
    settings = video_settings(settings)
    site = video_site([{"id": CAMERA, "main": cameras.url("/person/main"), "record": True}])
    store = open_store(settings.database_url)
    center = RunningCenter(settings, site, store).start()
    center.add_users()
    data_dir = Path(settings.data_dir)
    logs: list[str] = []
    try:
        worker = WorkerProcess(settings, site, folder, center.url).start()
        indexed_at: dict[str, float] = {}

        def recorded_a_minute() -> bool:
            for s in _segments(store):
                indexed_at.setdefault(s.path, time.monotonic())
            whole = _segments(store)
            return bool(whole) and sum(s.duration for s in whole) >= RECORD_S

        try:
            wait_for(recorded_a_minute, 120, "a minute of recording")

            # Into the next segment: killed with two whole fragments in its .part, and a third
            # on its way.
            def part_with_fragments() -> Path | None:
                for part in data_dir.rglob("*.part"):
                    with part.open("rb") as f:
                        if len(mp4.read_layout(f, part.stat().st_size).fragments) >= 2:
                            return part
                return None

            part: Path = wait_for(part_with_fragments, 30, "a segment under way")
            worker.kill()
        finally:
            logs += worker.stop().splitlines()
        before_kill = _segments(store)
        assert part.exists()
        part_at_kill = part.relative_to(data_dir).as_posix()
        # Started again: it reconciles, records, and is stopped cleanly.
        again = WorkerProcess(settings, site, folder, center.url).start()
        try:
            final = part_at_kill.removesuffix(".part")
            wait_for(
                lambda: final in {s.path for s in _segments(store)}, 60, "the salvaged segment"
            )
        finally:
            logs += again.stop().splitlines()
        yield Recorded(store, center, data_dir, before_kill, indexed_at, part_at_kill, logs)
    finally:
        center.stop()
        store.close()
        broker.stop()
        cameras.stop()


def test_a_minute_of_a_real_camera_is_covered_without_gaps_at_wall_time(
    recorded: Recorded,
) -> None:
    segments = recorded.before_kill
    assert sum(s.duration for s in segments) >= RECORD_S
    # No gap longer than one segment (there is none at all: the spans join).
    spans = covered(segments, tolerance=SEGMENT_S)
    assert len(spans) == 1, spans
    assert len(covered(segments, tolerance=0.5)) == 1
    for s in segments[:-1]:
        assert SEGMENT_S <= s.duration < SEGMENT_S + 1.01  # cut at the first keyframe after
    # Recorded time against wall time: from the first segment's indexing to the last's, the
    # segments in between cover as long as the test's own clock measured.
    first, last = segments[0], segments[-1]
    wall = recorded.indexed_at[last.path] - recorded.indexed_at[first.path]
    media = sum(s.duration for s in segments[1:])
    assert media == pytest.approx(wall, rel=0.02)
    # And their index times agree with the pictures in them: 10 frames a second of wall time.
    frames = 0
    for s in segments:
        times = decoded(recorded.data_dir / s.path)
        assert len(times) == pytest.approx(s.duration * FPS, abs=1)
        frames += len(times)
    assert frames / FPS == pytest.approx(last.end - first.start, rel=0.02)


def test_after_kill_9_the_index_and_the_disk_agree_and_every_segment_decodes(
    recorded: Recorded,
) -> None:
    assert any("reconciled the index with the disk" in line for line in recorded.logs), "\n".join(
        recorded.logs[-40:]
    )
    segments = _segments(recorded.store)
    on_disk = {
        p.relative_to(recorded.data_dir).as_posix()
        for p in (recorded.data_dir / "recordings").rglob("*")
        if p.is_file()
    }
    assert {s.path for s in segments} == on_disk
    assert not any(name.endswith(".part") for name in on_disk)
    salvaged = next(s for s in segments if s.path == recorded.part_at_kill.removesuffix(".part"))
    assert salvaged.duration >= 2.0
    for s in segments:
        path = recorded.data_dir / s.path
        assert path.stat().st_size == s.bytes
        assert len(decoded(path)) == pytest.approx(s.duration * FPS, abs=1), s
    # What was indexed before the crash is untouched.
    before = {s.path: s for s in recorded.before_kill}
    assert all(before[p] == s for s in segments if (p := s.path) in before)


def test_a_clip_of_the_recording_decodes_with_its_duration_and_nothing_decoded(
    recorded: Recorded, tmp_path: Path
) -> None:
    center = recorded.center
    first = recorded.before_kill[0]

    def metric(name: str) -> float:
        m = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", center.get("/metrics").text, re.M)
        assert m, name
        return float(m.group(1))

    decoders, encoders = metric("ecc_video_decoders"), metric("ecc_video_encoders")
    copied = metric("ecc_playback_clip_frames_copied")
    start, end = first.start + 12.34, first.start + 31.5
    r = center.get(f"/api/cameras/{CAMERA}/clip.mp4", "leader", params={"start": start, "end": end})
    assert r.status_code == 200, r.text
    # It starts at the keyframe at or before the start asked for (one comes every second).
    clip_start = times.parse(r.headers["x-ecc-clip-start"])
    assert start - 1.05 < clip_start <= start
    path = tmp_path / "clip.mp4"
    path.write_bytes(r.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        frames = sum(1 for _ in container.decode(stream))
    assert duration == pytest.approx(end - clip_start, abs=0.15)
    assert frames == pytest.approx(duration * FPS, abs=1)
    assert metric("ecc_playback_clip_frames_copied") - copied == frames
    assert metric("ecc_video_decoders") == decoders
    assert metric("ecc_video_encoders") == encoders
