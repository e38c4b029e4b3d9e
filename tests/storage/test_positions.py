from __future__ import annotations

import threading

import pytest

from ecc.storage import Store
from ecc.storage.models import Position

T0 = 1_783_843_500.0


def at(i: int, vehicle: str = "cmd-1", **kw: float | None) -> Position:
    fields: dict[str, object] = {
        "vehicle_id": vehicle,
        "ts": T0 + i,
        "lat": 29.9 + i * 1e-4,
        "lon": 121.8 + i * 1e-4,
        "speed": 8.5,
        "heading": 45.0,
        "accuracy": 5.0,
    }
    fields.update(kw)
    return Position(**fields)  # type: ignore[arg-type]


def test_a_position_comes_back_whole_and_once(store: Store) -> None:
    p = at(0)
    assert store.positions.insert([p]) == [p]
    # Uploaded again (an answer was lost), even with other values: stored once, the first kept.
    assert store.positions.insert([p, at(0, lat=1.0)]) == []
    assert store.positions.track("cmd-1", T0 - 1, T0 + 1) == [p]
    assert store.positions.count() == 1
    bare = Position("cmd-2", T0, 29.0, 121.0)
    assert store.positions.insert([bare]) == [bare]
    assert store.positions.track("cmd-2", T0, T0) == [bare]


def test_a_batch_that_repeats_itself_stores_each_position_once(store: Store) -> None:
    batch = [at(i) for i in range(5)]
    assert store.positions.insert([*batch, *batch[:2]]) == batch
    assert store.positions.insert([*batch[2:], at(5)]) == [at(5)]
    assert store.positions.count("cmd-1") == 6
    # 5 and 5.0 are one instant.
    assert store.positions.insert([Position("cmd-1", 5, 1.0, 2.0)]) != []
    assert store.positions.insert([Position("cmd-1", 5.0, 1.0, 2.0)]) == []


def test_track_is_a_window_oldest_first_newest_kept_by_limit(store: Store) -> None:
    store.positions.insert([at(i) for i in range(10)] + [at(3, vehicle="cmd-2")])
    assert [p.ts - T0 for p in store.positions.track("cmd-1", T0 + 2, T0 + 5)] == [2, 3, 4, 5]
    assert [p.ts - T0 for p in store.positions.track("cmd-1", T0, T0 + 100, limit=3)] == [7, 8, 9]
    assert store.positions.track("cmd-1", T0 + 100, T0 + 200) == []
    assert store.positions.track("cmd-1", T0, T0 + 100, limit=0) == []
    assert store.positions.track("nobody", T0, T0 + 100) == []
    assert store.positions.count() == 11
    assert store.positions.count("cmd-2") == 1


def test_latest_is_the_newest_by_time_not_by_upload(store: Store) -> None:
    store.positions.insert([at(5), at(1, vehicle="cmd-2")])
    # Queued positions uploaded late are older than what came live: latest stays.
    store.positions.insert([at(2), at(3)])
    assert store.positions.latest() == [at(5), at(1, vehicle="cmd-2")]
    assert store.positions.latest("cmd-1") == [at(5)]
    assert store.positions.latest("nobody") == []
    store.positions.insert([at(9, speed=None, heading=None, accuracy=None)])
    assert store.positions.latest("cmd-1") == [at(9, speed=None, heading=None, accuracy=None)]


@pytest.mark.usefixtures("busy_switching")
def test_concurrent_uploads_of_one_queue_store_each_position_once(store: Store) -> None:
    batch = [at(i) for i in range(40)]
    stored: list[list[Position]] = []

    def upload() -> None:
        stored.append(store.positions.insert(batch))

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.ts for new in stored for p in new) == [p.ts for p in batch]
    assert store.positions.count() == 40
    assert store.positions.latest() == [at(39)]
