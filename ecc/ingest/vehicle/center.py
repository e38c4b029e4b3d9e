"""The vehicle agent's side of the center's HTTP API, and what it knows of the link.

Requests are few (a batch of positions, a telemetry report every few seconds), so they use the
standard library in a worker thread, as the WHIP client does, rather than another dependency.

`Link` is the agent's one view of whether the center answers: every request tells it. While the
link is down each task backs off on its own (with jitter); the moment any request gets through
again, every task waiting out a backoff tries at once, so video and queued positions resume
together instead of each after its own timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0


class CenterError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def token_source(value: str) -> Callable[[], str]:
    """`--token T`, or `--token @FILE`: read again at every request, so a token renewed in the
    file is used without restarting the agent."""
    if not value.startswith("@"):
        return lambda: value
    path = Path(value[1:])

    def read() -> str:
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CenterError(f"token file {path}: {exc.strerror}") from None

    return read


class Link:
    def __init__(self) -> None:
        self.up: bool | None = None
        self._restored = asyncio.Event()

    def ok(self) -> None:
        if self.up is not True:
            if self.up is False:
                log.info("the center answers again")
            self.up = True
            self._restored.set()
            self._restored = asyncio.Event()

    def failed(self, reason: str) -> None:
        if self.up is not False:
            log.warning("the center does not answer: %s", reason)
        self.up = False

    @property
    def restored(self) -> asyncio.Event:
        """Set the next time the link comes back up."""
        return self._restored

    async def pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if the link comes back meanwhile."""
        restored = self._restored
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(restored.wait(), seconds)


class Center:
    def __init__(self, server: str, token: Callable[[], str], link: Link) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.link = link

    def url(self, path: str) -> str:
        return f"{self.server}{path}"

    def vehicle_path(self, vehicle_id: str, tail: str = "") -> str:
        return f"/api/vehicles/{quote(vehicle_id, safe='')}{tail}"

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request. CenterError with the status for an answer that is not 2xx (the
        link is up: the center answered), or without one when nothing answered."""
        token = self.token()
        data = None if body is None else orjson.dumps(body)
        try:
            status, payload = await asyncio.to_thread(_request, method, self.url(path), token, data)
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            self.link.failed(str(reason))
            raise CenterError(f"{method} {path}: {reason}") from None
        self.link.ok()
        if not 200 <= status < 300:
            detail = payload.get("detail") if isinstance(payload, dict) else payload
            raise CenterError(f"{method} {path}: {status} {detail}", status)
        return payload


def _request(method: str, url: str, token: str, body: bytes | None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return status, raw[:200].decode(errors="replace")
