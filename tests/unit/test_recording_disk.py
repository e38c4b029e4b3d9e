"""The recording index and the disk: reconcile after a crash, and retention (age, disk cap,
free space; oldest first; pinned segments stay)."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ecc.media import mp4
from ecc.media.reconcile import reconcile
from ecc.media.recorder import Recorder, RecorderOptions
from ecc.media.retention import Retention, RetentionRules
from ecc.storage import Store, open_store
from ecc.storage.models import Deletions, Segment
from tests.support.recording import decoded, feed, stopped, units

CAM = "camera:quay"
VAN = "vehicle:cmd-1"
DAY = 86400.0


async def record(
    store: Store, data_dir: Path, source: str, wall0: float, seconds: float, segment_s: float
) -> list[Segment]:
    """Record `seconds` of stream starting at `wall0` into whole, indexed segments."""
    with ThreadPoolExecutor(1) as pool:
        options = RecorderOptions(segment_s=segment_s, queue_fragments=1000, idle_close_s=60)
        r = Recorder(source, store, data_dir, pool, options)
        task = asyncio.create_task(r.run())
        feed(r, units(seconds), wall0)
        await stopped(r, task)
    return store.recordings.range(source, wall0 - 1, wall0 + seconds + 1)


def mtime_before(path: Path, when: float) -> None:
    os.utime(path, (when, when))


async def test_reconcile_indexes_orphans_salvages_parts_and_drops_missing(
    store: Store, tmp_path: Path
) -> None:
    data = tmp_path / "var"
    t0 = time.time() - 3600
    # Files written by a process that died before indexing them: the index knows none.
    elsewhere = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        written = await record(elsewhere, data, CAM, t0, 12.0, segment_s=4.0)
    finally:
        elsewhere.close()
    assert len(written) == 3
    orphan, unfinished, broken = written
    # The one being written when it died: still a .part, its last fragment half there.
    part = data / (unfinished.path + ".part")
    (data / unfinished.path).rename(part)
    with (data / orphan.path).open("rb") as f:
        layout = mp4.read_layout(f, orphan.bytes)
    cut = layout.fragments[-1].offset + layout.fragments[-1].size // 2
    os.truncate(part, unfinished.bytes - (layout.complete_bytes - cut))
    # One unreadable, and one the index names but that is gone.
    (data / broken.path).write_bytes(b"\x00\x00\x00\x10junk")
    ghost = store.recordings.add(
        Segment(
            CAM,
            t0 - 100,
            t0 - 90,
            "recordings/camera/quay/gone.mp4",
            5,
            1,
            (0.0,),
            "avc1.x",
            1,
            1,
            "x",
        )
    )
    # A file of the running recorder (newer than its start) is left alone.
    fresh = data / "recordings/camera/quay/2030-01-01/00/000000.000.mp4.part"
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(b"being written")
    started = time.time()
    for path in data.rglob("*.mp4*"):
        if path != fresh:
            mtime_before(path, started - 10)
    mtime_before(fresh, started + 1)

    done = reconcile(store, data, CAM, before=started)

    assert (done.orphans_indexed, done.parts_salvaged, done.removed, done.missing_dropped) == (
        1,
        1,
        1,
        1,
    )
    assert fresh.exists()
    assert list(data.rglob("*.part")) == [fresh]
    assert not (data / broken.path).exists()
    indexed = store.recordings.range(CAM, 0, 2e9)
    assert [s.path for s in indexed] == [orphan.path, unfinished.path]
    # The orphan comes back as it was written; the salvaged one with its whole fragments.
    assert indexed[0].start == pytest.approx(orphan.start, abs=1e-3)
    assert indexed[0].end == pytest.approx(orphan.end, abs=1e-3)
    assert (indexed[0].bytes, indexed[0].init_id, indexed[0].keyframes) == (
        orphan.bytes,
        orphan.init_id,
        orphan.keyframes,
    )
    salvaged = indexed[1]
    assert salvaged.duration == pytest.approx(3.0)
    assert (data / salvaged.path).stat().st_size == salvaged.bytes
    for s in indexed:
        assert len(decoded(data / s.path)) == round(s.duration * 25)
    assert ghost.id not in {s.id for s in indexed}
    assert Deletions("missing", 1, 5) in store.recordings.deletions()
    # A second pass finds nothing to do.
    assert not reconcile(store, data, CAM, before=started)


async def test_retention_keeps_days_per_source_and_pins(store: Store, tmp_path: Path) -> None:
    now = time.time()
    old = await record(store, tmp_path, CAM, now - 40 * DAY, 8.0, segment_s=2.0)
    recent = await record(store, tmp_path, CAM, now - 3600, 4.0, segment_s=2.0)
    van = await record(store, tmp_path, VAN, now - 40 * DAY, 4.0, segment_s=2.0)
    # An incident pins the third and fourth seconds of the old recording, while it is open.
    store.recordings.pin(CAM, old[1].start + 0.5, old[1].end - 0.5, "incident:7")
    rules = RetentionRules(days={CAM: 30, VAN: 60})
    done = Retention(store, tmp_path, rules, free=lambda _: 1 << 40).run(now)
    kept = store.recordings.range(CAM, 0, 2e9)
    assert [s.id for s in kept] == [old[1].id] + [s.id for s in recent]
    assert [s.id for s in done.deleted["age"]] == [old[0].id, old[2].id, old[3].id]
    for s in done.deleted["age"]:
        assert not (tmp_path / s.path).exists()
    assert len(store.recordings.range(VAN, 0, 2e9)) == len(van)
    # The incident is closed and its own retention has run out: the pin lets go.
    store.recordings.pin(CAM, old[1].start, old[1].end, "incident:7", until=now - 1)
    Retention(store, tmp_path, rules, free=lambda _: 1 << 40).run(now)
    assert [s.id for s in store.recordings.range(CAM, 0, 2e9)] == [s.id for s in recent]
    # The old day's folders went with their last file.
    assert not (tmp_path / old[0].path).parent.exists()


async def test_a_small_disk_cap_deletes_the_oldest_first_and_keeps_the_pinned(
    store: Store, tmp_path: Path
) -> None:
    now = time.time()
    cam = await record(store, tmp_path, CAM, now - 7200, 10.0, segment_s=2.0)
    van = await record(store, tmp_path, VAN, now - 7195, 10.0, segment_s=2.0)
    store.recordings.pin(CAM, cam[0].start, cam[0].end, "incident:7")
    everything = sorted(cam + van, key=lambda s: s.start)
    total = sum(s.bytes for s in everything)
    # Room for all but about four segments.
    cap = total - sum(s.bytes for s in everything[:4]) + 1
    rules = RetentionRules(days={CAM: 30, VAN: 30}, disk_cap_bytes=cap)
    done = Retention(store, tmp_path, rules, free=lambda _: 1 << 40).run(now)
    gone = done.deleted["disk_cap"]
    unpinned = [s for s in everything if s.id != cam[0].id]
    assert [s.id for s in gone] == [s.id for s in unpinned[: len(gone)]]
    assert cam[0].id in {s.id for s in store.recordings.range(CAM, 0, 2e9)}
    assert sum(size for _, size in store.recordings.usage().values()) <= cap
    assert not done.short_of_space
    counted = {d.reason: d for d in store.recordings.deletions()}["disk_cap"]
    assert (counted.segments, counted.bytes) == (len(gone), sum(s.bytes for s in gone))
    # A cap below what is pinned: everything else goes, and the pass says it fell short.
    tiny = RetentionRules(days={CAM: 30, VAN: 30}, disk_cap_bytes=1)
    done = Retention(store, tmp_path, tiny, free=lambda _: 1 << 40).run(now)
    assert done.short_of_space
    assert [s.id for s in store.recordings.range(CAM, 0, 2e9)] == [cam[0].id]
    assert store.recordings.range(VAN, 0, 2e9) == []


async def test_min_free_space_deletes_until_the_disk_has_room(store: Store, tmp_path: Path) -> None:
    now = time.time()
    segments = await record(store, tmp_path, CAM, now - 600, 10.0, segment_s=2.0)
    used = sum(s.bytes for s in segments)

    def free(_: Path) -> int:
        """A disk that was full: what retention deletes is all the room it has."""
        return used - sum(size for _, size in store.recordings.usage().values())

    need = segments[0].bytes + segments[1].bytes
    rules = RetentionRules(days={CAM: 30}, min_free_bytes=need)
    done = Retention(store, tmp_path, rules, free=free).run(now)
    assert [s.id for s in done.deleted["min_free"]] == [s.id for s in segments[:2]]
    assert free(tmp_path) == need
