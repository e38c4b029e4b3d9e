"""Stations of the site, their latest values and their history."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel

from ecc import times
from ecc.command_center.deps import Principal, SiteDep, StoreDep, allow
from ecc.command_center.live import LiveState
from ecc.command_center.params import duration_param, time_param, unprocessable
from ecc.config import Site, Station
from ecc.storage import Store
from ecc.storage.models import SEVERITY_RANK, Alert

router = APIRouter(prefix="/api/stations", tags=["stations"])


class LatestValue(BaseModel):
    ts: str
    value: float


class StationPublic(BaseModel):
    id: str
    name: str
    name_en: str | None
    kind: str
    river: str | None
    lat: float
    lon: float
    interval_s: float
    metrics: list[str]
    cameras: list[str]
    thresholds: dict[str, dict[str, Any]]
    latest: dict[str, LatestValue]
    last_seen: str | None
    online: bool | None
    alert_severity: str | None


def offline_after(site: Site, station: Station) -> float:
    return station.offline_after_s or station.interval_s * site.offline_after_intervals


def _public(
    site: Site,
    station: Station,
    latest: dict[str, LatestValue],
    last_seen: float | None,
    alerts: list[Alert],
    live: LiveState,
) -> StationPublic:
    worst = max(
        (a.severity for a in alerts if a.source_type == "station" and a.source_id == station.id),
        key=SEVERITY_RANK.__getitem__,
        default=None,
    )
    status_msg = live.station_status.get(station.id)
    if status_msg is not None and status_msg.get("online") is False:
        online: bool | None = False
    elif last_seen is None:
        online = None
    else:
        online = time.time() - last_seen <= offline_after(site, station)
    return StationPublic(
        id=station.id,
        name=station.name,
        name_en=station.name_en,
        kind=station.kind,
        river=station.river,
        lat=station.lat,
        lon=station.lon,
        interval_s=station.interval_s,
        metrics=list(station.reported_metrics),
        cameras=list(station.cameras),
        thresholds={m: t.model_dump(exclude_none=True) for m, t in station.thresholds.items()},
        latest=latest,
        last_seen=times.iso_or_none(last_seen),
        online=online,
        alert_severity=worst,
    )


def _station(site: Site, station_id: str) -> Station:
    station = site.station(station_id)
    if station is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no station {station_id!r}")
    return station


LatestOf = tuple[dict[str, LatestValue], float | None]
NOTHING: LatestOf = ({}, None)


def _latest(store: Store, station_id: str | None) -> dict[str, LatestOf]:
    """Latest values by station, and when the station was last heard of."""
    out: dict[str, LatestOf] = {}
    for row in store.readings.latest(station_id):
        values, seen = out.get(row.station_id) or ({}, None)
        values[row.metric] = LatestValue(ts=times.iso(row.ts), value=row.value)
        out[row.station_id] = (values, row.ts if seen is None else max(seen, row.ts))
    return out


@router.get("", response_model=list[StationPublic])
def list_stations(
    request: Request,
    site: SiteDep,
    store: StoreDep,
    _: Annotated[Principal, allow("site.read")],
) -> list[StationPublic]:
    latest = _latest(store, None)
    alerts = store.alerts.list_open()
    live: LiveState = request.app.state.live
    return [_public(site, s, *latest.get(s.id, NOTHING), alerts, live) for s in site.stations]


@router.get("/{station_id}", response_model=StationPublic)
def get_station(
    station_id: str,
    request: Request,
    site: SiteDep,
    store: StoreDep,
    _: Annotated[Principal, allow("site.read")],
) -> StationPublic:
    station = _station(site, station_id)
    values, seen = _latest(store, station_id).get(station_id, NOTHING)
    return _public(site, station, values, seen, store.alerts.list_open(), request.app.state.live)


@router.get("/{station_id}/readings")
def readings(
    station_id: str,
    site: SiteDep,
    store: StoreDep,
    _: Annotated[Principal, allow("readings.read")],
    metric: str | None = None,
    start: Annotated[str | None, Query(description="RFC 3339 or epoch seconds")] = None,
    end: Annotated[str | None, Query(description="RFC 3339 or epoch seconds")] = None,
    step: Annotated[str | None, Query(description="bucket size: seconds, or 5m, 1h, 1d")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
) -> list[dict[str, Any]]:
    """Points `{ts, value}`, oldest first; with `step`, buckets `{ts, min, avg, max, count}`."""
    station = _station(site, station_id)
    metrics = station.reported_metrics
    if metric is None:
        if len(metrics) != 1:
            raise unprocessable(f"metric: required for this station (one of {', '.join(metrics)})")
        metric = metrics[0]
    elif metric not in metrics and metric != "battery":
        raise unprocessable(
            f"metric: station {station_id} reports {', '.join(metrics)}, not {metric!r}"
        )
    now = time.time()
    t1 = time_param("end", end, now)
    t0 = time_param("start", start, (t1 or now) - 86400)
    assert t0 is not None and t1 is not None
    if t0 > t1:
        raise unprocessable("start: must not be after end")
    step_s = duration_param("step", step)
    if step_s is None:
        return [
            {"ts": times.iso(p.ts), "value": p.value}
            for p in store.readings.range(station_id, metric, t0, t1, limit)
        ]
    if (t1 - t0) / step_s > 1_000_000:
        raise unprocessable("step: too small for this range (more than 1,000,000 buckets)")
    buckets = store.readings.downsample(station_id, metric, t0, t1, step_s)[-limit:]
    return [
        {"ts": times.iso(b.ts), "min": b.min, "avg": b.avg, "max": b.max, "count": b.count}
        for b in buckets
    ]
