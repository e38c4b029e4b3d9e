"""paho-mqtt 2.x bridged to asyncio.

paho runs its network loop in its own thread (`loop_start`); callbacks hop onto the event loop
with `call_soon_threadsafe`, so handlers run on the loop and never block paho's thread, and the
loop never blocks on the socket.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], None]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(
        cls, url: str, username: str | None = None, password: str | None = None
    ) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"{url!r} is not an mqtt://host:port URL")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=parts.username or username,
            password=parts.password or password,
        )


@dataclass
class Subscription:
    pattern: str
    handler: Handler
    qos: int = 0


@dataclass
class MqttClient:
    """A resilient MQTT v5 client: reconnects with backoff and re-subscribes after each connect."""

    address: BrokerAddress
    client_id: str = field(default_factory=lambda: f"ecc-{uuid.uuid4().hex[:12]}")
    will: tuple[str, bytes, bool] | None = None
    _subs: list[Subscription] = field(default_factory=list)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _client: mqtt.Client | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def subscribe(self, pattern: str, handler: Handler, qos: int = 0) -> None:
        """Register before or after start; (re)subscribed on every connect."""
        self._subs.append(Subscription(pattern, handler, qos))
        if self._client is not None and self.connected:
            self._client.subscribe(pattern, qos=qos)

    async def start(self, timeout: float | None = 10.0) -> None:
        """Connect in the background; wait up to `timeout` for the first connection."""
        self._loop = asyncio.get_running_loop()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        if self.will:
            topic, payload, retain = self.will
            client.will_set(topic, payload, qos=1, retain=retain)
        # paho's own reconnect loop (loop_start retries the first connection too): 1 s doubling
        # to 10 s.
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        client.connect_async(self.address.host, self.address.port, keepalive=15)
        client.loop_start()
        if timeout is not None:
            await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        if self._client is None:
            raise RuntimeError("the MQTT client is not started")
        # Thread-safe in paho 2; queued by paho while disconnected (QoS > 0).
        self._client.publish(topic, payload, qos=qos, retain=retain)

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._connected.clear()

    # paho callbacks, on paho's thread.

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning(
                "MQTT connect to %s:%s refused: %s", self.address.host, self.address.port, reason
            )
            return
        for sub in self._subs:
            client.subscribe(sub.pattern, qos=sub.qos)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._connected.set)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._connected.clear)
        if self._client is not None:
            log.warning(
                "MQTT connection to %s:%s lost: %s", self.address.host, self.address.port, reason
            )

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for sub in self._subs:
            if mqtt.topic_matches_sub(sub.pattern, msg.topic):
                loop.call_soon_threadsafe(_deliver, sub.handler, msg.topic, msg.payload)


def _deliver(handler: Handler, topic: str, payload: bytes | bytearray) -> None:
    try:
        handler(topic, bytes(payload))
    except Exception:
        log.exception("handler for %s failed", topic)
