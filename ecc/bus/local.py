"""An in-process bus with the MqttClient's publish/subscribe surface.

`ecc serve` without a broker (a lone center, tests of the API) relays what it publishes to its
own subscribers; with a broker, the same code goes through MQTT and reaches every node.
"""

from __future__ import annotations

import asyncio
import logging

import paho.mqtt.client as mqtt

from ecc.bus.client import Handler, Subscription

log = logging.getLogger(__name__)


class LocalBus:
    connected = True

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self, pattern: str, handler: Handler, qos: int = 0) -> None:
        self._subs.append(Subscription(pattern, handler, qos))

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """Thread-safe, like MqttClient.publish: handlers run on the bus's event loop."""
        data = payload.encode() if isinstance(payload, str) else payload
        loop = self._loop or asyncio.get_running_loop()
        for sub in self._subs:
            if mqtt.topic_matches_sub(sub.pattern, topic):
                loop.call_soon_threadsafe(sub.handler, topic, data)

    async def start(self, timeout: float | None = None) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        return None
