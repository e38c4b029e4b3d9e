from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from ecc.storage import NotFound, Store, open_store
from ecc.storage.models import MotionEvent

T0 = 1_783_843_500.0


def event(i: int, camera: str = "dam-dongao", zone: str = "crest", **kw: object) -> MotionEvent:
    fields: dict[str, object] = {
        "id": f"ev{i:02d}",
        "camera_id": camera,
        "zone": zone,
        "start": T0 + 10 * i,
        "end": T0 + 10 * i + 4,
        "peak_score": 0.25,
        "box": (0.1, 0.2, 0.3, 0.4),
    }
    fields.update(kw)
    return MotionEvent(**fields)  # type: ignore[arg-type]


def test_an_event_comes_back_whole_and_its_end_replaces_it(store: Store) -> None:
    going_on = event(1, end=None, thumbnail=None)
    store.motion_events.put(going_on)
    assert store.motion_events.get("ev01") == going_on
    ended = dataclasses.replace(
        going_on,
        end=T0 + 17.5,
        peak_score=0.625,
        thumbnail="motion/dam-dongao/ev01.jpg",
        alert_id="a7",
        announced=False,
        label="person",
    )
    store.motion_events.put(ended)
    assert store.motion_events.get("ev01") == ended
    assert store.motion_events.list() == [ended]
    with pytest.raises(NotFound):
        store.motion_events.get("nothing")


def test_list_overlaps_the_window_filters_and_limits(store: Store) -> None:
    for i in range(5):
        store.motion_events.put(event(i))
    store.motion_events.put(event(5, camera="town-xinqi", zone="frame"))
    store.motion_events.put(event(6, end=None))

    def ids(events: list[MotionEvent]) -> list[str]:
        return [e.id for e in events]

    everything = ["ev00", "ev01", "ev02", "ev03", "ev04", "ev05", "ev06"]
    assert ids(store.motion_events.list()) == everything
    # ev01 runs 10..14, ev02 20..24: a window that touches ev01's end and ev02's start.
    assert ids(store.motion_events.list(start=T0 + 14, end=T0 + 20)) == ["ev01", "ev02"]
    # One going on overlaps every later time.
    assert ids(store.motion_events.list(start=T0 + 1000)) == ["ev06"]
    assert ids(store.motion_events.list(end=T0 + 5)) == ["ev00"]
    assert ids(store.motion_events.list(camera_id="town-xinqi")) == ["ev05"]
    assert ids(store.motion_events.list(camera_id="dam-dongao", zone="crest", limit=2)) == [
        "ev04",
        "ev06",
    ]
    assert store.motion_events.list(zone="gate") == []
    assert store.motion_events.list(limit=0) == []


def test_delete_before_removes_only_ended_events(store: Store) -> None:
    for i in range(3):
        store.motion_events.put(event(i))
    store.motion_events.put(event(3, camera="town-xinqi"))
    store.motion_events.put(event(4, start=T0 - 100, end=None))
    gone = store.motion_events.delete_before(T0 + 15, camera_id="dam-dongao")
    assert sorted(e.id for e in gone) == ["ev00", "ev01"]
    assert [e.id for e in store.motion_events.list()] == ["ev04", "ev02", "ev03"]
    gone = store.motion_events.delete_before(T0 + 1000)
    assert sorted(e.id for e in gone) == ["ev02", "ev03"]
    assert [e.id for e in store.motion_events.list()] == ["ev04"]


def test_a_sqlite_file_from_before_labels_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE motion_events (id TEXT PRIMARY KEY, camera_id TEXT NOT NULL,"
            ' zone TEXT NOT NULL, start REAL NOT NULL, "end" REAL, peak_score REAL NOT NULL,'
            " box_x REAL NOT NULL, box_y REAL NOT NULL, box_w REAL NOT NULL,"
            " box_h REAL NOT NULL, thumbnail TEXT, alert_id TEXT, announced INTEGER NOT NULL)"
        )
        conn.execute(
            "INSERT INTO motion_events VALUES ('old', 'dam-dongao', 'crest', 1, 2, 0.5,"
            " 0, 0, 1, 1, NULL, NULL, 1)"
        )
    conn.close()
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.motion_events.get("old").label is None
        store.motion_events.put(event(1, label="person"))
        assert store.motion_events.get("ev01").label == "person"
    finally:
        store.close()
