"""Where the vehicle is: fixes from gpsd, an NMEA serial port, an NMEA file, or fixed coordinates.

`--gps` names the source:

- `fixed:LAT,LON` (or just `LAT,LON`): a parked command post; a fix every second;
- `gpsd` or `gpsd://HOST:PORT`: gpsd's JSON protocol (TPV reports), localhost:2947 by default;
- `/dev/ttyUSB0` or `serial:/dev/ttyACM0?baud=9600`: NMEA straight from a receiver, read with the
  standard library (termios sets the port raw at the given speed, 4800 by default), so no
  serial-port package is needed;
- any other path: an NMEA file, replayed at the pace of its own timestamps and looped, each fix
  re-timed to the moment it is replayed (a recorded drive as a demo or a test track).

Each source yields fixes until cancelled; a source that fails (gpsd restarts, a USB receiver is
unplugged) is opened again after a backoff with jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import select
import termios
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson

from ecc import times
from ecc.ingest.vehicle.nmea import Assembler, Fix

log = logging.getLogger(__name__)

FIXED_EVERY_S = 1.0
GPSD_PORT = 2947
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0
# A replayed file's gaps longer than this (a receiver switched off) are shortened to it.
REPLAY_MAX_GAP_S = 10.0
QUEUE_FIXES = 64


class GpsError(Exception):
    """The source cannot be read; the message says why."""


class GpsSource(ABC):
    """A source of fixes; `fixes()` yields until cancelled, reopening after failures."""

    name = "gps"

    async def fixes(self) -> AsyncIterator[Fix]:
        delay = RETRY_MIN_S
        while True:
            started = time.monotonic()
            try:
                async for fix in self.once():
                    yield fix
                reason = "ended"
            except (GpsError, OSError) as exc:
                reason = str(exc)
            if time.monotonic() - started > 60:
                delay = RETRY_MIN_S
            wait = delay * random.uniform(0.5, 1.5)
            log.warning("%s: %s; again in %.1f s", self.name, reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_MAX_S)

    @abstractmethod
    def once(self) -> AsyncIterator[Fix]:
        """One life of the source: yields until it ends (GpsError, OSError)."""


class FixedPosition(GpsSource):
    def __init__(self, lat: float, lon: float) -> None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{lat},{lon} is not a latitude and longitude")
        self.lat, self.lon = lat, lon
        self.name = f"fixed {lat},{lon}"

    async def once(self) -> AsyncIterator[Fix]:
        while True:
            yield Fix(times.now(), self.lat, self.lon, speed=0.0)
            await asyncio.sleep(FIXED_EVERY_S)


class NmeaFile(GpsSource):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"NMEA file {path}"

    async def once(self) -> AsyncIterator[Fix]:
        text = await asyncio.to_thread(self._read)
        assembler = Assembler()
        track: list[Fix] = []
        for line in text.splitlines():
            track += assembler.feed(line)
        track += assembler.flush()
        if not track:
            raise GpsError(f"{self.path}: no valid RMC sentence")
        while True:
            previous: float | None = None
            for fix in track:
                if previous is not None:
                    gap = min(max(0.0, fix.ts - previous), REPLAY_MAX_GAP_S)
                    await asyncio.sleep(gap)
                previous = fix.ts
                yield replace(fix, ts=times.now())
            await asyncio.sleep(FIXED_EVERY_S)

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise GpsError(f"{self.path}: {exc.strerror}") from None


BAUDS = {
    4800: termios.B4800,
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
}


class NmeaSerial(GpsSource):
    """A receiver on a serial port. The port is read by a thread of its own (a blocking read,
    woken every half second to notice a stop), lines handed to the event loop."""

    def __init__(self, device: str, baud: int = 4800) -> None:
        if baud not in BAUDS:
            raise ValueError(f"baud {baud}: use one of {sorted(BAUDS)}")
        self.device, self.baud = device, baud
        self.name = f"NMEA {device} at {baud} baud"

    async def once(self) -> AsyncIterator[Fix]:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_FIXES * 8)
        stop = threading.Event()
        failure: list[str] = []

        def put(line: str | None) -> None:
            with contextlib.suppress(asyncio.QueueFull):  # a stalled consumer: drop lines
                lines.put_nowait(line)

        def emit(line: str) -> None:
            loop.call_soon_threadsafe(put, line)

        def read() -> None:
            try:
                self._read(stop, emit)
            except (OSError, termios.error) as exc:
                failure.append(f"{self.device}: {exc}")
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(put, None)

        thread = threading.Thread(target=read, name=f"gps-{self.device}", daemon=True)
        thread.start()
        assembler = Assembler()
        try:
            while (line := await lines.get()) is not None:
                for fix in assembler.feed(line):
                    yield fix
        finally:
            stop.set()
            await asyncio.to_thread(thread.join, 2.0)
        raise GpsError(failure[0] if failure else f"{self.device}: closed")

    def _read(self, stop: threading.Event, emit: Callable[[str], None]) -> None:
        fd = os.open(self.device, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            attrs = termios.tcgetattr(fd)
            # Raw 8N1 at the chosen speed, reading whatever has arrived (VMIN 0, VTIME 0).
            attrs[0] = termios.IGNPAR
            attrs[1] = 0
            attrs[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
            attrs[3] = 0
            attrs[4] = attrs[5] = BAUDS[self.baud]
            attrs[6][termios.VMIN] = 0
            attrs[6][termios.VTIME] = 0
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            pending = b""
            while not stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise OSError(0, "end of input")
                pending += chunk
                *done, pending = pending.split(b"\n")
                for raw in done:
                    emit(raw.decode("ascii", errors="replace").strip())
                if len(pending) > 4096:  # no newline: not NMEA at this speed
                    pending = b""
        finally:
            os.close(fd)


class Gpsd(GpsSource):
    """gpsd's JSON protocol: `?WATCH={"enable":true,"json":true}`, then TPV reports."""

    def __init__(self, host: str = "127.0.0.1", port: int = GPSD_PORT) -> None:
        self.host, self.port = host, port
        self.name = f"gpsd {host}:{port}"

    async def once(self) -> AsyncIterator[Fix]:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout=10
            )
        except TimeoutError:
            raise GpsError(f"{self.name}: no answer") from None
        try:
            writer.write(b'?WATCH={"enable":true,"json":true};\n')
            await writer.drain()
            while line := await reader.readline():
                fix = tpv_fix(line)
                if fix is not None:
                    yield fix
            raise GpsError(f"{self.name}: closed the connection")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def tpv_fix(line: bytes) -> Fix | None:
    """A fix from one gpsd report: a TPV with a 2D or 3D fix, else None."""
    try:
        report = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(report, dict) or report.get("class") != "TPV":
        return None
    if int(report.get("mode") or 0) < 2:
        return None
    lat, lon = report.get("lat"), report.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    try:
        ts = times.parse(report["time"]) if "time" in report else times.now()
    except ValueError:
        ts = times.now()
    eph = report.get("eph")
    if eph is None and isinstance(report.get("epx"), int | float):
        eph = max(float(report["epx"]), float(report.get("epy") or 0))

    def number(name: str) -> float | None:
        value = report.get(name)
        return float(value) if isinstance(value, int | float) else None

    return Fix(
        ts=ts,
        lat=float(lat),
        lon=float(lon),
        speed=number("speed"),
        heading=number("track"),
        accuracy=None if not isinstance(eph, int | float) else round(float(eph), 1),
    )


