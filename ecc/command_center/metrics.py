"""Prometheus metrics of one center node, in a registry of its own (one per app)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ecc.storage import Store


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "ecc_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.http_seconds = Histogram(
            "ecc_http_request_seconds", "time to answer HTTP requests", ["route"], registry=r
        )
        self.rejected = Counter(
            "ecc_http_rejected",
            "requests refused for bad input, missing or bad credentials (4xx), by reason",
            ["route", "status"],
            registry=r,
        )
        self.logins_failed = Counter("ecc_logins_failed", "failed logins", ["reason"], registry=r)
        self.ws_clients = Gauge("ecc_ws_clients", "connected /api/events clients", registry=r)
        self.ws_overflows = Counter(
            "ecc_ws_overflows", "event clients cut off for falling behind", registry=r
        )
        self.events = Counter("ecc_events", "events relayed to clients", ["type"], registry=r)
        self.bus_messages = Counter(
            "ecc_bus_messages", "bus messages received by the center", ["kind"], registry=r
        )
        self.bus_rejected = Counter(
            "ecc_bus_rejected", "bus messages the center could not use", ["kind"], registry=r
        )

        self.video_viewers = Gauge(
            "ecc_video_viewers",
            "WHEP viewers connected, by source and stream",
            ["source", "stream"],
            registry=r,
        )
        self.video_publishers = Gauge(
            "ecc_video_publishers",
            "WHIP publishers, by source and stream",
            ["source", "stream"],
            registry=r,
        )
        self.video_dropped = Counter(
            "ecc_video_viewer_dropped_frames",
            "frames lagging viewers skipped (to the next keyframe), by source and stream",
            ["source", "stream"],
            registry=r,
        )
        self.video_viewer_drops = Histogram(
            "ecc_video_viewer_session_dropped_frames",
            "frames dropped per viewer session, observed when the session ends",
            buckets=(0, 1, 10, 100, 1000, 10000),
            registry=r,
        )

    def watch_store(self, store: Store) -> None:
        self.registry.register(StoreCollector(store))


class StoreCollector(Collector):
    """Figures that live in the store, shared by every process: dead letters, open alerts."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        dead = GaugeMetricFamily(
            "ecc_dead_letters",
            "rejected bus messages kept in the dead-letter store",
            labels=["reason"],
        )
        for reason, n in sorted(self._store.dead_letters.count_by_reason().items()):
            dead.add_metric([reason], n)
        yield dead
        open_alerts = GaugeMetricFamily(
            "ecc_alerts_open", "unresolved alerts by severity", labels=["severity"]
        )
        counts: dict[str, int] = {}
        for alert in self._store.alerts.list_open():
            counts[alert.severity] = counts.get(alert.severity, 0) + 1
        for severity, n in sorted(counts.items()):
            open_alerts.add_metric([severity], n)
        yield open_alerts
