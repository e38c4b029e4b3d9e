"""`ecc simulate stations|cameras`: realistic sources for demos, tests and load."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import threading
from pathlib import Path

from ecc.cli.boot import load_config, supervise
from ecc.config import ConfigError
from ecc.media import simulate as camera_sim
from ecc.sensors.simulate import SimOptions, StationSimulator


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="run a simulated source")
    sims = p.add_subparsers(dest="simulator", required=True, metavar="SOURCE")
    register_stations(sims)
    register_cameras(sims)


def register_stations(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stations",
        help="the site's stations on MQTT: simulated, or a real series replayed",
        description="Without --replay, every station of the site reports simulated weather: "
        "tides, daily cycles, a storm that lifts the rivers past their warning levels, "
        "pollution episodes. With --replay FILE --as STATION, one station reports a real series "
        "(USGS, UK Environment Agency or UCI Beijing air quality CSV).",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="model (or series) seconds per clock second; replay: 0 = as fast as possible",
    )
    p.add_argument("--interval", type=float, help="clock seconds between a station's readings")
    p.add_argument("--replay", type=Path, metavar="FILE", help="a series to replay")
    p.add_argument("--as", dest="as_station", metavar="STATION", help="station that replays it")
    p.add_argument("--offset", type=float, default=0.0, help="metres added to replayed levels")
    p.add_argument(
        "--shift-to-now",
        action="store_true",
        help="move the series' times so that it ends when the replay does",
    )
    p.add_argument("--credentials", type=Path, help="station passwords (from ecc mqtt-config)")
    p.set_defaults(func=stations_command)


def stations_command(args: argparse.Namespace) -> int:
    if (args.replay is None) != (args.as_station is None):
        raise ConfigError("--replay and --as go together")
    if args.speed < 0 or (args.replay is None and args.speed == 0):
        raise ConfigError("--speed: give a positive number (0 only with --replay)")
    settings, site = load_config()
    options = SimOptions(
        speed=args.speed,
        interval_s=args.interval,
        replay=args.replay,
        as_station=args.as_station,
        offset=args.offset,
        shift_to_now=args.shift_to_now,
        credentials=args.credentials,
    )
    simulator = StationSimulator(settings, site, options)
    asyncio.run(supervise([simulator], restart=args.replay is None))
    return 0


def register_cameras(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cameras",
        help="serve the site's cameras as real RTSP cameras (clips and clock scenes)",
        description=camera_sim.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=8554, help="RTSP port on 127.0.0.1 (8554)")
    p.add_argument("--write-site", type=Path, metavar="FILE", help="write a site file for them")
    p.set_defaults(func=cameras_command)


def cameras_command(args: argparse.Namespace) -> int:
    settings, site = load_config()
    if shutil.which(camera_sim.SYSTEM_PYTHON) is None:
        missing = camera_sim.SYSTEM_PYTHON
        sys.stderr.write(f"ecc: {missing} is missing; install Debian's {camera_sim.PACKAGES}\n")
        return 2
    mounts = camera_sim.site_mounts([(c.id, c.demo) for c in site.cameras], settings.video.demo_dir)
    server = camera_sim.RtspCameras(mounts, args.port)
    try:
        server.start()
    except camera_sim.SimulatorError as exc:
        sys.stderr.write(f"ecc: {exc}" + "\n")
        return 1
    urls = {c.id: (server.url(f"/{c.id}/main"), server.url(f"/{c.id}/sub")) for c in site.cameras}
    for camera_id, (main, sub) in urls.items():
        camera_sim.say(f"{camera_id}: {main}  {sub}")
    if args.write_site:
        text = camera_sim.rewrite_site(settings.site.read_text(encoding="utf-8"), urls)
        base = settings.site.parent / (site.map.base_layer or "")
        if site.map.base_layer and not (args.write_site.parent / site.map.base_layer).exists():
            text = text.replace(f'base_layer = "{site.map.base_layer}"', f'base_layer = "{base}"')
        args.write_site.write_text(text, encoding="utf-8")
        camera_sim.say(f"site file for these cameras: {args.write_site}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            if not server.running:
                sys.stderr.write("ecc: the RTSP server stopped" + "\n")
                return 1
    finally:
        server.stop()
    return 0
