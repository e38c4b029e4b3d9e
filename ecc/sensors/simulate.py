"""`ecc simulate stations`: the site's stations on MQTT, simulated or replaying a real series.

Each station is its own MQTT client, as in the field: its own connection, its last will
(`{"online": false}`, retained, on its status topic) and `{"online": true}` when it connects,
and, with `--credentials`, its own user name and password, so it runs under the ACL that
`ecc mqtt-config` writes.

paho numbers outgoing QoS 1 messages with 16-bit ids and wraps past 65,535 outstanding ones, so
each link bounds its own count of messages not yet acknowledged by the broker (`max_inflight`)
and waits for room before it publishes the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ecc import times
from ecc.bus.client import BrokerAddress
from ecc.bus.topics import Topics
from ecc.config import ConfigError, Settings, Site, Station
from ecc.sensors.scenario import Scenario, StationModel
from ecc.sensors.series import Sample, SeriesError, load

log = logging.getLogger(__name__)

ONLINE = orjson.dumps({"online": True})
OFFLINE = orjson.dumps({"online": False})


@dataclass(frozen=True, slots=True)
class SimOptions:
    speed: float = 1.0
    """Model time per clock second (simulation), or series time per clock second (replay);
    0 replays as fast as the broker takes it."""
    interval_s: float | None = None
    """Clock seconds between a station's readings; default its `interval_s` / speed."""
    replay: Path | None = None
    as_station: str | None = None
    offset: float = 0.0
    """Added to replayed water levels (m): puts a foreign river on this station's datum."""
    shift_to_now: bool = False
    """Replay with times moved so that the series ends when the replay does."""
    credentials: Path | None = None
    max_inflight: int = 1000


class StationLink:
    """One station's MQTT connection, with at most `max_inflight` unacknowledged publishes."""

    def __init__(
        self,
        address: BrokerAddress,
        station_id: str,
        topics: Topics,
        password: str | None,
        max_inflight: int,
    ) -> None:
        self.station_id = station_id
        self.topics = topics
        self.published = 0
        self._room = asyncio.Semaphore(max_inflight)
        self._outstanding = 0
        self._drained = asyncio.Event()
        self._drained.set()
        self._status_mids: set[int] = set()
        self._loop = asyncio.get_running_loop()
        self._connected = asyncio.Event()
        self._seq = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"ecc-sim-{station_id}", protocol=mqtt.MQTTv5
        )
        if password is not None:
            client.username_pw_set(station_id, password)
        elif address.username:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set()
        client.will_set(topics.station_status(station_id), OFFLINE, qos=1, retain=True)
        client.max_inflight_messages_set(min(max_inflight, 1000))
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self.client = client
        self._address = address

    def start(self) -> None:
        self.client.connect_async(self._address.host, self._address.port, keepalive=30)
        self.client.loop_start()

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def publish(self, ts: float, values: dict[str, float], battery: float | None) -> None:
        await self._room.acquire()
        self._seq += 1
        payload: dict[str, Any] = {"ts": times.iso(ts), "values": values, "seq": self._seq}
        if battery is not None:
            payload["battery"] = battery
        info = self.client.publish(
            self.topics.readings(self.station_id), orjson.dumps(payload), qos=1
        )
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self._room.release()
            log.warning("station %s: reading not queued: %s", self.station_id, info.rc)
            return
        self.published += 1
        self._outstanding += 1
        self._drained.clear()

    async def drain(self, timeout: float) -> None:
        """Wait until the broker has acknowledged every reading published."""
        await asyncio.wait_for(self._drained.wait(), timeout)

    def _acked(self) -> None:
        self._room.release()
        self._outstanding -= 1
        if self._outstanding <= 0:
            self._drained.set()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("station %s: connection refused: %s", self.station_id, reason)
            return
        info = client.publish(
            self.topics.station_status(self.station_id), ONLINE, qos=1, retain=True
        )
        # Its PUBACK is read on this same thread, after this callback: no race with on_publish.
        self._status_mids.add(info.mid)
        self._loop.call_soon_threadsafe(self._connected.set)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._connected.clear)

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if mid in self._status_mids:
            self._status_mids.discard(mid)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._acked)


