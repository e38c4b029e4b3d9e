from __future__ import annotations

from ecc.storage import Store
from ecc.storage.models import Delivery

T0 = 1_783_843_500.0


def attempt(key: str, n: int, ok: bool, at: float, alert_id: str = "a1") -> Delivery:
    return Delivery(
        key=key,
        webhook=key.rsplit(":", 1)[-1],
        alert_id=alert_id,
        event="raised",
        severity="danger",
        attempt=n,
        ts=at,
        ok=ok,
        status=200 if ok else 503,
        error=None if ok else "HTTP 503: 服务不可用",
        duration_ms=12.5,
    )


def test_attempts_of_one_delivery_in_order(store: Store) -> None:
    assert store.deliveries.attempts("a1:1:sms") == []
    store.deliveries.add(attempt("a1:1:sms", 1, False, T0))
    store.deliveries.add(attempt("a1:1:chat", 1, True, T0 + 0.5))
    store.deliveries.add(attempt("a1:1:sms", 2, True, T0 + 2))

    got = store.deliveries.attempts("a1:1:sms")
    assert [(a.attempt, a.ok, a.status) for a in got] == [(1, False, 503), (2, True, 200)]
    first = got[0]
    assert first.error == "HTTP 503: 服务不可用"
    assert (first.webhook, first.alert_id, first.event, first.severity) == (
        "sms",
        "a1",
        "raised",
        "danger",
    )
    assert first.ts == T0 and first.duration_ms == 12.5
    assert got[1].error is None
    assert all(isinstance(a.id, str) and a.id for a in got)
    assert [a.key for a in store.deliveries.attempts("a1:1:chat")] == ["a1:1:chat"]


def test_list_since_alert_and_limit(store: Store) -> None:
    for i in range(5):
        store.deliveries.add(attempt(f"a{i % 2}:1:sms", 1, True, T0 + i, alert_id=f"a{i % 2}"))

    assert [a.ts for a in store.deliveries.list()] == [T0 + i for i in range(5)]
    assert [a.ts for a in store.deliveries.list(since=T0 + 3)] == [T0 + 3, T0 + 4]
    assert [a.ts for a in store.deliveries.list(alert_id="a1")] == [T0 + 1, T0 + 3]
    assert [a.ts for a in store.deliveries.list(limit=2)] == [T0 + 3, T0 + 4]
    assert store.deliveries.list(limit=0) == []
    assert store.deliveries.list(since=T0 + 10) == []
