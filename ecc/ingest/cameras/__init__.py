"""`ecc ingest cameras`: pull every camera, publish its health, push it to the center on demand.

See worker.py for the boot sequence, pipeline.py for one stream's pull, push.py for WHIP.
"""

from __future__ import annotations

import argparse
import asyncio

from ecc.bus import BrokerAddress, MqttClient
from ecc.config import ConfigError, Settings
from ecc.ingest.cameras.worker import CameraWorker


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    # Imported here: the CLI package imports this module to register it.
    from ecc.cli.boot import load_config, supervise
    from ecc.storage import open_store

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


def mqtt_bus(settings: Settings) -> MqttClient:
    """The worker's own MQTT client (it publishes retained health and reads demand)."""
    if settings.mqtt_url is None:
        raise ConfigError("mqtt_url: the camera worker needs a broker; set ECC_MQTT_URL")
    address = BrokerAddress.parse(
        settings.mqtt_url,
        settings.mqtt_username,
        settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
    )
    return MqttClient(address)


__all__ = ["CameraWorker", "mqtt_bus", "register"]
