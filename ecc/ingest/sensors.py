"""`ecc ingest sensors`: station readings from MQTT into the store, then rules, then alerts.

One worker is a boot sequence of three owners:

1. a DurableSession (its network thread) on the shared subscriptions
   `$share/ecc-ingest/<prefix>/stations/+/readings` and `.../status`, QoS 1, manual acks;
2. the writer thread, which takes batches from the bounded inbox (full at `batch_size`, or
   `batch_interval_ms` after its first message), validates them, commits the dead letters and
   the readings, and only then acknowledges the batch to the broker; then it runs the rules on
   the readings that were new and announces alert changes on `<prefix>/alerts`;
3. the asyncio task `run()`, which owns both, and stops them on cancellation.

A message that fails validation is stored as a dead letter and acknowledged in the same batch
as its neighbours: it never holds back a valid reading, and it never stops the worker. A store
error does stop it: nothing of the batch is acknowledged, the supervisor restarts the worker,
and the broker delivers the batch again to the same persistent session.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ecc.bus.alerter import Alerter
from ecc.bus.client import BrokerAddress
from ecc.bus.topics import Topics
from ecc.config import ConfigError, Settings, Site
from ecc.ingest.session import DurableSession, Inbox, Message, SessionConfig
from ecc.sensors.engine import RuleEngine
from ecc.sensors.presence import Presence
from ecc.sensors.validation import Limits, Rejected, Validator
from ecc.sensors.window import WindowCounts
from ecc.storage import Store
from ecc.storage.models import DeadLetter, Reading

log = logging.getLogger(__name__)

SHARE_GROUP = "ecc-ingest"
PRESENCE_CHECK_S = 5.0
REPORT_EVERY_S = 60.0


def default_client_id(role: str = "ingest") -> str:
    """Stable across restarts of the same worker, as a persistent session needs; give each
    worker on one host its own with `--client-id`."""
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    return f"ecc-{role}-{host}"[:64]


def broker_address(settings: Settings) -> BrokerAddress:
    if settings.mqtt_url is None:
        raise ConfigError("mqtt_url: the ingest worker needs a broker; set ECC_MQTT_URL")
    return BrokerAddress.parse(
        settings.mqtt_url,
        settings.mqtt_username,
        settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
    )


@dataclass
class IngestCounts:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    alerts: int = 0


class SensorIngest:
    """The sensor ingest worker as a supervised part."""

    name = "ingest-sensors"

    def __init__(self, settings: Settings, site: Site, store: Store, client_id: str) -> None:
        self.settings = settings
        self.site = site
        self.store = store
        self.client_id = client_id
        self.counts = IngestCounts()
        self.session: DurableSession | None = None

    async def run(self) -> None:
        cfg = self.settings.ingest
        topics = Topics(self.settings.mqtt_prefix)
        inbox = Inbox(cfg.max_pending)
        session = DurableSession(
            SessionConfig(
                address=broker_address(self.settings),
                client_id=self.client_id,
                subscriptions=[
                    f"$share/{SHARE_GROUP}/{topics.readings()}",
                    f"$share/{SHARE_GROUP}/{topics.station_status()}",
                ],
                session_expiry_s=cfg.session_expiry_s,
            ),
            inbox,
        )
        self.session = session
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[None] = loop.create_future()
        writer = _Writer(self, session, topics, failed)
        session.start()
        writer.start()
        try:
            await failed
        finally:
            # The writer first, so that its last batch is acknowledged before the disconnect.
            await asyncio.to_thread(writer.stop)
            await asyncio.to_thread(session.stop)


class _Writer:
    """The thread that validates, stores, acknowledges and judges batches."""

    def __init__(
        self,
        owner: SensorIngest,
        session: DurableSession,
        topics: Topics,
        failed: asyncio.Future[None],
    ) -> None:
        settings, site, store = owner.settings, owner.site, owner.store
        self.counts = owner.counts
        self.session = session
        self.topics = topics
        self.store = store
        self.batch_size = settings.ingest.batch_size
        self.linger_s = settings.ingest.batch_interval_ms / 1000
        self.validator = Validator(
            site,
            topics,
            Limits(settings.ingest.max_payload_bytes, settings.ingest.max_future_s),
        )
        alerter = Alerter(store, session.publish, topics.alerts)
        self.engine = RuleEngine(site, store, alerter)
        self.presence = Presence(site, store, alerter)
        self._failed = failed
        self._loop = failed.get_loop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.session.inbox.close()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            self.counts.alerts += len(self.engine.catch_up())
            next_check = 0.0
            next_report = time.monotonic() + REPORT_EVERY_S
            reported = IngestCounts()
            windows = WindowCounts()
            while not self._stop.is_set():
                batch = self.session.inbox.take(self.batch_size, self.linger_s, idle_s=1.0)
                if batch:
                    self.process(batch)
                now = time.time()
                if now >= next_check:
                    self.presence.save(now)
                    self.counts.alerts += len(self.presence.check(now))
                    next_check = now + PRESENCE_CHECK_S
                if time.monotonic() >= next_report:
                    self._report(reported, windows)
                    reported = IngestCounts(**vars(self.counts))
                    windows = WindowCounts(**vars(self.engine.windows.counts))
                    next_report = time.monotonic() + REPORT_EVERY_S
        except BaseException as exc:
            log.exception("sensor ingest stopped by an error; unacknowledged messages stay queued")
            self._loop.call_soon_threadsafe(_fail, self._failed, exc)
            return
        self._loop.call_soon_threadsafe(_finish, self._failed)

    def process(self, batch: Sequence[Message]) -> None:
        now = time.time()
        readings: list[Reading] = []
        letters: list[DeadLetter] = []
        statuses: list[tuple[str, bool]] = []
        for m in batch:
            try:
                if m.topic.endswith("/status"):
                    statuses.append(self._status(m))
                else:
                    readings.append(self.validator.reading(m.topic, m.payload, now))
            except Rejected as exc:
                letters.append(DeadLetter(m.topic, exc.reason, m.payload, now))
        if letters:
            self.store.dead_letters.add(letters)
        new = self.store.readings.insert(readings) if readings else []
        for station, online in statuses:
            if self.presence.will(station, online, now) is not None:
                self.counts.alerts += 1
        # Stored (or kept as dead letters): now, and only now, the broker may forget them.
        self.session.ack(batch)
        self.session.inbox.done(len(batch))
        c = self.counts
        c.received += len(batch)
        c.stored += len(new)
        c.duplicates += len(readings) - len(new)
        c.rejected += len(letters)
        self.presence.heard({r.station_id for r in readings}, now)
        c.alerts += len(self.engine.on_readings(new))

    def _status(self, m: Message) -> tuple[str, bool]:
        station = self.validator.station_of(m.topic)
        limit = self.validator.limits.max_payload_bytes
        if len(m.payload) > limit:
            raise Rejected("too large", f"{len(m.payload)} bytes, at most {limit}")
        try:
            data = orjson.loads(m.payload)
        except orjson.JSONDecodeError as exc:
            raise Rejected("bad json", str(exc)) from None
        online = data.get("online") if isinstance(data, dict) else None
        if not isinstance(online, bool):
            raise Rejected("bad payload", 'a status is {"online": true|false}')
        return station, online

    def _report(self, before: IngestCounts, windows: WindowCounts) -> None:
        c = self.counts
        w = self.engine.windows.counts
        log.info(
            "sensor ingest, last %.0f s: %d received, %d stored, %d duplicates, %d rejected, "
            "%d alert changes; %d held; rule windows %d kept, %d extended, %d loaded",
            REPORT_EVERY_S,
            c.received - before.received,
            c.stored - before.stored,
            c.duplicates - before.duplicates,
            c.rejected - before.rejected,
            c.alerts - before.alerts,
            self.session.inbox.held,
            w.kept - windows.kept,
            w.extended - windows.extended,
            w.loaded - windows.loaded,
        )


def _fail(future: asyncio.Future[None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
