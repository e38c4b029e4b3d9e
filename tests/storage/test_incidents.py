from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from ecc.incidents import lifecycle
from ecc.storage import Conflict, InvalidTransition, NotFound, Store
from ecc.storage.models import Alert, AlertEvent, Area, Incident
from ecc.storage.mongo import MongoStore
from ecc.storage.mongo.incidents import STALE_CLAIM_S

T0 = 1_783_843_500.0


def alert(i: int, severity: str = "warning", station: str = "xiaogang-river") -> Alert:
    return Alert(
        id=f"a{i}",
        kind="level",
        severity=severity,  # type: ignore[arg-type]
        state="active",
        source_type="station",
        source_id=station,
        metric="water_level",
        value=3.3,
        threshold=3.2,
        message="水位 3.30 m，达到警戒 3.20 m",
        raised_at=T0 + i,
        updated_at=T0 + i,
        history=(AlertEvent(T0 + i, "raised", severity, 3.3, 3.2),),  # type: ignore[arg-type]
    )


def incident(n: int, *alerts: Alert, state: str = "open") -> Incident:
    i = lifecycle.opened(
        f"inc{n}",
        f"incident {n}",
        "warning",
        Area(29.93, 121.80, 1000.0, ((29.9, 121.7), (29.95, 121.75), (29.92, 121.8))),
        T0 + 100 * n,
        "operator",
        description="涵洞积水",
        sources=("camera:dam-east",),
    )
    for a in alerts:
        i = lifecycle.linked(i, a, T0 + 100 * n, None, [])
    if state == "closed":
        i = lifecycle.moved(i, "closed", T0 + 100 * n + 50, "operator")
    return i


def test_an_incident_comes_back_whole(store: Store) -> None:
    i = incident(1, alert(1))
    i = lifecycle.noted(i, "n1", T0 + 101, "leader", "下游已封路")
    i = lifecycle.dispatched(i, "t1", "cmd-1", T0 + 102, "operator", "到现场查看")
    i = lifecycle.acknowledged(i, "t1", T0 + 103, "crew")
    stored = store.incidents.insert(i)
    assert stored == replace(i, rev=0)
    assert store.incidents.get("inc1") == stored
    assert stored.area.polygon == ((29.9, 121.7), (29.95, 121.75), (29.92, 121.8))
    assert [e.kind for e in stored.history] == [
        "opened",
        "linked",
        "note",
        "dispatched",
        "acknowledged",
    ]
    assert stored.history[1].detail == {
        "alert_id": "a1",
        "source": "station:xiaogang-river",
        "severity": "warning",
        "message": "水位 3.30 m，达到警戒 3.20 m",
    }
    assert stored.sources == ("camera:dam-east", "station:xiaogang-river", "vehicle:cmd-1")
    with pytest.raises(NotFound):
        store.incidents.get("nothing")
    with pytest.raises(Conflict):
        store.incidents.insert(incident(1))


def test_a_change_is_stored_with_a_new_rev_and_a_refused_one_is_not(store: Store) -> None:
    store.incidents.insert(incident(1))
    changed = store.incidents.change(
        "inc1", lambda i: lifecycle.noted(i, "n1", T0 + 200, "crew", "到达")
    )
    assert changed.rev == 1
    assert store.incidents.get("inc1") == changed
    # Nothing changed: nothing written, the same rev.
    assert store.incidents.change("inc1", lambda i: i).rev == 1
    with pytest.raises(InvalidTransition):
        store.incidents.change("inc1", lambda i: lifecycle.moved(i, "open", T0, "operator"))
    with pytest.raises(ValueError, match="another id"):
        store.incidents.change("inc1", lambda i: replace(i, id="inc9"))
    assert store.incidents.get("inc1") == changed
    with pytest.raises(NotFound):
        store.incidents.change("nothing", lambda i: i)


def test_an_alert_belongs_to_one_incident_at_most(store: Store) -> None:
    store.incidents.insert(incident(1, alert(1)))
    assert store.incidents.for_alert("a1") is not None
    assert store.incidents.for_alert("a2") is None
    with pytest.raises(Conflict):
        store.incidents.insert(incident(2, alert(1)))
    with pytest.raises(NotFound):
        store.incidents.get("inc2")
    store.incidents.insert(incident(2, alert(2)))
    with pytest.raises(Conflict):
        store.incidents.change("inc2", lambda i: lifecycle.linked(i, alert(1), T0, "op", []))
    assert [a.alert_id for a in store.incidents.get("inc2").alerts] == ["a2"]
    # Unlinked from the first, it may join the second.
    store.incidents.change("inc1", lambda i: lifecycle.unlinked(i, "a1", T0 + 300, "operator"))
    assert store.incidents.for_alert("a1") is None
    store.incidents.change("inc2", lambda i: lifecycle.linked(i, alert(1), T0, "op", []))
    holder = store.incidents.for_alert("a1")
    assert holder is not None and holder.id == "inc2"


