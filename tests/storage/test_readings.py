from __future__ import annotations

import math
import threading

import pytest

from ecc.storage import Store
from ecc.storage.models import Bucket, Latest, Point, Reading, Tally

T0 = 1_783_843_500.0  # 2026-07-12T08:05:00Z


def wl(station: str, ts: float, value: float, **more: float) -> Reading:
    return Reading(station, ts, {"water_level": value, **more})


def test_insert_returns_only_new_readings_within_one_batch(store: Store) -> None:
    first = wl("river", T0, 3.0)
    batch = [first, wl("river", T0, 9.9), wl("river", T0 + 300, 3.1), wl("dam", T0, 1.0)]

    assert store.readings.insert(batch) == [first, batch[2], batch[3]]
    assert store.readings.count() == 3
    assert store.readings.count("river") == 2
    assert store.readings.count("dam") == 1
    # The first of the duplicates is the one kept.
    assert store.readings.range("river", "water_level", T0, T0) == [Point(T0, 3.0)]


def test_insert_ignores_readings_stored_by_an_earlier_batch(store: Store) -> None:
    assert len(store.readings.insert([wl("river", T0, 3.0), wl("river", T0 + 300, 3.1)])) == 2

    again = [wl("river", T0 + 300, 7.7), wl("river", T0 + 600, 3.2)]
    assert store.readings.insert(again) == [again[1]]
    assert store.readings.insert(again) == []
    assert store.readings.count() == 3
    assert store.readings.range("river", "water_level", T0, T0 + 600) == [
        Point(T0, 3.0),
        Point(T0 + 300, 3.1),
        Point(T0 + 600, 3.2),
    ]


def test_a_whole_second_is_the_same_reading_as_int_or_float(store: Store) -> None:
    assert len(store.readings.insert([wl("river", 1_783_843_500, 3.0)])) == 1
    assert store.readings.insert([wl("river", 1_783_843_500.0, 4.0)]) == []
    assert store.readings.count() == 1


def test_insert_of_nothing_stores_nothing(store: Store) -> None:
    assert store.readings.insert([]) == []
    assert store.readings.count() == 0
    assert store.readings.latest() == []


def test_range_is_inclusive_and_of_one_station_and_metric(store: Store) -> None:
    store.readings.insert(
        [
            wl("river", T0 - 1, 1.0),
            wl("river", T0, 2.0),
            Reading("river", T0 + 10, {"rainfall": 5.0}),  # no water_level: not a point
            wl("river", T0 + 20, 3.0, rainfall=1.0),
            wl("river", T0 + 30, 4.0),
            wl("river", T0 + 31, 5.0),
            # Station ids that sort right beside "river" must not leak into its range.
            wl("river-2", T0 + 10, 99.0),
            wl("rive", T0 + 10, 98.0),
        ]
    )
    assert store.readings.range("river", "water_level", T0, T0 + 30) == [
        Point(T0, 2.0),
        Point(T0 + 20, 3.0),
        Point(T0 + 30, 4.0),
    ]
    assert store.readings.range("river", "rainfall", T0, T0 + 30) == [
        Point(T0 + 10, 5.0),
        Point(T0 + 20, 1.0),
    ]
    assert store.readings.range("river", "pm25", T0, T0 + 30) == []
    assert store.readings.range("nowhere", "water_level", T0, T0 + 30) == []
    assert store.readings.range("river-2", "water_level", 0, 2e9) == [Point(T0 + 10, 99.0)]


def test_range_past_its_limit_keeps_the_newest_oldest_first(store: Store) -> None:
    store.readings.insert([wl("river", T0 + 60 * i, float(i)) for i in range(10)])

    assert store.readings.range("river", "water_level", T0, T0 + 3600, limit=3) == [
        Point(T0 + 420, 7.0),
        Point(T0 + 480, 8.0),
        Point(T0 + 540, 9.0),
    ]
    inside = store.readings.range("river", "water_level", T0 + 60, T0 + 300, limit=2)
    assert inside == [Point(T0 + 240, 4.0), Point(T0 + 300, 5.0)]
    assert len(store.readings.range("river", "water_level", T0, T0 + 3600)) == 10
    assert store.readings.range("river", "water_level", T0, T0 + 3600, limit=0) == []


def test_downsample_uses_epoch_aligned_buckets(store: Store) -> None:
    hour = 1_783_843_200.0  # 2026-07-12T08:00:00Z, a multiple of 3600 and of 60
    store.readings.insert(
        [
            wl("river", hour + 0, 1.0),
            wl("river", hour + 30, 2.0),
            wl("river", hour + 59.5, 6.0),
            wl("river", hour + 60, 10.0),
            wl("river", hour + 119, 20.0),
            Reading("river", hour + 130, {"rainfall": 1.0}),  # other metric: not counted
            wl("river", hour + 180, -1.5),
            wl("dam", hour + 30, 100.0),
        ]
    )

    buckets = store.readings.downsample("river", "water_level", hour, hour + 3600, 60)
    assert buckets == [
        Bucket(hour, 1.0, 3.0, 6.0, 3),
        Bucket(hour + 60, 10.0, 15.0, 20.0, 2),
        Bucket(hour + 180, -1.5, -1.5, -1.5, 1),
    ]
    # A start inside a step still reports that step under its aligned start.
    assert store.readings.downsample("river", "water_level", hour + 30, hour + 100, 60) == [
        Bucket(hour, 2.0, 4.0, 6.0, 2),
        Bucket(hour + 60, 10.0, 10.0, 10.0, 1),
    ]
    assert store.readings.downsample("river", "water_level", hour, hour + 3600, 3600) == [
        Bucket(hour, -1.5, pytest.approx(37.5 / 6), 20.0, 6)
    ]
    assert store.readings.downsample("river", "pm25", hour, hour + 3600, 60) == []


