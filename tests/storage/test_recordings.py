from __future__ import annotations

import dataclasses

import pytest

from ecc.storage import NotFound, Store
from ecc.storage.models import Deletions, Pin, Segment

T0 = 1_783_814_400.0  # 2026-07-12T00:00:00Z
CAM = "camera:dam-dongao"
VAN = "vehicle:cmd-1"


def segment(i: int, source: str = CAM, length: float = 10.0, **kw: object) -> Segment:
    start = T0 + 10 * i
    fields: dict[str, object] = {
        "source": source,
        "start": start,
        "end": start + length,
        "path": f"recordings/{source.replace(':', '/')}/{i:04d}.mp4",
        "bytes": 1000 + i,
        "init_bytes": 700,
        "keyframes": (0.0, 1.0, 2.0),
        "codec": "avc1.42e01f",
        "width": 1280,
        "height": 720,
        "init_id": "a1b2c3",
    }
    fields.update(kw)
    return Segment(**fields)  # type: ignore[arg-type]


def starts(segments: list[Segment]) -> list[float]:
    return [s.start - T0 for s in segments]


def test_a_segment_comes_back_whole_with_an_id(store: Store) -> None:
    added = store.recordings.add(segment(0, motion=None))
    assert added.id is not None
    assert store.recordings.get(added.id) == added
    assert dataclasses.replace(added, id=None) == segment(0)
    assert added.duration == 10.0
    with pytest.raises(NotFound):
        store.recordings.get("nothing")


def test_indexing_a_path_again_replaces_the_entry_and_keeps_its_id(store: Store) -> None:
    first = store.recordings.add(segment(0))
    again = store.recordings.add(segment(0, bytes=5555, end=T0 + 9.5))
    assert again.id == first.id
    assert store.recordings.get(first.id or "") == again
    assert store.recordings.usage() == {CAM: (1, 5555)}


def test_range_gives_the_overlapping_segments_oldest_first(store: Store) -> None:
    for i in range(6):
        store.recordings.add(segment(i))
    store.recordings.add(segment(2, source=VAN))
    r = store.recordings.range
    assert starts(r(CAM, T0, T0 + 60)) == [0, 10, 20, 30, 40, 50]
    # A point in time: the segment that holds it; a segment's end belongs to the next.
    assert starts(r(CAM, T0 + 15, T0 + 15)) == [10]
    assert starts(r(CAM, T0 + 20, T0 + 20)) == [20]
    assert starts(r(CAM, T0 + 25, T0 + 41)) == [20, 30, 40]
    assert starts(r(CAM, T0 + 25, T0 + 100, limit=2)) == [20, 30]
    assert r(CAM, T0 + 60, T0 + 100) == []
    assert r(CAM, T0 - 100, T0 - 1) == []
    assert starts(r(VAN, T0, T0 + 60)) == [20]
    assert r(CAM, T0, T0 + 60, limit=0) == []


def test_range_finds_a_long_segment_that_began_well_before(store: Store) -> None:
    store.recordings.add(segment(0, length=290.0))
    assert starts(store.recordings.range(CAM, T0 + 280, T0 + 281)) == [0]


def test_paths_and_usage(store: Store) -> None:
    ids = [store.recordings.add(segment(i)).id for i in range(3)]
    store.recordings.add(segment(7, source=VAN))
    paths = store.recordings.paths(CAM)
    assert sorted(paths.values()) == sorted(ids)
    assert set(paths) == {segment(i).path for i in range(3)}
    assert store.recordings.usage() == {CAM: (3, 3003), VAN: (1, 1007)}
    assert store.recordings.paths("camera:none") == {}


def test_delete_removes_counts_once_and_skips_what_is_gone(store: Store) -> None:
    ids = [store.recordings.add(segment(i)).id or "" for i in range(4)]
    gone = store.recordings.delete(ids[:2], "age")
    assert sorted(s.start - T0 for s in gone) == [0, 10]
    # Deleted already (another pass raced for it): neither returned nor counted again.
    assert starts(store.recordings.delete([ids[0], ids[2]], "disk_cap")) == [20]
    assert store.recordings.deletions() == [
        Deletions("age", 2, 2001),
        Deletions("disk_cap", 1, 1002),
    ]
    assert store.recordings.delete([], "age") == []
    assert starts(store.recordings.range(CAM, T0, T0 + 100)) == [30]


def test_oldest_leaves_out_what_pins_in_force_cover(store: Store) -> None:
    for i in range(6):
        store.recordings.add(segment(i))
    store.recordings.add(segment(1, source=VAN))
    now = T0 + 1000
    oldest = store.recordings.oldest
    assert starts(oldest(now, 3)) == [0, 10, 10]
    # Pinned while the incident is open (no end), and pinned until a time now past.
    store.recordings.pin(CAM, T0 + 12, T0 + 25, "incident:7")
    store.recordings.pin(CAM, T0 + 40, T0 + 45, "incident:3", until=now - 1)
    assert starts(oldest(now, 10, source=CAM)) == [0, 30, 40, 50]
    assert starts(oldest(now, 10, source=VAN)) == [10]
    assert starts(oldest(now, 10, source=CAM, before=T0 + 40)) == [0, 30]
    # Pinned until later than now: kept now, and free once that time has passed.
    store.recordings.pin(CAM, T0, T0 + 5, "incident:9", until=now + 100)
    assert starts(oldest(now, 10, source=CAM)) == [30, 40, 50]
    assert starts(oldest(now + 101, 10, source=CAM)) == [0, 30, 40, 50]
    assert oldest(now, 0) == []


def test_pins_are_one_per_owner_and_source(store: Store) -> None:
    p = store.recordings.pin(CAM, T0, T0 + 60, "incident:7")
    assert p == Pin("incident:7", CAM, T0, T0 + 60, None)
    # The incident closes: the same pin now lasts for its own retention.
    store.recordings.pin(CAM, T0, T0 + 90, "incident:7", until=T0 + 86400)
    store.recordings.pin(VAN, T0, T0 + 90, "incident:7")
    store.recordings.pin(CAM, T0 + 5, T0 + 6, "incident:8")
    assert store.recordings.pins(source=CAM) == [
        Pin("incident:7", CAM, T0, T0 + 90, T0 + 86400),
        Pin("incident:8", CAM, T0 + 5, T0 + 6, None),
    ]
    assert len(store.recordings.pins(owner="incident:7")) == 2
    assert store.recordings.unpin("incident:7", source=VAN) == 1
    assert store.recordings.unpin("incident:7") == 1
    assert store.recordings.unpin("incident:7") == 0
    assert store.recordings.pins() == [Pin("incident:8", CAM, T0 + 5, T0 + 6, None)]


def test_mark_motion_flags_the_overlapping_segments(store: Store) -> None:
    for i in range(4):
        store.recordings.add(segment(i))
    assert store.recordings.mark_motion(CAM, T0 + 12, T0 + 21) == 2
    assert [s.motion for s in store.recordings.range(CAM, T0, T0 + 40)] == [
        None,
        True,
        True,
        None,
    ]
