"""The rule windows kept between batches: always what a fresh load of the store would give,
whichever worker stored what, and so the same verdicts as without them."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecc.bus.alerter import Alerter
from ecc.config import Site
from ecc.sensors.engine import RuleEngine
from ecc.sensors.rules import HOUR, Series
from ecc.sensors.window import Windows
from ecc.storage import Store, open_store
from ecc.storage.models import Point, Reading

T0 = 1_783_843_200.0  # 2026-07-12T08:00:00Z
RIVER = "xiaojia-xiaogang"  # warning 2.60, danger 3.10, deadband 0.05; rise 0.30 m/h in 1 h
RAIN = "rain-chaiqiao"  # the CMA rainstorm signals, over up to 12 h


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'ecc.db'}")
    yield s
    s.close()


@pytest.fixture
def db2(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield s
    s.close()


def engine(site: Site, store: Store, max_points: int = 1_000_000) -> RuleEngine:
    """max_points=0 keeps nothing: every batch loads its windows afresh, the reference."""
    return RuleEngine(site, store, Alerter(store, lambda topic, payload: None, "a"), max_points)


def level(i: float, value: float, **more: float) -> Reading:
    return Reading(RIVER, T0 + i * 60, {"water_level": value, **more})


def rain(i: float, mm: float) -> Reading:
    return Reading(RAIN, T0 + i * 60, {"rainfall": mm})


def feed(e: RuleEngine, store: Store, batch: list[Reading]) -> None:
    e.on_readings(store.readings.insert(batch))


def history(store: Store) -> list[tuple[str, str, str | None, str, float]]:
    return [
        (a.source_id, a.kind, ev.severity, ev.event, ev.ts)
        for a in sorted(store.alerts.list(), key=lambda a: (a.raised_at, a.kind))
        for ev in a.history
    ]


def test_one_worker_reads_only_tallies_once_its_windows_are_loaded(site: Site, db: Store) -> None:
    e = engine(site, db)
    for i in range(50):
        feed(e, db, [level(i, 2.0 + i / 100), rain(i, 1.0)])
    assert e.windows.counts.loaded == 2  # one per station, at its first batch
    assert e.windows.counts.kept == 2 * 49
    assert e.windows.counts.extended == 0


def test_a_reading_stored_late_by_another_worker_is_seen(site: Site, db: Store, db2: Store) -> None:
    """Worker b stores a low reading behind the end of worker a's window: a's rise rule must
    count it (the level rose 0.35 m from it within the hour), as a fresh load would."""
    runs = []
    for store, keep in ((db, 1_000_000), (db2, 0)):
        a, b = engine(site, store, keep), engine(site, store, keep)
        for i in range(0, 10, 2):
            feed(a, store, [level(i, 2.0)])
        feed(b, store, [level(5, 1.8)])  # late for a: a's window already ends at i=8
        assert store.alerts.list() == []  # b judged on to i=8: 0.2 m within the hour, no rise
        feed(a, store, [level(10, 2.15)])  # 0.15 m above what a had, 0.35 m above b's
        runs.append((history(store), a.windows.counts))
    (cached, counts), (fresh, _) = runs
    assert cached == fresh == [(RIVER, "rise", "warning", "raised", T0 + 600)]
    assert counts.loaded == 2  # the first batch, and again after b's late reading


def test_late_rain_from_another_worker_is_summed(site: Site, db: Store) -> None:
    a, b = engine(site, db), engine(site, db)
    feed(a, db, [rain(0, 20.0), rain(30, 20.0)])
    feed(b, db, [rain(15, 5.0)])  # late for a, within 3 h of what comes next
    feed(a, db, [rain(60, 6.0)])
    [alert] = db.alerts.list()
    # 51 mm within 3 h: orange. Without b's 5 mm it would be 46 mm, nothing.
    assert (alert.kind, alert.severity, alert.value) == ("rainstorm", "danger", 51.0)
    assert a.windows.counts.loaded == 2


def test_later_readings_of_other_workers_are_read_not_the_whole_window(
    site: Site, db: Store, db2: Store
) -> None:
    """The shared subscription hands a station's readings out in turn: each worker reads what
    the other stored since its last batch, and judges as one worker with fresh loads would."""
    values = [2.0 + 0.03 * i for i in range(40)] + [3.3 - 0.05 * i for i in range(30)]
    runs = []
    for store, keep in ((db, 1_000_000), (db2, 0)):
        a, b = engine(site, store, keep), engine(site, store, keep)
        for i, v in enumerate(values):
            feed((a, b)[i % 2], store, [level(i, v, flow=1.0)])
            # A reading without any metric that has rules moves the version all the same.
            store.readings.insert([Reading(RIVER, T0 + i * 60 + 30, {"flow": 1.0})])
        runs.append((history(store), a.windows.counts, b.windows.counts))
    (cached, ca, cb), (fresh, _, _) = runs
    assert cached == fresh
    assert {kind for _, kind, *_ in cached} == {"level", "rise"}
    assert ca.loaded == cb.loaded == 1
    assert ca.extended + ca.kept == cb.extended + cb.kept == len(values) // 2 - 1


def test_windows_dropped_for_memory_are_loaded_again(site: Site, db: Store, db2: Store) -> None:
    runs = []
    for store, keep in ((db, 30), (db2, 1_000_000)):
        e = engine(site, store, keep)
        for i in range(120):
            feed(e, store, [level(i, 2.0 + 0.02 * (i % 40)), rain(i, 0.9)])
        runs.append((history(store), e.windows.counts))
    (small, counts), (large, _) = runs
    assert small == large and small
    assert counts.loaded > 2


def test_min_duration_holds_across_batches_as_over_the_whole_series(site: Site, db: Store) -> None:
    data = site.model_dump()
    for st in data["stations"]:
        if st["id"] == RIVER:
            st["thresholds"]["water_level"] = {"warning": 2.6, "min_duration_s": 600}
    e = engine(Site.model_validate(data), db)
    # One a minute: the level is reached at i=3 and holds 600 s at i=13.
    for i in range(20):
        feed(e, db, [level(i, 2.7 if i >= 3 else 2.0)])
    [alert] = db.alerts.list()
    assert alert.raised_at == T0 + 13 * 60


def test_random_interleavings_give_the_windows_of_a_fresh_load(db: Store) -> None:
    """Three workers, two stations, readings in and out of order, some without the metric,
    some duplicates: after each batch, every window a worker uses is what the store holds."""
    spans = {"s1": {"water_level": HOUR}, "s2": {"rainfall": 3 * HOUR, "water_level": 0.0}}
    workers = [Windows(db, spans, max_points=400) for _ in range(3)]
    rng = random.Random(7)
    clock = {"s1": T0, "s2": T0}
    for _ in range(400):
        w = rng.choice(workers)
        batch = []
        for _ in range(rng.randint(1, 6)):
            station = rng.choice(["s1", "s2"])
            clock[station] += rng.uniform(1, 120)
            ts = clock[station] - (rng.uniform(0, 1800) if rng.random() < 0.1 else 0)
            metrics = ["water_level", "flow"] if station == "s1" else ["rainfall", "water_level"]
            values = {m: round(rng.uniform(0, 5), 2) for m in metrics if rng.random() < 0.8}
            batch.append(Reading(station, round(ts, 3), values or {"battery": 3.7}))
        if rng.random() < 0.1:
            batch.append(batch[0])  # a duplicate: stored once
        new = db.readings.insert(batch)
        w.stored(new)
        points: dict[str, dict[str, list[Point]]] = {}
        for r in new:
            for m, v in r.values.items():
                if m in spans[r.station_id]:
                    points.setdefault(r.station_id, {}).setdefault(m, []).append(Point(r.ts, v))
        for by in points.values():
            for pts in by.values():
                pts.sort(key=lambda p: p.ts)
        got = w.series(points)
        for station, by in points.items():
            for metric, pts in by.items():
                start = pts[0].ts - spans[station][metric]
                assert _arrays(got[station][metric].since(start)) == _fresh(
                    db, station, metric, start
                )
    counts = [w.counts for w in workers]
    assert all(c.kept and c.extended and c.loaded for c in counts)


def _arrays(s: Series) -> list[tuple[float, float]]:
    return list(zip(s.times, s.values, strict=True))


def _fresh(store: Store, station: str, metric: str, start: float) -> list[tuple[float, float]]:
    before = store.readings.range(station, metric, -math.inf, start, limit=1)
    points = store.readings.range(station, metric, start, math.inf)
    if before and (not points or before[0].ts < points[0].ts):
        points = before + points
    return [(p.ts, p.value) for p in points]