def test_open_or_join_sees_the_incidents_not_closed(store: Store) -> None:
    store.incidents.insert(incident(1, state="closed"))
    store.incidents.insert(incident(2))
    seen: list[list[str]] = []

    def join_first(candidates: list[Incident]) -> Incident:
        seen.append([i.id for i in candidates])
        return lifecycle.linked(candidates[0], alert(5), T0 + 500, None, [])

    joined = store.incidents.open_or_join("a5", join_first)
    assert seen == [["inc2"]]
    assert joined.id == "inc2" and joined.rev == 1
    assert [a.alert_id for a in joined.alerts] == ["a5"]

    def open_new(candidates: list[Incident]) -> Incident:
        return lifecycle.linked(incident(3), alert(6), T0 + 600, None, [])

    opened = store.incidents.open_or_join("a6", open_new)
    assert opened.id == "inc3" and opened.rev == 0
    holder = store.incidents.for_alert("a6")
    assert holder is not None and holder.id == "inc3"
    with pytest.raises(Conflict):
        store.incidents.open_or_join("a5", join_first)


def test_incidents_by_vehicle_state_and_time(store: Store) -> None:
    store.incidents.insert(lifecycle.dispatched(incident(1), "t1", "cmd-1", T0, "op", ""))
    sent_then_closed = lifecycle.dispatched(incident(2), "t2", "cmd-1", T0, "op", "")
    store.incidents.insert(lifecycle.moved(sent_then_closed, "closed", T0 + 250, "op"))
    store.incidents.insert(lifecycle.dispatched(incident(3), "t3", "cmd-2", T0, "op", ""))
    store.incidents.change("inc3", lambda i: lifecycle.dispatched(i, "t4", "cmd-1", T0, "op", ""))
    assert [i.id for i in store.incidents.for_vehicle("cmd-1")] == ["inc1", "inc3"]
    assert [i.id for i in store.incidents.for_vehicle("cmd-2")] == ["inc3"]
    assert store.incidents.for_vehicle("cmd-3") == []
    # A closed incident's tasks are over.
    store.incidents.change("inc1", lambda i: lifecycle.moved(i, "closed", T0 + 900, "op"))
    assert [i.id for i in store.incidents.for_vehicle("cmd-1")] == ["inc3"]

    assert [i.id for i in store.incidents.list()] == ["inc1", "inc2", "inc3"]
    assert [i.id for i in store.incidents.list(state="closed")] == ["inc1", "inc2"]
    assert [i.id for i in store.incidents.list(since=T0 + 200)] == ["inc2", "inc3"]
    assert [i.id for i in store.incidents.list(limit=2)] == ["inc2", "inc3"]
    assert store.incidents.list(limit=0) == []
    assert [i.id for i in store.incidents.list_open()] == ["inc3"]


def test_alerts_arriving_together_open_one_incident(store: Store, busy_switching: None) -> None:
    """The automatic rule's step is serialized across writers: with ten alerts at once, the
    first opens an incident and the nine others join it."""
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def decide(n: int) -> object:
        def choose(candidates: list[Incident]) -> Incident:
            if candidates:
                return lifecycle.linked(candidates[0], alert(n), T0 + n, None, [])
            fresh = lifecycle.opened(f"auto{n}", "auto", "warning", Area(), T0 + n, None)
            return lifecycle.linked(fresh, alert(n), T0 + n, None, [])

        return choose

    def run(n: int) -> None:
        try:
            barrier.wait()
            store.incidents.open_or_join(f"a{n}", decide(n))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    [only] = store.incidents.list()
    assert sorted(a.alert_id for a in only.alerts) == sorted(f"a{n}" for n in range(10))


def test_concurrent_notes_are_all_kept(store: Store, busy_switching: None) -> None:
    store.incidents.insert(incident(1))
    barrier = threading.Barrier(8)

    def run(n: int) -> None:
        barrier.wait()
        for k in range(5):
            store.incidents.change(
                "inc1", lambda i, k=k: lifecycle.noted(i, f"n{n}-{k}", T0 + k, f"u{n}", "…")
            )

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = store.incidents.get("inc1")
    assert len(stored.notes) == 40
    assert stored.rev == 40


def test_what_a_dead_mongodb_writer_left_is_taken_over(mongo_store: MongoStore) -> None:
    """A writer that claimed an alert and died before writing its incident, or died holding the
    rule's lease, holds nothing up for longer than the claim's age limit or the lease's term."""
    store = mongo_store
    store.incidents.insert(incident(1))
    claims = store.db["incident_alerts"]
    claims.insert_one({"_id": "a1", "incident_id": "inc9", "at": time.time()})
    assert store.incidents.for_alert("a1") is None
    # Too fresh to tell from a writer still at work.
    with pytest.raises(Conflict):
        store.incidents.change("inc1", lambda i: lifecycle.linked(i, alert(1), T0, "op", []))
    claims.update_one({"_id": "a1"}, {"$set": {"at": time.time() - STALE_CLAIM_S - 1}})
    store.incidents.change("inc1", lambda i: lifecycle.linked(i, alert(1), T0, "op", []))
    holder = store.incidents.for_alert("a1")
    assert holder is not None and holder.id == "inc1"

    store.db["incident_locks"].insert_one(
        {"_id": "open_or_join", "holder": "dead", "expires": time.time() - 1}
    )
    joined = store.incidents.open_or_join(
        "a2", lambda c: lifecycle.linked(c[0], alert(2), T0 + 2, None, [])
    )
    assert joined.id == "inc1" and store.db["incident_locks"].count_documents({}) == 0
