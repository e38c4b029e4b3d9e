"""Motion events: by camera and time (for the recording timeline and the alert list), and the
thumbnail of each. The motion workers write them; the center only reads.

And what the zone editor needs: a camera's still (written by its camera worker), and its motion
settings, which an admin saves to the site's motion sidecar (ecc.config.sidecar; the site file
itself is never rewritten) and which the center then publishes on the bus, so that the camera's
worker applies them at once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import ValidationError

from ecc.bus import Bus, Topics
from ecc.command_center.deps import Principal, SettingsDep, SiteDep, StoreDep, allow
from ecc.command_center.params import time_param, unprocessable
from ecc.config import Camera, ConfigError, Site, load_site
from ecc.config.motion import CameraMotion
from ecc.config.sidecar import read_sidecar, save_motion, sidecar_path
from ecc.media.motion_events import motion_to_wire, thumbnail_path
from ecc.media.snapshot import snapshot_path

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["motion"])

TimeQuery = Annotated[str | None, Query(description="RFC 3339 or epoch seconds")]
Limit = Annotated[int, Query(ge=1, le=100_000)]
# Saves take turns: each changes the sidecar and the site the app serves, read-modify-write.
_saving = threading.Lock()
# The swap of the site the app serves (from a save, or heard on the bus on the event loop):
# held for no more than building a list, never across I/O.
_serving = threading.Lock()


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


def _camera(site: Site, camera_id: str) -> Camera:
    camera = site.camera(camera_id)
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no camera {camera_id!r}")
    return camera


@router.get("/cameras/{camera_id}/snapshot.jpg", response_class=FileResponse)
def snapshot(
    camera_id: str,
    site: SiteDep,
    settings: SettingsDep,
    _: Annotated[Principal, allow("video.watch")],
) -> FileResponse:
    """A recent still of the stream that motion analysis looks at (the sub stream where there
    is one): its newest keyframe, decoded by the camera worker every 30 s or so."""
    _camera(site, camera_id)
    path = snapshot_path(settings.data_dir, camera_id)
    if not path.is_file():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"no still of {camera_id!r} yet (its camera worker writes one once the "
            "camera is online)",
        )
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})


def _settings_view(camera: Camera, site_file: Path) -> dict[str, Any]:
    try:
        saved = camera.id in read_sidecar(site_file)
    except ConfigError:
        saved = True
    return {
        "camera_id": camera.id,
        "motion": None if camera.motion is None else camera.motion.model_dump(mode="json"),
        "saved": saved,
        "defaults": CameraMotion().model_dump(mode="json"),
    }


@router.get("/cameras/{camera_id}/motion-config")
def get_motion_config(
    camera_id: str,
    site: SiteDep,
    settings: SettingsDep,
    _: Annotated[Principal, allow("config.manage")],
) -> dict[str, Any]:
    """The camera's motion settings in force (`motion`, null when it is not analysed), whether
    they were saved from the dashboard (`saved`) rather than taken from the site file, and the
    defaults of every field (`defaults`)."""
    return _settings_view(_camera(site, camera_id), settings.site)


@router.put("/cameras/{camera_id}/motion-config")
def put_motion_config(
    camera_id: str,
    motion: CameraMotion,
    request: Request,
    settings: SettingsDep,
    _: Annotated[Principal, allow("config.manage")],
) -> dict[str, Any]:
    """Save the camera's motion settings (zones and masks in normalized coordinates) to the
    site's motion sidecar; they apply at once on the camera's worker."""
    with _saving:
        camera = _camera(request.app.state.site, camera_id)
        _write(settings.site, camera_id, motion)
        return _apply(request, camera, motion, settings.site)


@router.delete("/cameras/{camera_id}/motion-config")
def delete_motion_config(
    camera_id: str,
    request: Request,
    settings: SettingsDep,
    _: Annotated[Principal, allow("config.manage")],
) -> dict[str, Any]:
    """Forget the settings saved from the dashboard: the site file's own apply again."""
    with _saving:
        camera = _camera(request.app.state.site, camera_id)
        _write(settings.site, camera_id, None)
        try:
            own = load_site(settings.site).camera(camera_id)
        except ConfigError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
        return _apply(request, camera, None if own is None else own.motion, settings.site)


def _write(site_file: Path, camera_id: str, motion: CameraMotion | None) -> None:
    try:
        save_motion(site_file, camera_id, motion)
    except ConfigError as exc:
        # The sidecar on disk is broken (edited by hand): say so rather than overwrite it.
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except ValueError as exc:
        raise unprocessable(str(exc)) from None
    except OSError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"cannot write {sidecar_path(site_file)}: {exc.strerror or exc}",
        ) from None


def _serve(app: FastAPI, camera_id: str, motion: CameraMotion | None) -> Camera | None:
    """The app's site with the camera's new motion settings; the camera, changed."""
    with _serving:
        site: Site = app.state.site
        camera = site.camera(camera_id)
        if camera is None:
            return None
        changed = camera.model_copy(update={"motion": motion})
        app.state.site = site.model_copy(
            update={"cameras": [changed if c.id == camera_id else c for c in site.cameras]}
        )
        return changed


def follow_motion_settings(app: FastAPI, bus: Bus) -> None:
    """Settings saved on another center node: serve them here too (every node hears the bus)."""
    topics: Topics = app.state.topics

    def heard(topic: str, payload: bytes) -> None:
        try:
            data = orjson.loads(payload)
            given = data.get("motion") if isinstance(data, dict) else None
            motion = None if given is None else CameraMotion.model_validate(given)
        except (orjson.JSONDecodeError, ValidationError) as exc:
            log.warning("motion settings on %s refused: %s", topic, exc)
            return
        camera_id = topic.removeprefix(f"{topics.prefix}/cameras/").removesuffix("/motion/config")
        _serve(app, camera_id, motion)

    bus.subscribe(topics.camera_motion_config(), heard, qos=1)


def _apply(
    request: Request, camera: Camera, motion: CameraMotion | None, site_file: Path
) -> dict[str, Any]:
    """Serve the new settings from this node, and hand them to the camera's worker (and the
    other center nodes)."""
    changed = _serve(request.app, camera.id, motion) or camera.model_copy(update={"motion": motion})
    bus: Bus = request.app.state.bus
    topics: Topics = request.app.state.topics
    payload = {
        "camera_id": camera.id,
        "motion": None if motion is None else motion.model_dump(mode="json"),
    }
    bus.publish(topics.camera_motion_config(camera.id), orjson.dumps(payload), qos=1)
    return _settings_view(changed, site_file)
