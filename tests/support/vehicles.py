"""Vehicle test rig: a GPS track as NMEA; `ecc vehicle` and `ecc serve` as processes."""

from __future__ import annotations

import array
import math
import time
import wave
from pathlib import Path

import httpx

from ecc.config import Settings
from ecc.ingest.vehicle.nmea import Assembler, Fix, rmc, with_checksum
from tests.support.process import Process, clean_env

DEPOT = (29.9012, 121.8452)  # cmd-1's home in the example site


def route(points: int, start: tuple[float, float] = DEPOT) -> list[Fix]:
    """A drive north-east at about 10 m/s, one fix a second."""
    t0 = 1_783_843_200.0
    return [
        Fix(t0 + i, start[0] + i * 6e-5, start[1] + i * 7e-5, speed=10.0, heading=45.0)
        for i in range(points)
    ]


def write_track(path: Path, fixes: list[Fix]) -> Path:
    """The fixes as a receiver writes them: RMC then GGA (with HDOP) each second."""
    lines = []
    for fix in fixes:
        lines.append(rmc(fix))
        stamp = rmc(fix).split(",")[1]
        lines.append(with_checksum(f"GPGGA,{stamp},,,,,1,09,0.9,12.0,M,,M,,"))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    return path


def read_track(path: Path) -> list[tuple[float, float]]:
    """The coordinates the agent reads from the file, in order."""
    assembler = Assembler()
    fixes: list[Fix] = []
    for line in path.read_text(encoding="ascii").splitlines():
        fixes += assembler.feed(line)
    fixes += assembler.flush()
    return [(f.lat, f.lon) for f in fixes]


def write_tone(path: Path, seconds: float = 2.0, hz: float = 440.0) -> Path:
    """A sine tone as a 16-bit mono WAV: sound a microphone would give (the clips' own sound
    tracks are silent)."""
    rate = 16_000
    samples = array.array(
        "h", (int(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(rate * seconds)))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def agent(server: str, token: str, folder: Path, *options: str) -> Process:
    """`ecc vehicle` for cmd-1, its spool in `folder`."""
    args = ["vehicle", "--server", server, "--token", token, "--vehicle", "cmd-1"]
    args += ["--data-dir", str(folder), *options]
    return Process(args, clean_env())


def center(settings: Settings, port: int) -> Process:
    """`ecc serve` on `port` with the test's database and secret, loopback-only ICE."""
    assert settings.secret is not None
    env = clean_env()
    env.update(
        ECC_DATABASE_URL=settings.database_url,
        ECC_DATA_DIR=str(settings.data_dir),
        ECC_SECRET=settings.secret.get_secret_value(),
        ECC_HTTP_PORT=str(port),
        ECC_VIDEO__ICE_HOSTS="[]",
        ECC_LOG_LEVEL="INFO",
    )
    return Process(["serve"], env)


def up(url: str, timeout: float = 20) -> None:
    """Wait for a center to answer /healthz."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not start")
        time.sleep(0.1)
