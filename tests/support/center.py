"""A real command center for tests: uvicorn on a free port, in a thread with its own loop."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from ecc.bus.broker import free_port
from ecc.command_center.app import Parts, create_app
from ecc.command_center.auth import hash_password
from ecc.config import Settings, Site
from ecc.storage import Store
from ecc.storage.models import User

PASSWORD = "correct horse battery"
ROLES = ("admin", "operator", "leader", "crew")


@dataclass
class RunningCenter:
    settings: Settings
    site: Site
    store: Store
    port: int = field(default_factory=free_port)
    _thread: threading.Thread | None = None
    _server: uvicorn.Server | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> RunningCenter:
        self.app = create_app(Parts(self.settings, self.site, self.store))
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets-sansio"
        )
        self._server = uvicorn.Server(config)
        self._server.capture_signals = _no_signals  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._serve, name="center", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the center did not start")
            time.sleep(0.02)
        return self

    def _serve(self) -> None:
        assert self._server is not None
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._server.serve())
        finally:
            loop.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)

    def add_users(self) -> None:
        for role in ROLES:
            if self.store.users.get(role) is None:
                self.store.users.add(User(role, role, hash_password(PASSWORD), time.time()))  # type: ignore[arg-type]

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = httpx.post(
                f"{self.url}/api/auth/login", json={"username": username, "password": PASSWORD}
            )
            r.raise_for_status()
            self._tokens[username] = r.json()["token"]
        return self._tokens[username]

    def client(self, username: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def get(self, path: str, username: str = "admin", **kw: Any) -> httpx.Response:
        with self.client(username) as c:
            return c.get(path, **kw)

    def post(self, path: str, username: str = "admin", **kw: Any) -> httpx.Response:
        with self.client(username) as c:
            return c.post(path, **kw)


def _no_signals() -> Any:
    import contextlib

    return contextlib.nullcontext()
