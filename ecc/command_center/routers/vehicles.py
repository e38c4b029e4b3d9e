"""Vehicles: the registry from the site file, positions stored as tracks, status and link.

Positions are identified by (vehicle, ts) to the millisecond: a vehicle that lost its link
uploads its queue again until an upload is answered, and a position that arrives twice is stored
once. New positions go out on the bus (`vehicles/{id}/position`), so every center node shows them
live; telemetry likewise (`vehicles/{id}/telemetry`).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ecc import times
from ecc.bus import Bus, Topics
from ecc.command_center.deps import Principal, SettingsDep, SiteDep, StoreDep, allow
from ecc.command_center.fleet import Fleet
from ecc.command_center.params import time_param, unprocessable
from ecc.config import Site, Vehicle
from ecc.storage.models import Position

router = APIRouter(prefix="/api/vehicles", tags=["vehicles"])

# Of a batch (a queue uploaded after an outage), at most this many of the newest positions go
# out live: a map's trail shows about as many, and a long outage must not flood every client.
LIVE_PER_BATCH = 30
TRACK_DEFAULT_S = 24 * 3600


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ts: float | str = Field(description="when the fix was taken: RFC 3339 or epoch seconds")
    lat: float = Field(ge=-90, le=90, description="WGS 84 latitude, degrees")
    lon: float = Field(ge=-180, le=180, description="WGS 84 longitude, degrees")
    speed: float | None = Field(None, ge=0, le=300, description="metres per second")
    heading: float | None = Field(
        None, ge=0, le=360, description="degrees clockwise from true north"
    )
    accuracy: float | None = Field(None, ge=0, description="horizontal accuracy, metres")

    @field_validator("ts")
    @classmethod
    def _ts(cls, value: float | str) -> float:
        # Milliseconds identify a position: the same fix sent as 12.3456 and 12.3459 is one.
        return round(times.parse(value), 3)

    def to_position(self, vehicle_id: str) -> Position:
        assert isinstance(self.ts, float)
        return Position(
            vehicle_id, self.ts, self.lat, self.lon, self.speed, self.heading, self.accuracy
        )


class TelemetryIn(BaseModel):
    """Link quality as the vehicle measures it on its WHIP session (RTCP receiver reports)."""

    model_config = ConfigDict(extra="forbid")

    rtt_ms: float | None = Field(None, ge=0, le=600_000, description="round-trip time")
    loss_pct: float | None = Field(None, ge=0, le=100, description="packets lost, per cent")
    bitrate_kbps: float | None = Field(None, ge=0, le=1_000_000, description="media sent")
    queued: int | None = Field(None, ge=0, description="positions waiting to be uploaded")
    network: str | None = Field(None, max_length=40, description="e.g. 4g, wifi (if known)")
    agent: str | None = Field(None, max_length=40, description="page or agent, and its version")


class Stored(BaseModel):
    received: int
    stored: int


def position_to_wire(p: Position) -> dict[str, Any]:
    return {
        "vehicle_id": p.vehicle_id,
        "ts": times.iso(p.ts),
        "lat": p.lat,
        "lon": p.lon,
        "speed": p.speed,
        "heading": p.heading,
        "accuracy": p.accuracy,
    }


def _vehicle(site: Site, vehicle_id: str) -> Vehicle:
    vehicle = site.vehicle(vehicle_id)
    if vehicle is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no vehicle {vehicle_id!r}")
    return vehicle


def _fleet(request: Request) -> Fleet:
    fleet: Fleet = request.app.state.fleet
    return fleet


def _public(vehicle: Vehicle, position: Position | None, fleet: Fleet) -> dict[str, Any]:
    return {
        "id": vehicle.id,
        "name": vehicle.name,
        "name_en": vehicle.name_en,
        "plate": vehicle.plate,
        "home": None if vehicle.home_lat is None else [vehicle.home_lat, vehicle.home_lon],
        "position": None if position is None else position_to_wire(position),
        "status": fleet.status(vehicle.id),
    }


@router.get("")
def list_vehicles(
    request: Request, site: SiteDep, store: StoreDep, _: Annotated[Principal, allow("site.read")]
) -> list[dict[str, Any]]:
    """The site's vehicles with their newest position and their status (online, streaming,
    talkback open, link quality)."""
    latest = {p.vehicle_id: p for p in store.positions.latest()}
    fleet = _fleet(request)
    return [_public(v, latest.get(v.id), fleet) for v in site.vehicles]


@router.get("/{vehicle_id}")
def get_vehicle(
    vehicle_id: str,
    request: Request,
    site: SiteDep,
    store: StoreDep,
    _: Annotated[Principal, allow("site.read")],
) -> dict[str, Any]:
    vehicle = _vehicle(site, vehicle_id)
    latest = store.positions.latest(vehicle_id)
    return _public(vehicle, latest[0] if latest else None, _fleet(request))


def _store_positions(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    vehicle_id: str,
    batch: list[PositionIn],
) -> Stored:
    now = time.time()
    for item in batch:
        assert isinstance(item.ts, float)
        if item.ts - now > settings.ingest.max_future_s:
            raise unprocessable(
                f"ts {times.iso(item.ts)} is {item.ts - now:.0f} s ahead of the center's clock"
            )
    positions = [item.to_position(vehicle_id) for item in batch]
    before = store.positions.latest(vehicle_id)
    new = store.positions.insert(positions)
    # Arrivals of dispatched vehicles (ecc.incidents.desk): the whole batch, not only what was
    # new, so that a batch sent again after a lost answer is judged even if its first try wasn't.
    request.app.state.desk.positions(vehicle_id, positions)
    # Live: only what moves the vehicle forward, oldest first; older ones are in the track.
    newest = before[0].ts if before else float("-inf")
    live = sorted((p for p in new if p.ts > newest), key=lambda p: p.ts)[-LIVE_PER_BATCH:]
    bus: Bus = request.app.state.bus
    topics: Topics = request.app.state.topics
    topic = topics.vehicle_position(vehicle_id)
    for p in live:
        bus.publish(topic, orjson.dumps(position_to_wire(p)), qos=1)
    return Stored(received=len(batch), stored=len(new))


@router.post("/{vehicle_id}/position")
def report_position(
    vehicle_id: str,
    body: PositionIn,
    request: Request,
    site: SiteDep,
    store: StoreDep,
    settings: SettingsDep,
    _: Annotated[Principal, allow("vehicles.report")],
) -> Stored:
    """One position. Sent again, it is stored once (`stored: 0`)."""
    _vehicle(site, vehicle_id)
    return _store_positions(request, store, settings, vehicle_id, [body])


@router.post("/{vehicle_id}/positions")
def report_positions(
    vehicle_id: str,
    body: Annotated[list[PositionIn], Body(description="positions, any order")],
    request: Request,
    site: SiteDep,
    store: StoreDep,
    settings: SettingsDep,
    _: Annotated[Principal, allow("vehicles.report")],
) -> Stored:
    """A batch, as a vehicle uploads the positions it queued while its link was down. Each
    (vehicle, ts) is stored once however often it is sent; the batch is stored as a whole or,
    on an error, not at all (send it again)."""
    _vehicle(site, vehicle_id)
    if len(body) > settings.vehicles.max_batch:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"{len(body)} positions; send at most {settings.vehicles.max_batch} at once",
        )
    return _store_positions(request, store, settings, vehicle_id, body)


@router.get("/{vehicle_id}/track")
def track(
    vehicle_id: str,
    site: SiteDep,
    store: StoreDep,
    _: Annotated[Principal, allow("site.read")],
    start: Annotated[
        str | None, Query(description="RFC 3339 or epoch seconds; default 24 h before end")
    ] = None,
    end: Annotated[str | None, Query(description="RFC 3339 or epoch seconds; default now")] = None,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 100_000,
) -> list[dict[str, Any]]:
    """The vehicle's positions in [start, end], oldest first (past `limit`, the newest)."""
    _vehicle(site, vehicle_id)
    until = time_param("end", end, time.time())
    assert until is not None
    since = time_param("start", start, until - TRACK_DEFAULT_S)
    assert since is not None
    if since > until:
        raise unprocessable("start: after end")
    return [position_to_wire(p) for p in store.positions.track(vehicle_id, since, until, limit)]


@router.post("/{vehicle_id}/telemetry")
async def report_telemetry(
    vehicle_id: str,
    body: TelemetryIn,
    request: Request,
    site: SiteDep,
    _: Annotated[Principal, allow("vehicles.report")],
) -> dict[str, Any]:
    """Link quality of the vehicle's uplink, relayed to every node's dashboards. The answer
    says whether this node receives the vehicle's stream."""
    _vehicle(site, vehicle_id)
    data = {"ts": times.iso(time.time()), **body.model_dump()}
    bus: Bus = request.app.state.bus
    topics: Topics = request.app.state.topics
    bus.publish(topics.vehicle_telemetry(vehicle_id), orjson.dumps(data), qos=0)
    return {"video": _fleet(request).status(vehicle_id)["video"]}
