"""A durable MQTT v5 subscriber: persistent session, shared subscriptions, manual acknowledgement.

What "nothing lost" takes from the broker and from paho-mqtt 2.x:

- the same client id on every connect, `clean_start=False` and a Session Expiry Interval: paho
  sends none by default, and then Mosquitto ends the session with the connection and drops
  everything queued for it (MQTT v5 §3.1.2.11.2);
- QoS 1 with `manual_ack=True`: a message is acknowledged (`Client.ack`) only once its owner
  says it is safe (stored), so a worker killed before that gets it again;
- an acknowledgement belongs to one connection: after a reconnect the broker resends what was
  not acknowledged (with its DUP flag), so acks of messages received on an older connection are
  not sent, and those messages come back and are absorbed as duplicates;
- the receiver bounds its own buffer (`Inbox`): Mosquitto's in-flight window is not a hard bound
  when acknowledgements come in batches. When the inbox is full, the network thread waits
  before it reads the socket (never inside paho's callback, which holds locks that an ack from
  the consumer's thread needs), so TCP pushes back on the broker.

The network thread only reads packets and appends them to the inbox: with paho's pure-Python
packet parsing, any more work on that thread fights the consumer for the GIL.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ecc.bus.client import BrokerAddress

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int
    """Which connection of the session it came on (acks go only on that one)."""
    received_at: float


class Inbox:
    """Messages received and not yet acknowledged, at most `capacity` of them.

    `put` (paho's thread) waits while the inbox is full; `take` (the consumer) hands out up to
    a batch; `done` frees the room of messages that were acknowledged or given up.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: list[Message] = []
        self._held = 0
        self._cond = threading.Condition()
        self._closed = False
        self._batch = 1

    @property
    def held(self) -> int:
        return self._held

    def put(self, message: Message) -> None:
        """Never waits: paho calls it holding its own locks, which an ack from the consumer's
        thread needs too. The network thread waits for room before it reads (`wait_for_room`),
        so the inbox holds at most `capacity` plus the one packet being read."""
        with self._cond:
            if self._closed:
                return  # not acknowledged: the broker delivers it again
            self._items.append(message)
            self._held += 1
            n = len(self._items)
            # Wake the consumer for the first message and for a full batch, not for each one.
            if n in (1, self._batch):
                self._cond.notify_all()

    def wait_for_room(self, timeout: float) -> bool:
        with self._cond:
            if self._held >= self.capacity and not self._closed:
                self._cond.wait(timeout)
            return self._held < self.capacity and not self._closed

    def take(self, batch: int, linger_s: float, idle_s: float) -> list[Message]:
        """Up to `batch` messages: waits up to `idle_s` for the first, then up to `linger_s`
        from it for the batch to fill. An empty list when idle or closed."""
        with self._cond:
            self._batch = batch
            if not self._items and not self._closed:
                self._cond.wait(idle_s)
            if not self._items:
                return []
            # From the first message's arrival, not from this call: messages that came in while
            # the last batch was being stored have waited already, and an alert among them
            # must not wait a full interval more. (Wall clock, as `received_at` is; bounded by
            # `linger_s` all the same should the clock step.)
            waited = time.time() - self._items[0].received_at
            deadline = time.monotonic() + min(linger_s, max(0.0, linger_s - waited))
            while len(self._items) < batch and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken, self._items = self._items[:batch], self._items[batch:]
            return taken

    def done(self, n: int) -> None:
        with self._cond:
            self._held -= n
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


@dataclass(frozen=True, slots=True)
class SessionConfig:
    address: BrokerAddress
    client_id: str
    subscriptions: Sequence[str]
    session_expiry_s: int = 86400
    keepalive_s: int = 30
    min_backoff_s: float = 0.5
    max_backoff_s: float = 30.0


class DurableSession:
    """One persistent MQTT v5 session, its network thread and its reconnects."""

    def __init__(self, config: SessionConfig, inbox: Inbox) -> None:
        self.config = config
        self.inbox = inbox
        self._connection = 0
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._pending_subscribes: set[int] = set()
        self._stop = threading.Event()
        self._ack_lock = threading.Lock()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        address = config.address
        if address.username:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set()
        # What this session publishes (alerts) may queue while disconnected; paho holds it.
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        # Without loop_start() paho takes a packet queued from another thread (an ack, a
        # publish) as its cue to write the socket on that thread, and two threads popping one
        # unlocked queue lose packets: lost acks that stall the broker's in-flight window. With
        # this callback set, paho only queues the packet and wakes the network thread.
        client.on_socket_register_write = _network_thread_writes
        self.client = client
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{config.client_id}", daemon=True
        )

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def wait_subscribed(self, timeout: float) -> bool:
        """Until the broker has granted this connection's subscriptions."""
        return self._subscribed.wait(timeout)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Disconnect and join the network thread; unacknowledged messages stay with the broker."""
        self._stop.set()
        self.inbox.close()
        self.client.disconnect()
        self._thread.join(timeout=10)

    def ack(self, messages: Sequence[Message]) -> int:
        """Acknowledge messages of the current connection; returns how many were sent."""
        sent = 0
        with self._ack_lock:
            current = self._connection if self._connected.is_set() else -1
            for m in messages:
                if m.qos > 0 and m.connection == current:
                    self.client.ack(m.mid, m.qos)
                    sent += 1
        return sent

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Thread-safe; paho queues QoS 1 messages while disconnected."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    # The network thread.

    def _run(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self.config.session_expiry_s
        delay = self.config.min_backoff_s
        first = True
        while not self._stop.is_set():
            try:
                if first:
                    self.client.connect(
                        self.config.address.host,
                        self.config.address.port,
                        keepalive=self.config.keepalive_s,
                        clean_start=False,
                        properties=properties,
                    )
                    first = False
                else:
                    self.client.reconnect()
            except (OSError, ValueError) as exc:
                # Fall through to the backoff: a failed connect is a failure, never "connected".
                log.warning(
                    "MQTT %s: cannot connect to %s:%s: %s",
                    self.config.client_id,
                    self.config.address.host,
                    self.config.address.port,
                    exc,
                )
            else:
                rc = MQTTErrorCode.MQTT_ERR_SUCCESS
                while not self._stop.is_set() and rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                    # A full inbox: stop reading the socket, so TCP pushes back on the broker.
                    if self.inbox.wait_for_room(1.0):
                        rc = self.client.loop(timeout=1.0)
                if self._connected.is_set():
                    delay = self.config.min_backoff_s
                self._lost()
            if self._stop.is_set():
                break
            # Exponential backoff with full jitter, so that workers cut off together do not all
            # knock on the broker in the same instant.
            self._stop.wait(random.uniform(self.config.min_backoff_s, delay))
            delay = min(delay * 2, self.config.max_backoff_s)
        self._lost()

    def _lost(self) -> None:
        with self._ack_lock:
            self._connected.clear()
            self._subscribed.clear()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT %s: connection refused: %s", self.config.client_id, reason)
            return
        with self._ack_lock:
            self._connection += 1
            self._connected.set()
        if not flags.session_present:
            log.info("MQTT %s: new session (nothing was kept for it)", self.config.client_id)
        self._pending_subscribes.clear()
        for pattern in self.config.subscriptions:
            _, mid = client.subscribe(pattern, qos=1)
            if mid is not None:
                self._pending_subscribes.add(mid)
        if not self._pending_subscribes:
            self._subscribed.set()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [r for r in reasons if r.is_failure]
        if refused:
            log.error("MQTT %s: subscription refused: %s", self.config.client_id, refused[0])
            return
        self._pending_subscribes.discard(mid)
        if not self._pending_subscribes:
            self._subscribed.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._lost()
        if not self._stop.is_set():
            log.warning("MQTT %s: connection lost: %s", self.config.client_id, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(
            Message(msg.topic, bytes(msg.payload), msg.mid, msg.qos, self._connection, time.time())
        )


def _network_thread_writes(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """The network thread's select() already watches the socket for writing."""
