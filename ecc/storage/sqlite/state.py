from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ecc.storage.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""


class SQLiteState:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.conn().execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.put_many({key: value})

    def put_many(self, values: Mapping[str, dict[str, Any]]) -> None:
        if not values:
            return
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO state VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(key, orjson.dumps(value).decode()) for key, value in values.items()],
            )

    def delete(self, key: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM state WHERE key = ?", (key,))

    def keys(self, prefix: str) -> list[str]:
        rows = (
            self._db.conn()
            .execute(
                "SELECT key FROM state WHERE substr(key, 1, ?) = ? ORDER BY key",
                (len(prefix), prefix),
            )
            .fetchall()
        )
        return [r[0] for r in rows]