@pytest.mark.parametrize("step", [0.0, -60.0, float("nan"), float("inf")])
def test_downsample_refuses_a_step_that_is_not_positive_and_finite(
    store: Store, step: float
) -> None:
    with pytest.raises(ValueError, match="step"):
        store.readings.downsample("river", "water_level", T0, T0 + 60, step)


def test_latest_keeps_the_newest_value_of_each_metric(store: Store) -> None:
    store.readings.insert([Reading("river", T0, {"water_level": 3.0, "rainfall": 2.0}, 12.5)])
    first = [
        Latest("river", "battery", T0, 12.5),
        Latest("river", "rainfall", T0, 2.0),
        Latest("river", "water_level", T0, 3.0),
    ]
    assert store.readings.latest("river") == first

    store.readings.insert([wl("river", T0 - 300, 1.0)])  # older: must not replace
    assert store.readings.latest("river") == first
    store.readings.insert([wl("river", T0, 8.0)])  # duplicate: must not replace
    assert store.readings.latest("river") == first

    store.readings.insert([wl("river", T0 + 300, 3.3)])
    store.readings.insert([wl("dam", T0, 1.1)])
    assert store.readings.latest("river") == [
        Latest("river", "battery", T0, 12.5),
        Latest("river", "rainfall", T0, 2.0),
        Latest("river", "water_level", T0 + 300, 3.3),
    ]
    assert store.readings.latest() == [
        Latest("dam", "water_level", T0, 1.1),
        *store.readings.latest("river"),
    ]
    assert store.readings.latest("nowhere") == []


def test_latest_of_a_batch_out_of_order_is_its_newest_reading(store: Store) -> None:
    store.readings.insert(
        [wl("river", T0 + 600, 6.0), wl("river", T0 + 1200, 12.0), wl("river", T0, 1.0)]
    )
    assert store.readings.latest("river") == [Latest("river", "water_level", T0 + 1200, 12.0)]


def test_concurrent_writers_leave_the_newest_value_latest(
    store: Store, busy_switching: None
) -> None:
    # Several ingest workers take readings of one station from a shared subscription: whichever
    # writes last, `latest` must end on the newest reading, including when the key is new to
    # all of them at once.
    workers, rounds = 4, 5
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for r in range(rounds):
                store.readings.insert([wl(f"s{r}", T0 + worker, float(worker))])
        except BaseException as e:  # reported below: an exception in a thread is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert store.readings.count() == workers * rounds
    newest = T0 + workers - 1
    assert store.readings.latest() == [
        Latest(f"s{r}", "water_level", newest, float(workers - 1)) for r in range(rounds)
    ]


def test_tally_gives_version_count_after_and_newest(store: Store) -> None:
    assert store.readings.tally({"river": T0}) == {"river": Tally(0, 0, None)}
    store.readings.insert([wl("river", T0 + k * 300, 3.0) for k in range(3)])
    store.readings.insert([wl("dam", T0, 1.0), Reading("river", T0 + 900, {"flow": 4.0})])

    got = store.readings.tally({"river": T0, "dam": math.inf, "lake": -math.inf})
    assert got == {
        # After T0, strictly: the reading at T0 is not counted. A reading without the metric
        # of the others is a reading all the same.
        "river": Tally(4, 3, T0 + 900),
        "dam": Tally(1, 0, T0),  # math.inf: no count asked
        "lake": Tally(0, 0, None),
    }
    assert store.readings.tally({"river": -math.inf})["river"].after == 4
    assert store.readings.tally({}) == {}


def test_tally_version_grows_by_the_new_readings_and_never_falls(store: Store) -> None:
    store.readings.insert([wl("river", T0, 3.0), wl("river", T0 + 300, 3.1)])
    first = store.readings.tally({"river": math.inf})["river"].version
    # Duplicates: a backend may count them (MongoDB does, see ReadingRepo.tally), never less.
    store.readings.insert([wl("river", T0, 3.0)])
    again = store.readings.tally({"river": math.inf})["river"].version
    assert again >= first
    # A late reading, stamped before the newest, moves the version like any other.
    store.readings.insert([wl("river", T0 + 150, 3.05), wl("dam", T0, 1.0)])
    late = store.readings.tally({"river": T0 + 300})["river"]
    assert late.version == again + 1
    assert late.after == 0 and late.newest == T0 + 300


def test_concurrent_writers_each_raise_the_version(store: Store, busy_switching: None) -> None:
    # Ingest workers of one shared subscription store readings of the same stations at once;
    # no increment may be lost, or a reader would take a changed window for an unchanged one.
    workers, rounds = 4, 5
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for r in range(rounds):
                store.readings.insert([wl(f"s{r}", T0 + worker, 1.0)])
        except BaseException as e:  # reported below: an exception in a thread is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    tallies = store.readings.tally({f"s{r}": math.inf for r in range(rounds)})
    assert {s: t.version for s, t in tallies.items()} == {f"s{r}": workers for r in range(rounds)}
