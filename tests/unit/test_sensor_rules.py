"""Alert rules on synthetic series, and the engine that applies them through the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from ecc.bus.alerter import Alerter
from ecc.config import Site
from ecc.config.site import LevelThreshold
from ecc.sensors.engine import RuleEngine
from ecc.sensors.rules import (
    RainstormRule,
    Series,
    air_quality_rule,
    station_rules,
    threshold_rules,
)
from ecc.storage import Store, open_store
from ecc.storage.models import Alert, Point, Reading, Severity

T0 = 1_783_843_200.0  # 2026-07-12T08:00:00Z
STEP = 300.0


def judge(rule: object, values: list[float], step: float = STEP) -> list[Severity | None]:
    """The severity after each point, carrying it forward as the engine does."""
    series = Series([Point(T0 + i * step, v) for i, v in enumerate(values)])
    current: Severity | None = None
    out = []
    for i in range(len(values)):
        current = rule.evaluate(series, i, current).severity  # type: ignore[attr-defined]
        out.append(current)
    return out


def test_level_hysteresis_escalates_and_clears_below_the_deadband() -> None:
    [rule] = threshold_rules("water_level", LevelThreshold(warning=2.5, danger=3.0, deadband=0.1))
    got = judge(rule, [2.4, 2.5, 2.45, 2.41, 3.0, 2.95, 2.9, 2.89, 2.39])
    assert got == [
        None,
        "warning",
        "warning",  # above 2.5 - 0.1
        "warning",
        "danger",
        "danger",
        "danger",  # 3.0 - 0.1 still holds
        "warning",  # below the danger deadband, above warning's
        None,  # below 2.4
    ]


def test_level_minimum_duration_waits_for_the_level_to_hold() -> None:
    [rule] = threshold_rules("water_level", LevelThreshold(warning=2.5, min_duration_s=600))
    # Readings every 300 s: a single spike does not count, three in a row (600 s) do.
    got = judge(rule, [2.6, 2.4, 2.6, 2.6, 2.6, 2.6, 2.4])
    assert got == [None, None, None, None, "warning", "warning", None]


def test_rise_over_the_window() -> None:
    rules = threshold_rules("water_level", LevelThreshold(rise_per_hour=0.3))
    [rise] = rules
    # +0.1 m per 5 minutes is 1.2 m/h; flat afterwards, the hour-long window forgets the rise.
    values = [1.0, 1.0, 1.1, 1.2, 1.3] + [1.3] * 13
    got = judge(rise, values)
    # Rose 0.2 m within the hour at i=3 (0.2 m/h over the window), 0.3 m at i=4.
    assert got[:5] == [None, None, None, None, "warning"]
    # Until the hour-long window no longer holds the 1.0 m readings (i=14: 1.1 m to 1.3 m).
    assert got[4:14] == ["warning"] * 10
    assert got[14:] == [None] * 4
    v = rise.evaluate(Series([Point(T0, 1.0), Point(T0 + 1800, 1.4)]), 1, None)
    assert v.severity == "warning" and v.value == pytest.approx(0.4) and v.threshold == 0.3


def test_cma_rainstorm_signals() -> None:
    rule = RainstormRule()
    hour = 3600.0

    def signal(depths: list[tuple[float, float]]) -> Severity | None:
        series = Series([Point(T0 + h * hour, mm) for h, mm in depths])
        return rule.evaluate(series, len(depths) - 1, None).severity

    assert signal([(0, 49.9)]) is None
    assert signal([(0, 25), (11.5, 25)]) == "info"  # 50 mm in 12 h: blue
    assert signal([(0, 25), (12, 25)]) is None  # the first fell 12 h before: out of the window
    assert signal([(0, 25), (5, 25)]) == "warning"  # 50 mm in 6 h: yellow
    assert signal([(0, 25), (2.5, 25)]) == "danger"  # 50 mm in 3 h: orange
    assert signal([(0, 60), (2, 40)]) == "critical"  # 100 mm in 3 h: red
    v = rule.evaluate(Series([Point(T0, 30), Point(T0 + 3600, 30)]), 1, None)
    assert v.value == 60 and v.threshold == 50 and "橙色" in v.message


def test_hj633_pm25_bands() -> None:
    rule = air_quality_rule()
    got = judge(rule, [20, 75, 76, 116, 151, 251, 200, 146, 144, 69])
    assert got == [
        None,
        None,  # 75 is still 良
        "info",
        "warning",
        "danger",
        "critical",
        "danger",
        "danger",  # 146 >= 150 - 5
        "warning",
        None,
    ]


def test_rules_of_the_example_site(site: Site) -> None:
    kinds = {
        s.id: {m: sorted(r.kind for r in rules) for m, rules in station_rules(s).items()}
        for s in site.stations
    }
    assert kinds["xiaojia-xiaogang"] == {"water_level": ["level", "rise"]}
    assert kinds["dapu-chaiqiao"] == {"water_level": ["level"]}
    assert kinds["rain-chaiqiao"] == {"rainfall": ["rainstorm"]}
    assert kinds["air-xinqi"] == {"pm25": ["air_quality"]}
    assert kinds["weather-meishan"] == {"wind_speed": ["level"], "rainfall": ["rainstorm"]}


# The engine, through a real store.


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'ecc.db'}")
    yield s
    s.close()


class Bus:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.sent.append(orjson.loads(payload))


def levels(store: Store) -> list[Alert]:
    return [a for a in store.alerts.list() if a.kind == "level"]


def worker(site: Site, store: Store, bus: Bus) -> RuleEngine:
    return RuleEngine(site, store, Alerter(store, bus.publish, "ecc/v1/alerts"))


def level(station: str, i: int, value: float) -> Reading:
    return Reading(station, T0 + i * STEP, {"water_level": value})


def store_and_judge(engine: RuleEngine, store: Store, readings: list[Reading]) -> None:
    engine.on_readings(store.readings.insert(readings))


def test_engine_raises_escalates_resolves_at_data_times(site: Site, db: Store) -> None:
    bus = Bus()
    engine = worker(site, db, bus)
    values = [2.0, 2.55, 2.7, 3.05, 2.9, 2.4]  # lujiang-daqi: warning 2.5, danger 3.0, db 0.05
    store_and_judge(engine, db, [level("lujiang-daqi", i, v) for i, v in enumerate(values)])
    [alert] = levels(db)
    assert alert.kind == "level" and alert.state == "resolved"
    assert alert.raised_at == T0 + STEP
    assert alert.resolved_at == T0 + 5 * STEP
    assert [(e.event, e.severity, e.ts) for e in alert.history] == [
        ("raised", "warning", T0 + STEP),
        ("escalated", "danger", T0 + 3 * STEP),
        ("deescalated", "warning", T0 + 4 * STEP),
        ("resolved", "warning", T0 + 5 * STEP),
    ]
    assert [m["history"][-1]["event"] for m in bus.sent if m["kind"] == "level"] == [  # type: ignore[index]
        "raised",
        "escalated",
        "deescalated",
        "resolved",
    ]


def test_readings_split_across_workers_give_the_same_alerts(site: Site, db: Store) -> None:
    """Two workers, readings handed out in turn, one of them late: the alert is the one the
    whole series implies."""
    a, b = worker(site, db, Bus()), worker(site, db, Bus())
    # Rise rule of xiaojia-xiaogang: 0.3 m within an hour. Each worker alone sees +0.2 m steps
    # of 10 minutes; the series rises 0.1 m every 5 minutes.
    readings = [level("xiaojia-xiaogang", i, 1.8 + 0.1 * i) for i in range(4)]
    store_and_judge(a, db, [readings[0]])
    store_and_judge(b, db, [readings[1]])
    store_and_judge(a, db, [readings[3]])  # arrives before its predecessor is stored
    assert db.alerts.find_open("station", "xiaojia-xiaogang", "rise", "water_level") is not None
    store_and_judge(b, db, [readings[2]])  # late: judged forward to the newest point
    [rise] = [x for x in db.alerts.list() if x.kind == "rise"]
    assert rise.state == "active" and rise.severity == "warning"
    assert [e.event for e in rise.history] == ["raised"]


def test_late_reading_judged_forward_to_the_newest(site: Site, db: Store) -> None:
    a, b = worker(site, db, Bus()), worker(site, db, Bus())
    # Worker a stores 3.05 (danger) at i=2; worker b then stores i=1 (2.55) late. The state
    # must stay what the newest reading says, not go back to warning.
    store_and_judge(a, db, [level("lujiang-daqi", 0, 2.0), level("lujiang-daqi", 2, 3.05)])
    store_and_judge(b, db, [level("lujiang-daqi", 1, 2.55)])
    [alert] = levels(db)
    assert alert.severity == "danger" and alert.state == "active"
    assert [e.event for e in alert.history] == ["raised"]


def test_state_survives_a_restart_and_catch_up(site: Site, db: Store) -> None:
    first = worker(site, db, Bus())
    store_and_judge(first, db, [level("lujiang-daqi", 0, 2.6)])
    # A worker dies after storing a batch and before judging it.
    db.readings.insert([level("lujiang-daqi", 1, 3.2)])
    second = worker(site, db, Bus())
    changed = second.catch_up()
    assert [(a.kind, a.severity, a.updated_at) for a in changed] == [
        ("level", "danger", T0 + STEP),
        ("rise", "warning", T0 + STEP),
    ]
    # Hysteresis carries on from the stored alert: 2.97 is above 3.0 - 0.05.
    store_and_judge(second, db, [level("lujiang-daqi", 2, 2.97)])
    [alert] = levels(db)
    assert alert.severity == "danger"


def test_require_ack_keeps_a_cleared_alert_until_acknowledged(site: Site, db: Store) -> None:
    data = site.model_dump()
    for st in data["stations"]:
        if st["id"] == "dapu-chaiqiao":
            st["thresholds"]["water_level"]["require_ack"] = True
    strict = Site.model_validate(data)
    engine = worker(strict, db, Bus())
    store_and_judge(engine, db, [level("dapu-chaiqiao", 0, 2.7), level("dapu-chaiqiao", 1, 2.0)])
    [alert] = db.alerts.list()
    assert alert.state == "active"
    db.alerts.acknowledge(alert.id, "operator", T0 + 1000)
    store_and_judge(engine, db, [level("dapu-chaiqiao", 2, 2.0)])
    assert db.alerts.get(alert.id).state == "resolved"
    assert db.alerts.get(alert.id).resolved_at == T0 + 2 * STEP


def test_offline_alert_resolved_by_a_reading(site: Site, db: Store) -> None:
    from ecc.sensors.presence import Presence

    bus = Bus()
    alerter = Alerter(db, bus.publish, "ecc/v1/alerts")
    presence = Presence(site, db, alerter)
    engine = RuleEngine(site, db, alerter)
    presence.check(T0)  # starts watching
    assert presence.check(T0 + 899) == []
    changed = presence.check(T0 + 901)
    offline = {a.source_id: a for a in changed}
    assert offline["lujiang-daqi"].raised_at == T0 + 900  # 3 x 300 s after it was last heard
    assert "air-xinqi" not in offline  # hourly station: 3 h allowed
    presence.heard(["lujiang-daqi"], T0 + 950)
    store_and_judge(engine, db, [Reading("lujiang-daqi", T0 + 950, {"water_level": 2.0})])
    back = db.alerts.get(offline["lujiang-daqi"].id)
    assert back.state == "resolved" and back.resolved_at == T0 + 950
    assert presence.check(T0 + 960) == []
    will = presence.will("lujiang-daqi", False, T0 + 970)
    assert will is not None and will.message.startswith("连接断开")
