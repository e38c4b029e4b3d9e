"""The site's vehicles as this node knows them: when each was last heard, its link quality, and
whether its stream and the center's talkback to it are up. Changes go to this node's WebSocket
clients as `vehicle` events: `{id, online, last_seen, video, talkback, link}`.

A vehicle is heard through the bus (its positions and telemetry, which every node receives
whichever node the vehicle uploads to) and, at start, through the store (its newest stored
position), so every node tells the same online or offline. `video` and `talkback` are what this
node's media hub carries: a vehicle's WHIP session lives on one node.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson

from ecc import times
from ecc.bus import Bus, Topics
from ecc.command_center.events import EventHub
from ecc.command_center.mediahub import MediaHub, SourceKey
from ecc.config import Site
from ecc.config.settings import VehicleSettings
from ecc.storage import Store

log = logging.getLogger(__name__)

CHECK_S = 1.0
# A stream whose last frame is older than this is not shown as live.
VIDEO_STALE_S = 3.0


@dataclass
class VehicleLive:
    heard: float | None = None
    """Wall time the vehicle was last heard from (a position or telemetry)."""
    link: dict[str, Any] | None = None
    """Its last link telemetry, as it came on the bus."""
    shown: tuple[bool, bool, bool] | None = None
    """(online, video, talkback) as last announced."""


class Fleet:
    def __init__(
        self,
        site: Site,
        settings: VehicleSettings,
        topics: Topics,
        events: EventHub,
        media: MediaHub,
    ) -> None:
        self.site = site
        self.settings = settings
        self.topics = topics
        self.events = events
        self.media = media
        self.vehicles = {v.id: VehicleLive() for v in site.vehicles}
        self._task: asyncio.Task[None] | None = None

    def attach(self, bus: Bus) -> None:
        bus.subscribe(self.topics.vehicle_position(), self._position, qos=0)
        bus.subscribe(self.topics.vehicle_telemetry(), self._telemetry, qos=0)

    async def start(self, store: Store) -> None:
        """Learn when each vehicle last reported (its newest stored position), then watch."""
        for p in await asyncio.to_thread(store.positions.latest):
            live = self.vehicles.get(p.vehicle_id)
            if live is not None and (live.heard is None or live.heard < p.ts):
                live.heard = p.ts
        for vehicle_id in self.vehicles:
            self.vehicles[vehicle_id].shown = self._state(vehicle_id)
        self._task = asyncio.create_task(self._watch(), name="fleet-status")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    # -- what the routes read -----------------------------------------------------------------

    def status(self, vehicle_id: str) -> dict[str, Any]:
        live = self.vehicles[vehicle_id]
        online, video, talkback = self._state(vehicle_id)
        return {
            "id": vehicle_id,
            "online": online,
            "last_seen": times.iso_or_none(live.heard),
            "video": video,
            "talkback": talkback,
            "link": live.link,
        }

    def refresh(self, vehicle_id: str) -> None:
        """Announce the vehicle's status if it changed (a talkback opened, a stream began)."""
        live = self.vehicles.get(vehicle_id)
        if live is None:
            return
        state = self._state(vehicle_id)
        if state != live.shown:
            live.shown = state
            self.events.publish("vehicle", self.status(vehicle_id))

    # -- bus ----------------------------------------------------------------------------------

    def _position(self, topic: str, payload: bytes) -> None:
        vehicle_id = self.topics.vehicle_of(topic)
        if vehicle_id in self.vehicles:
            assert vehicle_id is not None
            self.vehicles[vehicle_id].heard = time.time()
            self.refresh(vehicle_id)

    def _telemetry(self, topic: str, payload: bytes) -> None:
        vehicle_id = self.topics.vehicle_of(topic, "telemetry")
        if vehicle_id not in self.vehicles:
            return
        assert vehicle_id is not None
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(data, dict):
            return
        live = self.vehicles[vehicle_id]
        live.heard = time.time()
        live.link = data
        live.shown = self._state(vehicle_id)
        # Every report goes out: the figures themselves are what the operators watch.
        self.events.publish("vehicle", self.status(vehicle_id))

    # -- state --------------------------------------------------------------------------------

    def _state(self, vehicle_id: str) -> tuple[bool, bool, bool]:
        live = self.vehicles[vehicle_id]
        video = self._carried(f"vehicle:{vehicle_id}", audio=False)
        talkback = self._carried(f"talkback:{vehicle_id}", audio=True)
        recent = (
            live.heard is not None and time.time() - live.heard <= self.settings.offline_after_s
        )
        return (video or recent), video, talkback

    def _carried(self, source_id: str, audio: bool) -> bool:
        source = self.media.sources.get(SourceKey(source_id, "main"))
        if source is None or source.publisher is None or not source.publisher.connected:
            return False
        fanout = source.audio if audio else source.video
        return time.monotonic() - fanout.last_frame <= VIDEO_STALE_S

    async def _watch(self) -> None:
        """Online, video and talkback change with time too (silence, a stream ending)."""
        while True:
            await asyncio.sleep(CHECK_S)
            for vehicle_id in self.vehicles:
                try:
                    self.refresh(vehicle_id)
                except Exception:
                    log.exception("status of vehicle %s", vehicle_id)
