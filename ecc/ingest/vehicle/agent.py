"""`ecc vehicle`: one vehicle's agent, as a supervised part.

Boot sequence:

1. which vehicle: `--vehicle`, or the only vehicle the center lists (asked until it answers);
2. the position spool on disk (`DATA_DIR/positions-{vehicle}.db`): what a previous run could not
   upload goes first;
3. the tasks, each named and owned here, cancelled and awaited on shutdown:
   - `gps`: fixes from the source, one kept per `--interval`, into the spool;
   - `upload`: the spool to the center, oldest first, in batches; a batch leaves the spool only
     once the center has answered for it, and the center stores each (vehicle, ts) once, so
     after any outage every position is stored exactly once;
   - `video` and `audio`: the sources, read for as long as the agent runs;
   - `uplink`: the WHIP session, published again whenever it drops;
   - `telemetry`: the link's RTT, loss and bitrate every few seconds (also the probe that
     notices the center is back);
   - `talkback` (with `--speaker`): the center's voice, played whenever an operator talks.

Every wait after a failure is a backoff with jitter; the moment any request reaches the center
again, every task waiting out its backoff goes at once (center.Link).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ecc import __version__
from ecc.config.settings import VideoSettings
from ecc.ingest.cameras.pipeline import StreamPipeline
from ecc.ingest.vehicle.audio import AudioFeed
from ecc.ingest.vehicle.center import Center, CenterError, Link, token_source
from ecc.ingest.vehicle.gps import GpsSource, open_gps
from ecc.ingest.vehicle.nmea import Fix
from ecc.ingest.vehicle.speaker import Speaker, TalkbackListener
from ecc.ingest.vehicle.spool import Spool
from ecc.ingest.vehicle.uplink import Uplink, UplinkOptions
from ecc.media import rtc

log = logging.getLogger(__name__)

RETRY_MIN_S = 1.0
RETRY_MAX_S = 15.0
# While the center does not answer, telemetry (a small request) probes for it more often than
# every report, backing off to this: the sooner the link is known back, the sooner everything
# resumes.
PROBE_MAX_S = 4.0


@dataclass(frozen=True, slots=True)
class AgentOptions:
    server: str
    token: str
    """The token, or @FILE to read it from a file at every request."""
    vehicle: str | None = None
    video: str | None = None
    audio: str | None = None
    speaker: str | None = None
    """Where talkback is played: alsa:DEVICE, or a WAV file."""
    gps: str | None = None
    interval_s: float = 2.0
    """One position kept per this many seconds of fixes."""
    bitrate_kbps: int = 1000
    """Video the agent encodes itself (a raw or MJPEG camera); H.264 passes at its own rate."""
    data_dir: Path = Path("var/vehicle")
    ice_servers: tuple[str, ...] = ()
    telemetry_s: float = 5.0
    batch: int = 500
    stall_s: float = 6.0


def position_wire(fix: Fix) -> dict[str, Any]:
    return {
        "ts": round(fix.ts, 3),
        "lat": fix.lat,
        "lon": fix.lon,
        "speed": fix.speed,
        "heading": fix.heading,
        "accuracy": fix.accuracy,
    }


class VehicleAgent:
    name = "vehicle"

    def __init__(self, options: AgentOptions) -> None:
        self.options = options
        self.link = Link()
        self.center = Center(options.server, token_source(options.token), self.link)
        # Opened here, so that a bad --gps, --audio or --video stops the command at once.
        self.gps: GpsSource | None = None if options.gps is None else open_gps(options.gps)
        for flag, spec in (("--video", options.video), ("--audio", options.audio)):
            if spec is not None and _missing_file(spec):
                raise ValueError(f"{flag} {spec}: no such file")
        self.speaker = None if options.speaker is None else Speaker(options.speaker)
        self.talkback: TalkbackListener | None = None
        self.vehicle_id: str | None = options.vehicle
        self.spool: Spool | None = None
        self.uplink: Uplink | None = None
        self.fix: Fix | None = None
        self.uploaded = 0
        self._queued = asyncio.Event()

    async def run(self) -> None:
        vehicle_id = self.vehicle_id or await self._which_vehicle()
        self.vehicle_id = vehicle_id
        rtc.register_h264_profiles()
        rtc.use_host_addresses(None, loopback=_is_loopback(self.options.server))
        spool = Spool(self.options.data_dir / f"positions-{vehicle_id}.db")
        self.spool = spool
        if spool.count:
            log.info("%d positions from before wait in the spool", spool.count)
        video = audio = None
        if self.options.video is not None:
            settings = VideoSettings(transcode_bitrate=self.options.bitrate_kbps * 1000)
            video = StreamPipeline(vehicle_id, "main", self.options.video, settings)
        if self.options.audio is not None:
            audio = AudioFeed(self.options.audio)
        self.uplink = uplink = Uplink(
            UplinkOptions(
                whip_url=self.center.url(f"/api/whip/{quote('vehicle:' + vehicle_id, safe=':')}"),
                ice_servers=self.options.ice_servers,
                stall_s=self.options.stall_s,
            ),
            video,
            audio,
            self.center.token,
            self.link,
        )
        tasks: list[asyncio.Task[None]] = []

        def start(coro: Coroutine[Any, Any, None], name: str) -> None:
            tasks.append(asyncio.create_task(coro, name=f"vehicle-{name}"))

        if self.gps is not None:
            start(self._track(self.gps, spool), "gps")
        start(self._upload(spool), "upload")
        if video is not None:
            start(video.run(), "video")
        if audio is not None:
            start(audio.run(), "audio")
        if video is not None or audio is not None:
            start(uplink.run(), "uplink")
        start(self._telemetry(), "telemetry")
        if self.speaker is not None:
            listen = f"/api/talkback/{quote(vehicle_id, safe='')}/listen"
            self.talkback = TalkbackListener(
                self.center.url(listen), self.center.token, self.speaker, self.options.ice_servers
            )
            start(self.talkback.run(), "talkback")
        log.info(
            "vehicle %s: %s", vehicle_id, ", ".join(t.get_name().split("-", 1)[1] for t in tasks)
        )
        try:
            # A task that ends on its own failed: the supervisor logs it and starts the agent
            # again (the spool keeps what was not uploaded).
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise RuntimeError(f"{next(iter(done)).get_name()} ended")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            spool.close()

    async def _which_vehicle(self) -> str:
        delay = RETRY_MIN_S
        while True:
            try:
                vehicles = await self.center.call("GET", "/api/vehicles")
                break
            except CenterError as exc:
                if exc.status in (401, 403):
                    raise
                log.warning("asking the center for its vehicles: %s", exc)
            await self.link.pause(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, RETRY_MAX_S)
        ids = [str(v["id"]) for v in vehicles]
        if len(ids) != 1:
            raise CenterError(f"the site has vehicles {ids}: choose one with --vehicle")
        return ids[0]

    async def _track(self, gps: GpsSource, spool: Spool) -> None:
        """Fixes into the spool, one per interval (by the fixes' own time)."""
        kept: float | None = None
        async for fix in gps.fixes():
            self.fix = fix
            # A tenth of slack: fixes a second apart are all kept at a 1 s interval.
            if kept is not None and 0 <= fix.ts - kept < self.options.interval_s * 0.9:
                continue
            kept = fix.ts
            if await asyncio.to_thread(spool.put, fix):
                self._queued.set()

    async def _upload(self, spool: Spool) -> None:
        assert self.vehicle_id is not None
        path = self.center.vehicle_path(self.vehicle_id, "/positions")
        delay = RETRY_MIN_S
        while True:
            batch = await asyncio.to_thread(spool.peek, self.options.batch)
            if not batch:
                self._queued.clear()
                await self._queued.wait()
                continue
            try:
                answer = await self.center.call("POST", path, [position_wire(f) for f in batch])
            except CenterError as exc:
                if exc.status == 422:
                    await self._refused(spool, path, batch)
                    continue
                wait = delay * random.uniform(0.5, 1.5)
                log.info("positions: %s; %d queued, again in %.1f s", exc, spool.count, wait)
                await self.link.pause(wait)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            await asyncio.to_thread(spool.remove, [f.ts for f in batch])
            self.uploaded += len(batch)
            if delay > RETRY_MIN_S:
                log.info("positions: uploaded %s of %d, %d queued", answer, len(batch), spool.count)
            delay = RETRY_MIN_S

    async def _refused(self, spool: Spool, path: str, batch: list[Fix]) -> None:
        """A batch the center refuses as invalid: send its positions one by one and drop those
        refused alone (a fix far in the future of a receiver with a wrong clock), so that one
        bad position does not hold the queue."""
        for fix in batch:
            try:
                await self.center.call("POST", path, [position_wire(fix)])
            except CenterError as exc:
                if exc.status != 422:
                    return
                log.error("position %s refused, dropped: %s", fix, exc)
            await asyncio.to_thread(spool.remove, [fix.ts])

    async def _telemetry(self) -> None:
        assert self.vehicle_id is not None and self.uplink is not None
        path = self.center.vehicle_path(self.vehicle_id, "/telemetry")
        probe = RETRY_MIN_S
        while True:
            if self.link.up is False:
                await asyncio.sleep(probe * random.uniform(0.75, 1.25))
                probe = min(probe * 2, PROBE_MAX_S)
            else:
                await asyncio.sleep(self.options.telemetry_s)
                probe = RETRY_MIN_S
            figures = await self.uplink.figures()
            body: dict[str, Any] = {
                "queued": self.spool.count if self.spool is not None else None,
                "agent": f"ecc-vehicle {__version__}",
            }
            if figures is not None:
                body.update(
                    rtt_ms=figures.rtt_ms,
                    loss_pct=figures.loss_pct,
                    bitrate_kbps=figures.bitrate_kbps,
                )
            try:
                await self.center.call("POST", path, body)
            except CenterError as exc:
                log.debug("telemetry: %s", exc)


def _is_loopback(server: str) -> bool:
    """A center on this machine (a demo, the tests) is reached over 127.0.0.1, which aioice
    leaves out of its ICE candidates unless told."""
    host = urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _missing_file(spec: str) -> bool:
    """A source that names a file (not a URL, device, generated scene or sound server) that
    is not there."""
    if "://" in spec or spec.startswith(("/dev/", "v4l2:", "clock", "alsa:", "pulse:")):
        return False
    return not Path(spec).is_file()
