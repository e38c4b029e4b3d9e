"""One SQLite file in WAL mode, one connection per thread.

WAL lets readers run beside the single writer; each thread keeps its own connection because a
sqlite3 connection must not be shared between threads mid-statement. Writes take the lock up
front (BEGIN IMMEDIATE) so that two writers wait for each other under busy_timeout instead of
failing when a read transaction tries to upgrade.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Database:
    def __init__(self, path: Path, schema: list[str]) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        with self.write() as c:
            for ddl in schema:
                for statement in _split(ddl):
                    c.execute(statement)

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the store is closed")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a reading is acknowledged to the broker once committed, so a commit must
            # survive a power cut, not only a crash of the process.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=15000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def matching(**columns: object) -> tuple[list[str], list[object]]:
    """`column = ?` conditions and their arguments for the columns given a value (None: any)."""
    given = {c: v for c, v in columns.items() if v is not None}
    return [f'"{c}" = ?' for c in given], list(given.values())


def where(conditions: list[str]) -> str:
    """A WHERE clause of all the conditions; empty when there are none."""
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


def _split(ddl: str) -> list[str]:
    return [s.strip() for s in ddl.split(";") if s.strip()]
