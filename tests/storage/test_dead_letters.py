from __future__ import annotations

from ecc.storage import Store
from ecc.storage.models import DeadLetter

T0 = 1_783_843_500.0
TOPIC = "ecc/v1/stations/river/readings"


def letter(at: float, reason: str = "json: expecting value", raw: bytes = b"{") -> DeadLetter:
    return DeadLetter(topic=TOPIC, reason=reason, raw=raw, received_at=at)


def test_raw_bytes_come_back_exactly(store: Store) -> None:
    payloads = [b"\xff\xfe\x00\x80 not UTF-8 \xc3\x28", b"", b'{"ts": 1, "values": {}}', bytes(256)]
    store.dead_letters.add([letter(T0 + i, raw=raw) for i, raw in enumerate(payloads)])

    got = store.dead_letters.list()
    assert [d.raw for d in got] == payloads
    assert all(type(d.raw) is bytes for d in got)
    assert [(d.topic, d.reason, d.received_at) for d in got] == [
        (TOPIC, "json: expecting value", T0 + i) for i in range(4)
    ]
    ids = [d.id for d in got]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == 4


def test_list_since_and_limit(store: Store) -> None:
    store.dead_letters.add([letter(T0 + i, reason=f"r{i}: x") for i in range(5)])

    def reasons(letters: list[DeadLetter]) -> list[str]:
        return [d.reason for d in letters]

    assert reasons(store.dead_letters.list(since=T0 + 2)) == ["r2: x", "r3: x", "r4: x"]
    assert reasons(store.dead_letters.list(limit=2)) == ["r3: x", "r4: x"]
    assert reasons(store.dead_letters.list(since=T0 + 1, limit=2)) == ["r3: x", "r4: x"]
    assert store.dead_letters.list(since=T0 + 5) == []
    assert store.dead_letters.list(limit=0) == []


def test_count_and_count_by_reason(store: Store) -> None:
    assert store.dead_letters.count() == 0
    assert store.dead_letters.count_by_reason() == {}
    store.dead_letters.add([])
    store.dead_letters.add(
        [
            letter(T0, "json: expecting value"),
            letter(T0, "json: unterminated string"),
            letter(T0, "schema: values: unknown metric: ph"),
            letter(T0, "too large"),
            letter(T0, ": no category"),
        ]
    )
    assert store.dead_letters.count() == 5
    assert store.dead_letters.count_by_reason() == {
        "json": 2,
        "schema": 1,
        "too large": 1,
        "": 1,
    }
