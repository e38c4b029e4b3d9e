"""The event hub: every WebSocket client of this node gets every event, serialized once.

Each client has a bounded queue. A client that falls that far behind is disconnected (close
code 1013, try again later) rather than queueing without bound or silently missing alerts: on
reconnect the dashboard reloads the current state over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from ecc.command_center.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    username: str
    queue: asyncio.Queue[bytes]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)


class EventHub:
    def __init__(self, queue_size: int, metrics: Metrics) -> None:
        self._queue_size = queue_size
        self._metrics = metrics
        self._subscribers: set[Subscriber] = set()

    @property
    def count(self) -> int:
        return len(self._subscribers)

    def connect(self, username: str) -> Subscriber:
        sub = Subscriber(username, asyncio.Queue(self._queue_size))
        self._subscribers.add(sub)
        self._metrics.ws_clients.set(len(self._subscribers))
        return sub

    def disconnect(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)
        self._metrics.ws_clients.set(len(self._subscribers))

    def publish(self, kind: str, data: Any) -> None:
        """Queue one event for every client; call on the event loop."""
        message = orjson.dumps({"type": kind, "data": data})
        self._metrics.events.labels(kind).inc()
        for sub in list(self._subscribers):
            if sub.overflowed.is_set():
                continue
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning(
                    "event client %s fell %d events behind; disconnecting it",
                    sub.username,
                    self._queue_size,
                )
                self._metrics.ws_overflows.inc()
                sub.overflowed.set()