def read_credentials(path: Path) -> dict[str, str]:
    """Station passwords from the credentials file `ecc mqtt-config` writes."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read credentials: {exc}") from None
    users = data.get("users")
    if not isinstance(users, dict):
        raise ConfigError(f"{path}: no [users] table")
    return {str(k): str(v) for k, v in users.items()}


class StationSimulator:
    """Simulated stations (or one replayed series) as a supervised part."""

    name = "simulate-stations"

    def __init__(self, settings: Settings, site: Site, options: SimOptions) -> None:
        if settings.mqtt_url is None:
            raise ConfigError("mqtt_url: the simulator needs a broker; set ECC_MQTT_URL")
        self.settings = settings
        self.site = site
        self.options = options
        self.address = BrokerAddress.parse(
            settings.mqtt_url,
            settings.mqtt_username,
            settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        )
        self.samples: list[Sample] = []
        self.stations: list[Station] = list(site.stations)
        if options.replay is not None:
            station = site.station(options.as_station or "")
            if station is None:
                raise ConfigError(f"--as: {options.as_station!r} is not a station of the site")
            try:
                self.samples = replay_samples(load(options.replay), station, options.offset)
            except SeriesError as exc:
                raise ConfigError(f"--replay: {exc}") from None
            if not self.samples:
                raise ConfigError(
                    f"--replay: {options.replay} has no metric that {station.id} reports"
                )
            self.stations = [station]
        self.passwords = read_credentials(options.credentials) if options.credentials else {}

    async def run(self) -> None:
        topics = Topics(self.settings.mqtt_prefix)
        links = [
            StationLink(
                self.address,
                s.id,
                topics,
                self.passwords.get(s.id) if self.passwords else None,
                self.options.max_inflight,
            )
            for s in self.stations
        ]
        for link in links:
            link.start()
        try:
            if self.samples:
                await self._replay(links[0])
            else:
                await self._simulate(links)
        finally:
            await asyncio.gather(*(asyncio.to_thread(link.stop) for link in links))

    async def _replay(self, link: StationLink) -> None:
        opts = self.options
        await link.wait_connected(30)
        samples = self.samples
        first, last = samples[0].ts, samples[-1].ts
        started = time.time()
        speed = opts.speed
        shift = 0.0
        if opts.shift_to_now:
            shift = started + ((last - first) / speed if speed > 0 else 0.0) - last
        log.info(
            "replaying %d readings of %s as %s at %sx",
            len(samples),
            opts.replay,
            link.station_id,
            f"{speed:g}" if speed > 0 else "full speed ",
        )
        for sample in samples:
            if speed > 0:
                due = started + (sample.ts - first) / speed
                wait = due - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            await link.publish(sample.ts + shift, sample.values, None)
        await link.drain(60)
        log.info("replay done: %d readings published", link.published)

    async def _simulate(self, links: Sequence[StationLink]) -> None:
        opts = self.options
        speed = opts.speed if opts.speed > 0 else 1.0
        started = time.time()
        scenario = Scenario(origin=started)
        models = {s.id: StationModel(s) for s in self.stations}
        every = {s.id: opts.interval_s or s.interval_s / speed for s in self.stations}
        due = dict.fromkeys(every, started)
        log.info(
            "simulating %d stations, model time at %gx; first storm in %.0f s",
            len(links),
            speed,
            1800 / speed,
        )
        while True:
            station_id = min(due, key=due.__getitem__)
            wait = due[station_id] - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            now = time.time()
            model_t = started + (now - started) * speed
            link = next(link for link in links if link.station_id == station_id)
            values = models[station_id].values(scenario, model_t, every[station_id] * speed)
            await link.publish(now, values, round(12.4 + 0.4 * (now % 7) / 7, 2))
            due[station_id] += every[station_id]
            if due[station_id] < now:
                due[station_id] = now + every[station_id]  # fell behind: skip, do not burst


def replay_samples(samples: list[Sample], station: Station, offset: float) -> list[Sample]:
    """The metrics of a series that the station reports, water levels moved by `offset`."""
    metrics: set[str] = set(station.reported_metrics)
    out = []
    for s in samples:
        values = {m: v for m, v in s.values.items() if m in metrics}
        if "water_level" in values and offset:
            values["water_level"] = round(values["water_level"] + offset, 4)
        if values:
            out.append(Sample(s.ts, values))
    return out
