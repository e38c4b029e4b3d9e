"""Motion events: by camera and time (for the recording timeline and the alert list), and the
thumbnail of each. The motion workers write them; the center only reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import FileResponse

from ecc.command_center.deps import Principal, SettingsDep, SiteDep, StoreDep, allow
from ecc.command_center.params import time_param, unprocessable
from ecc.media.motion_events import motion_to_wire, thumbnail_path

router = APIRouter(prefix="/api", tags=["motion"])

TimeQuery = Annotated[str | None, Query(description="RFC 3339 or epoch seconds")]
Limit = Annotated[int, Query(ge=1, le=100_000)]


def _list(
    store: StoreDep,
    camera: str | None,
    zone: str | None,
    start: str | None,
    end: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    t0, t1 = time_param("start", start), time_param("end", end)
    if t0 is not None and t1 is not None and t1 < t0:
        raise unprocessable("end: must not be before start")
    events = store.motion_events.list(camera_id=camera, start=t0, end=t1, zone=zone, limit=limit)
    return [motion_to_wire(e) for e in events]


@router.get("/motion")
def list_motion(
    store: StoreDep,
    _: Annotated[Principal, allow("alerts.read")],
    camera: str | None = None,
    zone: str | None = None,
    start: TimeQuery = None,
    end: TimeQuery = None,
    limit: Limit = 1000,
) -> list[dict[str, Any]]:
    """Motion events of every camera (or one) that overlap [start, end], oldest first."""
    return _list(store, camera, zone, start, end, limit)


@router.get("/cameras/{camera_id}/motion")
def camera_motion(
    camera_id: str,
    store: StoreDep,
    site: SiteDep,
    _: Annotated[Principal, allow("alerts.read")],
    zone: str | None = None,
    start: TimeQuery = None,
    end: TimeQuery = None,
    limit: Limit = 1000,
) -> list[dict[str, Any]]:
    """Motion events of one camera that overlap [start, end]: marks on its recording timeline."""
    if site.camera(camera_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no camera {camera_id!r}")
    return _list(store, camera_id, zone, start, end, limit)


@router.get("/motion/{event_id}")
def get_motion(
    event_id: str, store: StoreDep, _: Annotated[Principal, allow("alerts.read")]
) -> dict[str, Any]:
    return motion_to_wire(store.motion_events.get(event_id))


@router.get("/motion/{event_id}/thumbnail.jpg", response_class=FileResponse)
def thumbnail(
    event_id: str,
    store: StoreDep,
    settings: SettingsDep,
    _: Annotated[Principal, allow("video.watch")],
) -> FileResponse:
    """The event's picture at its peak, with where it moved boxed in red."""
    path = thumbnail_path(settings.data_dir, store.motion_events.get(event_id))
    if path is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the event has no thumbnail")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "max-age=86400"})
