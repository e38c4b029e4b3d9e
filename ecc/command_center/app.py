"""The command center's FastAPI application.

Nothing happens at import time: `create_app` builds the app, and its lifespan opens the store,
connects to the bus and wires the event hub; all of it lives on `app.state`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ecc import __version__
from ecc.bus import BrokerAddress, Bus, LocalBus, MqttClient, Topics
from ecc.command_center import pages
from ecc.command_center.audit import AuditMiddleware
from ecc.command_center.bridge import Bridge
from ecc.command_center.deps import Principals
from ecc.command_center.events import EventHub
from ecc.command_center.live import LiveState
from ecc.command_center.mediahub import MediaHub
from ecc.command_center.metrics import Metrics
from ecc.command_center.routers import (
    alerts,
    audit,
    auth,
    dead_letters,
    events,
    live,
    motion,
    site,
    stations,
    system,
    users,
    video,
)
from ecc.config import Settings, Site, signing_secret
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
        await bus.start(timeout=None)
        await app.state.media.start(bus)
        try:
            yield
        finally:
            await app.state.media.stop()
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
    app.state.tokens = Tokens(signing_secret(settings), settings.auth.token_ttl_s)
    app.state.principals = Principals(app.state.tokens, store)
    # Before the lifespan, so a request that races start-up still sees a bus.
    app.state.bus = LocalBus()
    metrics.watch_store(store)

    for router in (
        system.router,
        auth.router,
        users.router,
        site.router,
        stations.router,
        alerts.router,
        dead_letters.router,
        audit.router,
        events.router,
        video.router,
        live.router,
        motion.router,
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