def open_gps(spec: str) -> GpsSource:
    """The source named by `--gps` (see the module doc); ValueError if it names none."""
    if spec.startswith("fixed:") or _looks_like_coordinates(spec):
        lat, _, lon = spec.removeprefix("fixed:").partition(",")
        try:
            return FixedPosition(float(lat), float(lon))
        except ValueError:
            raise ValueError(f"--gps {spec}: give fixed:LAT,LON") from None
    if spec == "gpsd" or spec.startswith("gpsd://"):
        parts = urlsplit(spec if "://" in spec else "gpsd://")
        return Gpsd(parts.hostname or "127.0.0.1", parts.port or GPSD_PORT)
    if spec.startswith("serial:") or spec.startswith("/dev/"):
        parts = urlsplit(spec if spec.startswith("serial:") else f"serial:{spec}")
        baud = int(parse_qs(parts.query).get("baud", ["4800"])[0])
        return NmeaSerial(parts.path, baud)
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"--gps {spec}: no such file (or give fixed:LAT,LON, gpsd, /dev/...)")
    return NmeaFile(path)


def _looks_like_coordinates(spec: str) -> bool:
    lat, comma, lon = spec.partition(",")
    try:
        float(lat)
        float(lon)
    except ValueError:
        return False
    return bool(comma)
