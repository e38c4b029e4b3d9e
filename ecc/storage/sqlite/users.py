from __future__ import annotations

import sqlite3
from dataclasses import fields, replace
from typing import Any

from ecc.storage.errors import Conflict, NotFound
from ecc.storage.models import User
from ecc.storage.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT 'zh-CN',
    timezone TEXT
)
"""
_COLUMNS = "username, role, password_hash, created_at, disabled, language, timezone"
CHANGEABLE = {f.name for f in fields(User)} - {"username", "created_at"}


def _user(row: tuple[Any, ...]) -> User:
    username, role, pw, created, disabled, language, tz = row
    return User(username, role, pw, created, bool(disabled), language, tz)


class SQLiteUsers:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, user: User) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.username,
                        user.role,
                        user.password_hash,
                        user.created_at,
                        int(user.disabled),
                        user.language,
                        user.timezone,
                    ),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"user {user.username!r} exists") from None

    def get(self, username: str) -> User | None:
        row = (
            self._db.conn()
            .execute(f"SELECT {_COLUMNS} FROM users WHERE username = ?", (username,))
            .fetchone()
        )
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        rows = self._db.conn().execute(f"SELECT {_COLUMNS} FROM users ORDER BY username").fetchall()
        return [_user(r) for r in rows]

    def update(self, username: str, **changes: Any) -> User:
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a user")
        with self._db.write() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM users WHERE username = ?", (username,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no user {username!r}")
            user = replace(_user(row), **changes)
            conn.execute(
                "UPDATE users SET role = ?, password_hash = ?, disabled = ?, language = ?,"
                " timezone = ? WHERE username = ?",
                (
                    user.role,
                    user.password_hash,
                    int(user.disabled),
                    user.language,
                    user.timezone,
                    username,
                ),
            )
        return user

    def count(self) -> int:
        return int(self._db.conn().execute("SELECT count(*) FROM users").fetchone()[0])
