"""What every `ecc` command does first, and the supervisor that runs long-lived parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

import uvicorn
from fastapi import FastAPI

from ecc.command_center.auth import hash_password
from ecc.config import ConfigError, Settings, Site, load_settings, load_site
from ecc.storage import Store
from ecc.storage.models import User

log = logging.getLogger("ecc")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # aioice and aiortc are chatty at INFO about every candidate pair.
    for noisy in ("aioice", "aiortc", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load_config() -> tuple[Settings, Site]:
    settings = load_settings()
    setup_logging(settings.log_level)
    return settings, load_site(settings.site)


def ensure_admin(store: Store, settings: Settings) -> str | None:
    """Create the first admin when there are no users; returns its password, shown only once."""
    if store.users.count() > 0:
        return None
    password = secrets.token_urlsafe(12)
    store.users.add(
        User(
            username=settings.auth.admin_user,
            role="admin",
            password_hash=hash_password(password),
            created_at=time.time(),
        )
    )
    return password


class Part(Protocol):
    """A long-lived part of ECC (the center, an ingest worker, a simulator)."""

    name: str

    async def run(self) -> None: ...


class CenterServer:
    """uvicorn serving the center's app, stopped by the supervisor, not by its own signals."""

    name = "center"

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.settings = settings
        config = uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level=settings.log_level.lower(),
            access_log=False,
            ws="websockets-sansio",
        )
        self.server = _QuietServer(config)

    def check_port(self) -> None:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self.settings.http_host, self.settings.http_port))
            except OSError as exc:
                where = f"{self.settings.http_host}:{self.settings.http_port}"
                raise ConfigError(
                    f"http_port: cannot listen on {where} ({exc.strerror});"
                    " set ECC_HTTP_PORT to a free port"
                ) from None

    async def run(self) -> None:
        serving = asyncio.ensure_future(self.server.serve())
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            # Let uvicorn close connections and run the app's lifespan shutdown.
            self.server.should_exit = True
            await serving
            raise


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def supervise(parts: Sequence[Part], restart: bool = True) -> None:
    """Run every part until SIGINT/SIGTERM; a part that fails is logged, then restarted with
    backoff."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    async def keep(part: Part) -> None:
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                await part.run()
                log.info("%s stopped", part.name)
                if not restart:
                    stop.set()
                    return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", part.name)
                if not restart:
                    stop.set()
                    return
            if time.monotonic() - started > 60:
                delay = 1.0
            log.info("restarting %s in %.0f s", part.name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    tasks = [asyncio.create_task(keep(p), name=p.name) for p in parts]
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        for t in reversed(tasks):
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
