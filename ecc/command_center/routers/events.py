"""WS /api/events?token=: one JSON object per message, `{"type": ..., "data": {...}}`."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ecc.command_center.deps import Principal, Principals
from ecc.command_center.events import EventHub, Subscriber
from ecc.command_center.metrics import Metrics
from ecc.command_center.permissions import allowed
from ecc.tokens import TokenError

router = APIRouter(tags=["events"])

PERMISSION = "events.subscribe"


async def _deny(ws: WebSocket, code: int, detail: str) -> None:
    metrics: Metrics = ws.app.state.metrics
    metrics.rejected.labels("/api/events", str(code)).inc()
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse({"detail": detail}, status_code=code))
    else:
        await ws.close(code=4000 + code, reason=detail)


@router.websocket("/api/events")
async def events(ws: WebSocket, token: str | None = None) -> None:
    if not token:
        await _deny(ws, 401, "missing token (?token=)")
        return
    principals: Principals = ws.app.state.principals
    try:
        principal: Principal = await run_in_threadpool(principals.authenticate, token)
    except TokenError as exc:
        await _deny(ws, 401, str(exc))
        return
    if not allowed(principal.role, PERMISSION):
        await _deny(ws, 403, f"role {principal.role} may not {PERMISSION}")
        return
    hub: EventHub = ws.app.state.hub
    await ws.accept()
    sub = hub.connect(principal.username)
    try:
        await _pump(ws, sub)
    finally:
        hub.disconnect(sub)


async def _pump(ws: WebSocket, sub: Subscriber) -> None:
    async def receive() -> None:
        # Clients send nothing we act on; reading tells us when they go away.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await ws.receive_text()

    async def send() -> None:
        while True:
            message = await sub.queue.get()
            await ws.send_text(message.decode())

    tasks = {
        asyncio.create_task(receive(), name="events-receive"),
        asyncio.create_task(send(), name="events-send"),
        asyncio.create_task(sub.overflowed.wait(), name="events-overflow"),
    }
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if sub.overflowed.is_set():
        with contextlib.suppress(Exception):
            await ws.close(code=1013, reason="too far behind; reconnect and reload")
    for t in done:
        exc = t.exception() if not t.cancelled() else None
        if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
            raise exc
