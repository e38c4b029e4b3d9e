"""The command center's FastAPI application.

Nothing happens at import time: `create_app` builds the app, and its lifespan opens the store,
connects to the bus and wires the event hub; all of it lives on `app.state`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ecc import __version__
from ecc.bus import BrokerAddress, Bus, LocalBus, MqttClient, Topics
from ecc.bus.alerter import Alerter
from ecc.command_center import pages
from ecc.command_center.audit import AuditMiddleware
from ecc.command_center.bridge import Bridge
from ecc.command_center.deps import Principals
from ecc.command_center.events import EventHub
from ecc.command_center.exports import ExportJobs
from ecc.command_center.fleet import Fleet
from ecc.command_center.live import LiveState
from ecc.command_center.mediahub import MediaHub
from ecc.command_center.metrics import Metrics
from ecc.command_center.playback import MediaTokens, PlaybackCollector, PlaybackCounts
from ecc.command_center.recording import tap, vehicle_recordings
from ecc.command_center.routers import (
    alerts,
    audit,
    auth,
    dead_letters,
    events,
    exports,
    incidents,
    layouts,
    live,
    motion,
    recordings,
    site,
    stations,
    system,
    talkback,
    users,
    vehicles,
    video,
)
from ecc.config import Settings, Site, signing_secret
from ecc.incidents import Desk
from ecc.sensors.validation import Limits
from ecc.storage import Conflict, InvalidTransition, NotFound, Store, open_store
from ecc.tokens import Tokens

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """What the app is built from; tests pass their own store or bus."""

    settings: Settings
    site: Site
    store: Store | None = None
    bus: Bus | None = None


def create_app(parts: Parts) -> FastAPI:
    settings = parts.settings
    metrics = Metrics()
    store = parts.store or open_store(settings.database_url)
    owns_store = parts.store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus = parts.bus or _bus(settings)
        app.state.bus = bus
        limits = Limits(settings.ingest.max_payload_bytes, settings.ingest.max_future_s)
        bridge = Bridge(
            bus, app.state.topics, app.state.hub, parts.site, app.state.live, metrics, limits
        )
        bridge.attach(settings.events.reading_interval_s)
        motion.follow_motion_settings(app, bus)
        app.state.fleet.attach(bus)
        await bus.start(timeout=None)
        await app.state.media.start(bus)
        await app.state.fleet.start(store)
        await app.state.exports.start()
        recording = asyncio.create_task(app.state.recordings.run(), name="vehicle-recordings")
        try:
            yield
        finally:
            await app.state.exports.stop()
            await app.state.fleet.stop()
            await app.state.media.stop()
            # After the publishers are gone: each recorder ends its segment, indexed.
            recording.cancel()
            await asyncio.gather(recording, return_exceptions=True)
            await bus.stop()
            if owns_store:
                store.close()

    app = FastAPI(
        title="ECC command center",
        version=__version__,
        description="Emergency command and video monitoring: stations, cameras, vehicles, alerts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.site = parts.site
    app.state.store = store
    app.state.metrics = metrics
    app.state.topics = Topics(settings.mqtt_prefix)
    app.state.media = MediaHub(settings.video, parts.site, app.state.topics, metrics)
    app.state.live = LiveState()
    app.state.hub = EventHub(settings.events.client_queue, metrics)
    app.state.fleet = Fleet(
        parts.site, settings.vehicles, app.state.topics, app.state.hub, app.state.media
    )
    # Publishes through whichever bus the lifespan sets up (a LocalBus until then).
    app.state.desk = Desk(
        settings.incidents,
        parts.site,
        store,
        app.state.topics,
        lambda topic, payload: app.state.bus.publish(topic, payload, qos=1),
    )
    app.state.exports = ExportJobs(app.state.desk, settings, parts.site)
    app.state.tokens = Tokens(signing_secret(settings), settings.auth.token_ttl_s)
    app.state.media_tokens = MediaTokens(
        signing_secret(settings), settings.recording.playback_token_ttl_s
    )
    app.state.playback = PlaybackCounts()
    recording_alerts = Alerter(
        store,
        lambda topic, payload: app.state.bus.publish(topic, payload, qos=1),
        app.state.topics.alerts,
    )
    app.state.recordings = vehicle_recordings(settings, parts.site, store, recording_alerts)
    app.state.media.on_publish.append(tap(app.state.recordings))
    metrics.registry.register(PlaybackCollector(store, app.state.playback, app.state.recordings))
    app.state.principals = Principals(app.state.tokens, store)
    # Before the lifespan, so a request that races start-up still sees a bus.
    app.state.bus = LocalBus()
    metrics.watch_store(store)

    for router in (
        system.router,
        auth.router,
        users.router,
        layouts.router,
        site.router,
        stations.router,
        alerts.router,
        dead_letters.router,
        audit.router,
        events.router,
        video.router,
        live.router,
        motion.router,
        recordings.router,
        incidents.router,
        exports.router,
        vehicles.router,
        talkback.router,
    ):
        app.include_router(router)
    pages.mount(app)
    _errors(app)
    app.add_middleware(AuditMiddleware, store=store, metrics=metrics)
    return app


def _bus(settings: Settings) -> Bus:
    if settings.mqtt_url is None:
        log.warning("no MQTT broker configured: this center relays only its own events")
        return LocalBus()
    address = BrokerAddress.parse(
        settings.mqtt_url,
        settings.mqtt_username,
        settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
    )
    return MqttClient(address)


def _errors(app: FastAPI) -> None:
    """Store errors as the 4xx answers they are, never as 500s."""

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Conflict, conflict)
    app.add_exception_handler(InvalidTransition, conflict)
