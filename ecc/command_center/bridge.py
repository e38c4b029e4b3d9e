"""From the bus to this node's WebSocket clients.

Every center node subscribes on its own (not a shared subscription), so each relays every alert
to its own clients. Readings are relayed at most once per station per interval: the first at
once, the newest of the rest when the interval ends, so a dashboard never shows a stale value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from ecc import times
from ecc.bus import Bus, Topics
from ecc.command_center.events import EventHub
from ecc.command_center.live import LiveState
from ecc.command_center.metrics import Metrics
from ecc.config import Site
from ecc.sensors.validation import Limits, Rejected, Validator

log = logging.getLogger(__name__)


class Throttle:
    """At most one call per key per interval; the newest value of an interval is not lost."""

    def __init__(self, interval_s: float, emit: Any) -> None:
        self.interval_s = interval_s
        self._emit = emit
        self._last: dict[str, float] = {}
        self._pending: dict[str, Any] = {}

    def offer(self, key: str, value: Any) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is None or now - last >= self.interval_s:
            self._last[key] = now
            self._emit(value)
            return
        if key not in self._pending:
            asyncio.get_running_loop().call_later(self.interval_s - (now - last), self._flush, key)
        self._pending[key] = value

    def _flush(self, key: str) -> None:
        value = self._pending.pop(key, None)
        if value is not None:
            self._last[key] = time.monotonic()
            self._emit(value)


class Bridge:
    def __init__(
        self,
        bus: Bus,
        topics: Topics,
        hub: EventHub,
        site: Site,
        live: LiveState,
        metrics: Metrics,
        limits: Limits | None = None,
    ) -> None:
        self.bus = bus
        self.topics = topics
        self.hub = hub
        self.site = site
        self.live = live
        self.metrics = metrics
        self._stations = {s.id for s in site.stations}
        self._readings = Throttle(1.0, lambda data: hub.publish("reading", data))
        self._validator = Validator(site, topics, limits)

    def attach(self, reading_interval_s: float) -> None:
        self._readings.interval_s = reading_interval_s
        t = self.topics
        self.bus.subscribe(t.alerts, self._alert, qos=1)
        self.bus.subscribe(t.readings(), self._reading, qos=0)
        self.bus.subscribe(t.station_status(), self._station_status, qos=1)
        self.bus.subscribe(t.camera_status(), self._camera_status, qos=1)
        self.bus.subscribe(t.vehicle_position(), self._position, qos=0)
        self.bus.subscribe(t.events(), self._event, qos=1)

    def _json(self, kind: str, payload: bytes) -> dict[str, Any] | None:
        self.metrics.bus_messages.labels(kind).inc()
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            self.metrics.bus_rejected.labels(kind).inc()
            return None
        return data

    def _alert(self, topic: str, payload: bytes) -> None:
        data = self._json("alert", payload)
        if data is not None:
            self.hub.publish("alert", data)

    def _reading(self, topic: str, payload: bytes) -> None:
        self.metrics.bus_messages.labels("reading").inc()
        try:
            # The ingest worker's own checks: what it refuses (and keeps as a dead letter) is
            # never shown.
            r = self._validator.reading(topic, payload, time.time())
        except Rejected:
            self.metrics.bus_rejected.labels("reading").inc()
            return
        self._readings.offer(
            r.station_id, {"station_id": r.station_id, "ts": times.iso(r.ts), "values": r.values}
        )

    def _station_status(self, topic: str, payload: bytes) -> None:
        station = self.topics.station_of(topic)
        data = self._json("station", payload)
        if data is None or station not in self._stations:
            return
        assert station is not None
        status = {"id": station, "online": bool(data.get("online"))}
        self.live.station_status[station] = status
        self.hub.publish("station", status)

    def _camera_status(self, topic: str, payload: bytes) -> None:
        camera = self.topics.camera_of(topic)
        data = self._json("camera", payload)
        if data is None or camera is None or self.site.camera(camera) is None:
            return
        data["id"] = camera
        self.live.camera_status[camera] = data
        self.hub.publish("camera", data)

    def _position(self, topic: str, payload: bytes) -> None:
        vehicle = self.topics.vehicle_of(topic)
        data = self._json("position", payload)
        if data is None or vehicle is None or self.site.vehicle(vehicle) is None:
            return
        data["vehicle_id"] = vehicle
        self.hub.publish("position", data)

    def _event(self, topic: str, payload: bytes) -> None:
        kind = topic.rsplit("/", 1)[-1]
        data = self._json(kind, payload)
        if data is not None:
            self.hub.publish(kind, data)
