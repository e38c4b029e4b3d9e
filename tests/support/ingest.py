"""The sensor ingest worker for tests, in a thread with its own loop, and a test publisher."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ecc.config import Settings, Site
from ecc.ingest.sensors import SensorIngest
from ecc.storage import Store


@dataclass
class RunningIngest:
    settings: Settings
    site: Site
    store: Store
    client_id: str = "ecc-ingest-test"
    worker: SensorIngest | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _task: asyncio.Task[None] | None = None
    error: BaseException | None = None

    def start(self, timeout: float = 15) -> RunningIngest:
        self.worker = SensorIngest(self.settings, self.site, self.store, self.client_id)
        started = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._task = loop.create_task(self.worker.run(), name="ingest")  # type: ignore[union-attr]
            started.set()
            try:
                loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                pass
            except BaseException as exc:
                self.error = exc
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="test-ingest", daemon=True)
        self._thread.start()
        started.wait(timeout)
        wait_for(lambda: self.worker is not None and self.worker.session is not None, timeout)
        assert self.worker.session is not None
        assert self.worker.session.wait_subscribed(timeout), "the ingest worker did not subscribe"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "the ingest worker did not stop"


def wait_for(check: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    """Poll a condition on shared state (the store) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


@dataclass
class Publisher:
    """A QoS 1 publisher that knows when the broker has everything it sent."""

    port: int
    client_id: str = "ecc-test-publisher"
    max_inflight: int = 1000
    _acked: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    _room: threading.Semaphore | None = None
    client: mqtt.Client | None = None
    sent: int = 0

    def __enter__(self) -> Publisher:
        self._room = threading.Semaphore(self.max_inflight)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(self.max_inflight)
        c.on_publish = self._on_publish
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        self.client = c
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.client is not None
        self.client.disconnect()
        self.client.loop_stop()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, *rest: Any) -> None:
        assert self._room is not None
        self._room.release()
        self._acked.release()

    def publish(self, topic: str, payload: bytes | str) -> None:
        assert self.client is not None and self._room is not None
        # paho wraps message ids past 65,535 outstanding: never have that many.
        assert self._room.acquire(timeout=30), "the broker stopped acknowledging"
        self.client.publish(topic, payload, qos=1)
        self.sent += 1

    def publish_all(self, messages: Iterable[tuple[str, bytes | str]]) -> None:
        for topic, payload in messages:
            self.publish(topic, payload)

    def wait_acked(self, timeout: float = 30) -> None:
        """Until the broker has acknowledged everything published so far."""
        deadline = time.monotonic() + timeout
        for _ in range(self.sent):
            assert self._acked.acquire(timeout=max(0.0, deadline - time.monotonic()))
        self.sent = 0


class RunningPart:
    """Any supervised part (`name`, `async run()`) in a thread with its own loop."""

    def __init__(self, part: Any) -> None:
        self.part = part
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=f"test-{part.name}", daemon=True)

    def __enter__(self) -> RunningPart:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), f"{self.part.name} did not stop"

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._task = loop.create_task(self.part.run(), name=self.part.name)
        self._ready.set()
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            self.error = exc
        finally:
            loop.close()
