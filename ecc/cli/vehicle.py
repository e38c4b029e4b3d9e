"""`ecc vehicle`: the vehicle agent (ecc.ingest.vehicle), run on the vehicle's computer.

It needs no site file, database or broker: only the center's URL and a token of a crew member
(`ecc user token NAME --days 30` on the center's machine prints one).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ecc.cli.boot import setup_logging, supervise
from ecc.ingest.vehicle import AgentOptions, VehicleAgent


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "vehicle",
        help="the vehicle agent: video, sound, position and link quality to the center",
        description="Stream a vehicle's camera and microphone to the center over WHIP and report "
        "its position, through a link that drops: the stream is published again by itself, and "
        "positions wait on disk until the center has stored them.",
    )
    p.add_argument("--server", required=True, help="the center, e.g. https://ecc.example.org")
    p.add_argument(
        "--token", required=True, help="a crew member's token, or @FILE to read it from a file"
    )
    p.add_argument("--vehicle", help="vehicle id of the site (default: the site's only vehicle)")
    p.add_argument(
        "--video",
        help="camera: /dev/video0 or v4l2:/dev/video0?input_format=h264, rtsp://..., a file, "
        "or clock[:WxH@FPS] (H.264 passes through; other codecs are encoded once, here)",
    )
    p.add_argument(
        "--audio", help="microphone: alsa:DEVICE, pulse:SOURCE, or a file (its sound track)"
    )
    p.add_argument(
        "--speaker",
        help="where talkback from the center is played: alsa:DEVICE (alsa:default), or a WAV "
        "file that each talkback session is written to",
    )
    p.add_argument(
        "--gps",
        help="position: gpsd[://HOST:PORT], an NMEA serial port (/dev/ttyUSB0, "
        "serial:/dev/ttyACM0?baud=9600), an NMEA file (replayed), or fixed:LAT,LON",
    )
    p.add_argument(
        "--interval", type=float, default=2.0, help="seconds between positions kept (default 2)"
    )
    p.add_argument(
        "--bitrate",
        type=int,
        default=1000,
        help="kbit/s of video encoded here (raw or MJPEG cameras, clock); default 1000",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/vehicle"),
        help="where positions wait while the center is out of reach (default var/vehicle)",
    )
    p.add_argument(
        "--ice-server", action="append", default=[], help="STUN or TURN URL (repeatable)"
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    if not (args.video or args.audio or args.gps):
        print("ecc vehicle: give at least one of --video, --audio, --gps", file=sys.stderr)
        return 2
    if not 0.1 <= args.interval <= 3600:
        print("ecc vehicle: --interval must be between 0.1 and 3600 s", file=sys.stderr)
        return 2
    options = AgentOptions(
        server=args.server,
        token=args.token,
        vehicle=args.vehicle,
        video=args.video,
        audio=args.audio,
        speaker=args.speaker,
        gps=args.gps,
        interval_s=args.interval,
        bitrate_kbps=args.bitrate,
        data_dir=args.data_dir,
        ice_servers=tuple(args.ice_server),
    )
    try:
        agent = VehicleAgent(options)
    except ValueError as exc:
        print(f"ecc vehicle: {exc}", file=sys.stderr)
        return 2
    asyncio.run(supervise([agent]))
    return 0
