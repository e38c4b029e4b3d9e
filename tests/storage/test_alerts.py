from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from ecc.storage import Conflict, InvalidTransition, NotFound, Store
from ecc.storage.models import Alert, AlertEvent, NewAlert

T0 = 1_783_843_500.0


def high_water(station: str = "river", at: float = T0, **changes: object) -> NewAlert:
    new = NewAlert(
        kind="threshold",
        severity="warning",
        source_type="station",
        source_id=station,
        metric="water_level",
        value=3.3,
        threshold=3.2,
        message="水位超过警戒水位",
        raised_at=at,
    )
    return replace(new, **changes)


def test_insert_opens_an_active_alert_with_its_history(store: Store) -> None:
    alert = store.alerts.insert(high_water(require_ack=True))

    assert alert == Alert(
        id=alert.id,
        kind="threshold",
        severity="warning",
        state="active",
        source_type="station",
        source_id="river",
        metric="water_level",
        value=3.3,
        threshold=3.2,
        message="水位超过警戒水位",
        raised_at=T0,
        updated_at=T0,
        require_ack=True,
        history=(AlertEvent(T0, "raised", "warning", 3.3, 3.2),),
    )
    assert isinstance(alert.id, str)
    assert alert.id
    assert store.alerts.get(alert.id) == alert


def test_a_second_open_alert_for_the_same_key_is_a_conflict(store: Store) -> None:
    first = store.alerts.insert(high_water())
    with pytest.raises(Conflict):
        store.alerts.insert(high_water(at=T0 + 60, severity="danger"))
    # Any other part of the key differing is another alert.
    store.alerts.insert(high_water(metric="rainfall"))
    store.alerts.insert(high_water(station="dam"))
    store.alerts.insert(high_water(kind="rate_of_rise"))
    store.alerts.insert(high_water(source_type="camera"))
    open_alerts = store.alerts.list_open()
    assert len(open_alerts) == 5
    assert first in open_alerts


def test_alerts_without_a_metric_share_a_key_too(store: Store) -> None:
    store.alerts.insert(high_water(source_type="camera", kind="offline", metric=None))
    with pytest.raises(Conflict):
        store.alerts.insert(high_water(source_type="camera", kind="offline", metric=None))
    found = store.alerts.find_open("camera", "river", "offline", None)
    assert found is not None
    assert found.metric is None


def test_escalate_and_deescalate_keep_the_history(store: Store) -> None:
    alert = store.alerts.insert(high_water())
    up = store.alerts.escalate(alert.id, "danger", 3.9, 3.8, "超过保证水位", T0 + 300)
    down = store.alerts.escalate(alert.id, "warning", 3.5, 3.2, "回落到警戒水位", T0 + 600)

    assert up.severity == "danger"
    assert (up.value, up.threshold, up.message, up.updated_at) == (
        3.9,
        3.8,
        "超过保证水位",
        T0 + 300,
    )
    assert down.state == "active"
    assert down.raised_at == T0
    assert down.history == (
        AlertEvent(T0, "raised", "warning", 3.3, 3.2),
        AlertEvent(T0 + 300, "escalated", "danger", 3.9, 3.8),
        AlertEvent(T0 + 600, "deescalated", "warning", 3.5, 3.2),
    )
    assert store.alerts.get(alert.id) == down


def test_acknowledge_then_resolve(store: Store) -> None:
    alert = store.alerts.insert(high_water())
    acked = store.alerts.acknowledge(alert.id, "wang", T0 + 60, note="派出巡查")

    assert (acked.state, acked.acknowledged_at, acked.acknowledged_by) == (
        "acknowledged",
        T0 + 60,
        "wang",
    )
    assert acked.history[-1] == AlertEvent(
        T0 + 60, "acknowledged", "warning", by="wang", note="派出巡查"
    )
    assert store.alerts.get(alert.id) == acked

    # An acknowledged alert can still worsen, and stays acknowledged.
    worse = store.alerts.escalate(alert.id, "danger", 3.9, 3.8, "超过保证水位", T0 + 120)
    assert (worse.state, worse.severity) == ("acknowledged", "danger")

    done = store.alerts.resolve(alert.id, T0 + 900, by="li", value=3.1)
    assert (done.state, done.resolved_at, done.updated_at) == ("resolved", T0 + 900, T0 + 900)
    assert done.acknowledged_by == "wang"
    assert done.history[-1] == AlertEvent(T0 + 900, "resolved", "danger", value=3.1, by="li")
    assert [e.event for e in done.history] == ["raised", "acknowledged", "escalated", "resolved"]
    assert store.alerts.get(alert.id) == done


def test_an_active_alert_resolves_without_acknowledgement(store: Store) -> None:
    alert = store.alerts.insert(high_water())
    done = store.alerts.resolve(alert.id, T0 + 60)
    assert done.state == "resolved"
    assert done.acknowledged_at is None
    assert done.history[-1] == AlertEvent(T0 + 60, "resolved", "warning")
    assert store.alerts.get(alert.id) == done


