"""ASGI middleware: every state-changing request goes to the audit log; every request is counted.

Who made the request is known once the route's Require dependency has run (it leaves the
principal on the request state), so the entry is written after the response is sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecc.command_center.metrics import Metrics
from ecc.storage import Store
from ecc.storage.models import AuditEntry

log = logging.getLogger(__name__)

CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes that write their own, more precise audit entries.
SELF_AUDITED = frozenset({"/api/auth/login"})


class AuditMiddleware:
    def __init__(self, app: ASGIApp, store: Store, metrics: Metrics) -> None:
        self.app = app
        self.store = store
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            method = scope["method"]
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            self.metrics.http_seconds.labels(template).observe(time.perf_counter() - started)
            if 400 <= status < 500:
                self.metrics.rejected.labels(template, str(status)).inc()
            if method in CHANGING and template not in SELF_AUDITED:
                await self._audit(scope, method, template, status)

    async def _audit(self, scope: Scope, method: str, template: str, status: int) -> None:
        principal: Any = scope.get("state", {}).get("principal")
        client = scope.get("client")
        entry = AuditEntry(
            ts=time.time(),
            action=f"{method} {template}",
            username=getattr(principal, "username", None),
            target=scope["path"],
            address=client[0] if client else None,
            status=status,
        )
        try:
            await anyio.to_thread.run_sync(self.store.audit.add, entry)
        except Exception:
            log.exception("could not write the audit entry for %s %s", method, scope["path"])
