from __future__ import annotations

import pytest

from ecc.storage import Conflict, NotFound, Store
from ecc.storage.models import Role, User

T0 = 1_783_843_500.0


def user(name: str, role: Role = "operator") -> User:
    return User(username=name, role=role, password_hash=f"$argon2id${name}", created_at=T0)


def test_add_get_list_count(store: Store) -> None:
    assert store.users.count() == 0
    assert store.users.get("wang") is None
    store.users.add(user("zhao", "admin"))
    store.users.add(user("wang"))
    store.users.add(User("li", "crew", "h", T0 + 1, True, "en", "Asia/Shanghai"))

    assert store.users.get("wang") == user("wang")
    assert store.users.get("li") == User("li", "crew", "h", T0 + 1, True, "en", "Asia/Shanghai")
    assert [u.username for u in store.users.list()] == ["li", "wang", "zhao"]
    assert store.users.list()[2] == user("zhao", "admin")
    assert store.users.count() == 3


def test_adding_an_existing_username_is_a_conflict(store: Store) -> None:
    store.users.add(user("wang"))
    with pytest.raises(Conflict):
        store.users.add(user("wang", "admin"))
    assert store.users.get("wang") == user("wang")
    assert store.users.count() == 1


def test_update_changes_only_the_given_fields(store: Store) -> None:
    store.users.add(user("wang"))
    changed = store.users.update("wang", role="leader", disabled=True, timezone="Asia/Shanghai")

    expected = User("wang", "leader", "$argon2id$wang", T0, True, "zh-CN", "Asia/Shanghai")
    assert changed == expected
    assert store.users.get("wang") == expected
    assert store.users.update("wang") == expected
    assert store.users.update("wang", password_hash="new").password_hash == "new"
    assert store.users.get("wang") == User(
        "wang", "leader", "new", T0, True, "zh-CN", "Asia/Shanghai"
    )


@pytest.mark.parametrize("field", ["created_at", "colour"])
def test_update_of_a_field_that_cannot_change_is_a_value_error(store: Store, field: str) -> None:
    store.users.add(user("wang"))
    with pytest.raises(ValueError, match=field):
        store.users.update("wang", **{field: "x"})
    assert store.users.get("wang") == user("wang")


def test_update_of_an_unknown_user_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.users.update("nobody", role="admin")
    with pytest.raises(NotFound):
        store.users.update("nobody")
    assert store.users.count() == 0
