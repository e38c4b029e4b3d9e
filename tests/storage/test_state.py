from __future__ import annotations

from ecc.storage import Store


def test_get_put_overwrite_delete(store: Store) -> None:
    assert store.state.get("rules:river") is None
    value = {"level": "warning", "since": 1_783_843_500.5, "count": 3, "tags": ["a", "b"]}
    store.state.put("rules:river", {**value, "nested": {"x": None, "名": "值"}})
    assert store.state.get("rules:river") == {**value, "nested": {"x": None, "名": "值"}}

    store.state.put("rules:river", {"level": "danger"})
    assert store.state.get("rules:river") == {"level": "danger"}

    store.state.delete("rules:river")
    assert store.state.get("rules:river") is None
    store.state.delete("rules:river")  # deleting what is not there is no error
    store.state.put("empty", {})
    assert store.state.get("empty") == {}


def test_keys_by_prefix(store: Store) -> None:
    for key in ["layout:wang", "layout:li", "layouts", "rules:river", "a.b*", "aXbb", "Layout:x"]:
        store.state.put(key, {"k": key})

    assert store.state.keys("layout:") == ["layout:li", "layout:wang"]
    assert store.state.keys("layout") == ["layout:li", "layout:wang", "layouts"]
    # Characters that mean something in a pattern are only characters in a prefix.
    assert store.state.keys("a.b*") == ["a.b*"]
    assert store.state.keys("a.") == ["a.b*"]
    assert store.state.keys("nothing") == []
    assert store.state.keys("") == sorted(
        ["layout:wang", "layout:li", "layouts", "rules:river", "a.b*", "aXbb", "Layout:x"]
    )


def test_put_many_writes_them_all_and_overwrites(store: Store) -> None:
    store.state.put("presence:river", {"last_seen": 1.0})
    store.state.put_many({"presence:river": {"last_seen": 2.0}, "presence:dam": {"last_seen": 3.0}})
    assert store.state.get("presence:river") == {"last_seen": 2.0}
    assert store.state.get("presence:dam") == {"last_seen": 3.0}
    store.state.put_many({})
    assert store.state.keys("presence:") == ["presence:dam", "presence:river"]
