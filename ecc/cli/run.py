"""`ecc run`: the whole system in one process on the embedded defaults.

SQLite under var/, a private Mosquitto child on loopback unless ECC_MQTT_URL names a broker,
the command center, and the example site's simulated stations and cameras.
"""

from __future__ import annotations

import argparse
import asyncio

from ecc.bus.broker import BrokerError, PrivateBroker
from ecc.cli.boot import CenterServer, Part, ensure_admin, load_config, log, supervise
from ecc.command_center.app import Parts, create_app
from ecc.config import ConfigError, Settings, Site
from ecc.ingest.cameras import CameraWorker, mqtt_bus
from ecc.ingest.incidents import incident_parts
from ecc.ingest.notify import notifier_parts
from ecc.ingest.sensors import SensorIngest, default_client_id
from ecc.sensors.simulate import SimOptions, StationSimulator
from ecc.storage import Store, open_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run everything: center, workers, simulated site")
    p.add_argument("--no-simulation", action="store_true", help="no simulated stations or cameras")
    p.set_defaults(func=command)


def parts(settings: Settings, site: Site, store: Store, simulate: bool) -> list[Part]:
    """The parts of the embedded system; each also runs alone as its own `ecc` command."""
    center = CenterServer(create_app(Parts(settings, site, store)), settings)
    center.check_port()
    found: list[Part] = [center]
    client_id = default_client_id("run")
    found.append(SensorIngest(settings, site, store, client_id))
    found.extend(notifier_parts(settings, store, client_id))
    found.extend(incident_parts(settings, site, store, client_id))
    if simulate:
        # Model time at 60x: the site's first storm lifts the rivers past warning within a few
        # minutes of the start, which is what someone trying ECC wants to see.
        found.append(StationSimulator(settings, site, SimOptions(speed=60, interval_s=10)))
        # Each camera streams its `demo` clip or clock scene, so no RTSP server is needed.
        found.append(CameraWorker(settings, site, store, mqtt_bus(settings), demo=True))
    return found


def command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    broker: PrivateBroker | None = None
    if settings.mqtt_url is None:
        broker = PrivateBroker(settings.data_dir / "mosquitto")
        try:
            broker.start()
        except BrokerError as exc:
            raise ConfigError(
                f"mqtt_url: unset, and the private broker could not start: {exc}"
            ) from None
        settings = settings.model_copy(update={"mqtt_url": broker.url})
        log.info("private Mosquitto on %s", broker.url)
    store = open_store(settings.database_url)
    try:
        password = ensure_admin(store, settings)
        running = parts(settings, site, store, simulate=not args.no_simulation)
        _banner(settings, password)
        asyncio.run(supervise(running))
    finally:
        store.close()
        if broker is not None:
            broker.stop()
    return 0


def _banner(settings: Settings, password: str | None) -> None:
    user = settings.auth.admin_user
    lines = ["", f"  ECC is running: {settings.center}/", ""]
    if password:
        lines.append(f"  Log in as {user} with password {password}")
        lines.append("  (shown this once; change it with `ecc user passwd admin`)")
    else:
        lines.append(f"  Log in as {user} with the password shown at the first run")
        lines.append("  (forgotten? `.venv/bin/ecc user passwd admin`)")
    lines.append("")
    print("\n".join(lines), flush=True)
