"""`ecc ingest sensors|cameras`: the ingest workers, each alone."""

from __future__ import annotations

import argparse
import asyncio

from ecc.cli.boot import Part, load_config, supervise
from ecc.config import ConfigError
from ecc.ingest.cameras import CameraWorker, mqtt_bus
from ecc.ingest.incidents import incident_parts
from ecc.ingest.notify import notifier_parts
from ecc.ingest.sensors import SensorIngest, broker_address, default_client_id
from ecc.storage import open_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="run an ingest worker alone")
    workers = p.add_subparsers(dest="worker", required=True, metavar="WORKER")
    register_sensors(workers)
    register_cameras(workers)


def register_sensors(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sensors",
        help="station readings from MQTT into the store, rules and alerts",
        description="Several workers may run at once: they share the load through an MQTT "
        "shared subscription. Each needs its own --client-id, the same on every restart.",
    )
    p.add_argument(
        "--client-id",
        default=None,
        help=f"MQTT client id of this worker's persistent session (default {default_client_id()})",
    )
    p.set_defaults(func=sensors_command)


def sensors_command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    broker_address(settings)
    client_id = args.client_id or default_client_id()
    store = open_store(settings.database_url)
    try:
        parts: list[Part] = [SensorIngest(settings, site, store, client_id)]
        parts.extend(notifier_parts(settings, store, client_id))
        parts.extend(incident_parts(settings, site, store, client_id))
        asyncio.run(supervise(parts))
    finally:
        store.close()
    return 0


def register_cameras(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cameras",
        help="pull the site's cameras, publish their health, push them to the center on demand",
        description="Each camera's main and sub stream is pulled (rtsp:// over TCP, http(s)://, "
        "or a file) for health; a stream is pushed to the center over WHIP while someone "
        "watches it. Split the cameras of a large site across workers with --camera.",
    )
    p.add_argument("--camera", action="append", metavar="ID", help="only this camera (repeatable)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="stream each camera's `demo` source (a clip or the clock scene) instead of its URLs",
    )
    p.set_defaults(func=cameras_command)


def cameras_command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    bus = mqtt_bus(settings)
    unknown = set(args.camera or ()) - {c.id for c in site.cameras}
    if unknown:
        raise ConfigError(f"--camera: the site has no camera {', '.join(sorted(unknown))}")
    store = open_store(settings.database_url)
    try:
        only = set(args.camera) if args.camera else None
        worker = CameraWorker(settings, site, store, bus, demo=args.demo, only=only)
        asyncio.run(supervise([worker]))
    finally:
        store.close()
    return 0
