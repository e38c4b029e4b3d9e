from __future__ import annotations

from ecc.storage import Store
from ecc.storage.models import AuditEntry

T0 = 1_783_843_500.0


def fill(store: Store) -> None:
    for entry in [
        AuditEntry(T0, "login", "wang", address="10.0.0.5", status=200),
        AuditEntry(T0 + 1, "login_failed", "wang", address="10.0.0.5", status=401),
        AuditEntry(T0 + 2, "login_failed", "wang", address="10.0.0.9", status=401),
        AuditEntry(T0 + 3, "login_failed", "li", address="10.0.0.5", status=401),
        AuditEntry(
            T0 + 4,
            "alert.ack",
            "li",
            target="alert:42",
            address="10.0.0.7",
            status=200,
            detail={"note": "积水已排", "levels": [3.2, 3.8], "nested": {"ok": True}},
        ),
        AuditEntry(T0 + 5, "login_failed", None, address="10.0.0.5", status=401),
    ]:
        store.audit.add(entry)


def test_entries_come_back_whole_with_string_ids(store: Store) -> None:
    fill(store)
    entries = store.audit.list()
    assert [e.ts for e in entries] == [T0 + i for i in range(6)]
    ack = entries[4]
    assert ack == AuditEntry(
        T0 + 4,
        "alert.ack",
        "li",
        target="alert:42",
        address="10.0.0.7",
        status=200,
        detail={"note": "积水已排", "levels": [3.2, 3.8], "nested": {"ok": True}},
        id=ack.id,
    )
    assert entries[0].detail is None
    assert entries[5].username is None
    assert all(isinstance(e.id, str) and e.id for e in entries)
    assert len({e.id for e in entries}) == 6


def test_list_filters_and_limit(store: Store) -> None:
    fill(store)

    def times(entries: list[AuditEntry]) -> list[float]:
        return [e.ts - T0 for e in entries]

    assert times(store.audit.list(since=T0 + 3)) == [3, 4, 5]
    assert times(store.audit.list(username="wang")) == [0, 1, 2]
    assert times(store.audit.list(action="login_failed")) == [1, 2, 3, 5]
    assert times(store.audit.list(action="login_failed", username="wang", since=T0 + 2)) == [2]
    assert times(store.audit.list(limit=2)) == [4, 5]
    assert times(store.audit.list(action="login_failed", limit=3)) == [2, 3, 5]
    assert store.audit.list(username="nobody") == []
    assert store.audit.list(limit=0) == []


def test_count_by_action_since_username_and_address(store: Store) -> None:
    fill(store)
    assert store.audit.count("login_failed", since=T0) == 4
    assert store.audit.count("login_failed", since=T0 + 2) == 3
    assert store.audit.count("login_failed", since=T0, username="wang") == 2
    assert store.audit.count("login_failed", since=T0, address="10.0.0.5") == 3
    assert store.audit.count("login_failed", since=T0, username="wang", address="10.0.0.5") == 1
    assert store.audit.count("login", since=T0 + 1) == 0
    assert store.audit.count("export", since=0) == 0