def test_invalid_transitions_change_nothing(store: Store) -> None:
    alert = store.alerts.insert(high_water())
    acked = store.alerts.acknowledge(alert.id, "wang", T0 + 60)
    with pytest.raises(InvalidTransition):
        store.alerts.acknowledge(alert.id, "li", T0 + 61)
    assert store.alerts.get(alert.id) == acked

    done = store.alerts.resolve(alert.id, T0 + 120)
    with pytest.raises(InvalidTransition):
        store.alerts.resolve(alert.id, T0 + 121)
    with pytest.raises(InvalidTransition):
        store.alerts.acknowledge(alert.id, "li", T0 + 122)
    with pytest.raises(InvalidTransition):
        store.alerts.escalate(alert.id, "critical", 5.0, 4.5, "x", T0 + 123)
    assert store.alerts.get(alert.id) == done


def test_an_unknown_alert_is_not_found(store: Store) -> None:
    store.alerts.insert(high_water())
    with pytest.raises(NotFound):
        store.alerts.get("no-such-alert")
    with pytest.raises(NotFound):
        store.alerts.escalate("no-such-alert", "danger", 1.0, 1.0, "x", T0)
    with pytest.raises(NotFound):
        store.alerts.acknowledge("no-such-alert", "wang", T0)
    with pytest.raises(NotFound):
        store.alerts.resolve("no-such-alert", T0)


def test_find_open_and_a_resolved_alert_frees_its_key(store: Store) -> None:
    assert store.alerts.find_open("station", "river", "threshold", "water_level") is None
    first = store.alerts.insert(high_water())
    assert store.alerts.find_open("station", "river", "threshold", "water_level") == first
    assert store.alerts.find_open("station", "river", "threshold", "rainfall") is None

    store.alerts.resolve(first.id, T0 + 600)
    assert store.alerts.find_open("station", "river", "threshold", "water_level") is None
    assert store.alerts.list_open() == []

    second = store.alerts.insert(high_water(at=T0 + 900))
    assert second.id != first.id
    assert store.alerts.find_open("station", "river", "threshold", "water_level") == second
    assert store.alerts.list_open() == [second]
    with pytest.raises(Conflict):
        store.alerts.insert(high_water(at=T0 + 1200))
    assert store.alerts.get(first.id).state == "resolved"


def test_list_by_state_since_and_limit(store: Store) -> None:
    ids = [store.alerts.insert(high_water(f"s{i}", at=T0 + 60 * i)).id for i in range(6)]
    store.alerts.acknowledge(ids[1], "wang", T0 + 1000)
    store.alerts.resolve(ids[2], T0 + 1000)
    store.alerts.acknowledge(ids[4], "wang", T0 + 1000)
    store.alerts.resolve(ids[4], T0 + 1100)

    def stations(alerts: list[Alert]) -> list[str]:
        return [a.source_id for a in alerts]

    assert stations(store.alerts.list()) == ["s0", "s1", "s2", "s3", "s4", "s5"]
    assert stations(store.alerts.list(state="active")) == ["s0", "s3", "s5"]
    assert stations(store.alerts.list(state="acknowledged")) == ["s1"]
    assert stations(store.alerts.list(state="resolved")) == ["s2", "s4"]
    assert stations(store.alerts.list(since=T0 + 180)) == ["s3", "s4", "s5"]
    assert stations(store.alerts.list(since=T0 + 120, state="resolved")) == ["s2", "s4"]
    assert stations(store.alerts.list(limit=2)) == ["s4", "s5"]
    assert stations(store.alerts.list(state="active", limit=2)) == ["s3", "s5"]
    assert store.alerts.list(limit=0) == []
    assert stations(store.alerts.list_open()) == ["s0", "s1", "s3", "s5"]
    assert store.alerts.list()[1] == store.alerts.get(ids[1])


def test_list_open_is_ordered_by_raised_at(store: Store) -> None:
    late = store.alerts.insert(high_water("late", at=T0 + 600))
    early = store.alerts.insert(high_water("early", at=T0))
    assert store.alerts.list_open() == [early, late]


def test_concurrent_changes_lose_no_history(store: Store, busy_switching: None) -> None:
    alert = store.alerts.insert(high_water())
    workers, changes = 4, 5
    errors: list[BaseException] = []

    def change(worker: int) -> None:
        try:
            for i in range(changes):
                severity = "danger" if (worker + i) % 2 else "warning"
                ts = T0 + worker * 100 + i
                store.alerts.escalate(alert.id, severity, 3.5, 3.2, f"{worker}/{i}", ts)
        except BaseException as e:  # reported below: an exception in a thread is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=change, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    history = store.alerts.get(alert.id).history
    assert len(history) == 1 + workers * changes
    assert {e.ts for e in history[1:]} == {
        T0 + w * 100 + i for w in range(workers) for i in range(changes)
    }


def test_concurrent_opens_of_one_key_make_one_alert(store: Store, busy_switching: None) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()

    def open_one(i: int) -> None:
        try:
            store.alerts.insert(high_water(at=T0 + i))
            result = "opened"
        except Conflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict"] * 5 + ["opened"]
    assert len(store.alerts.list_open()) == 1
