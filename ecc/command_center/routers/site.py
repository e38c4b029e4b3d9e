"""The site as a whole and its cameras (registry from the site file, live state); vehicles are
in vehicles.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse

from ecc.command_center.deps import Principal, SettingsDep, SiteDep, allow
from ecc.command_center.live import LiveState
from ecc.config import Camera, Site
from ecc.config.site import base_layer_path

router = APIRouter(prefix="/api", tags=["site"])


@router.get("/site")
def get_site(site: SiteDep, _: Annotated[Principal, allow("site.read")]) -> dict[str, Any]:
    """Name, time zone, map settings and camera groups of the site."""
    return {
        "name": site.name,
        "name_en": site.name_en,
        "timezone": site.timezone,
        "map": {
            "center": [site.map.center_lat, site.map.center_lon],
            "zoom": site.map.zoom,
            "tile_url": site.map.tile_url,
            "base_layer": site.map.base_layer is not None,
        },
        "counts": {
            "stations": len(site.stations),
            "cameras": len(site.cameras),
            "vehicles": len(site.vehicles),
        },
        "groups": [g.model_dump() for g in site.groups],
        "linked_camera_radius_m": site.linked_camera_radius_m,
    }


@router.get("/site/base-layer", response_class=FileResponse)
def base_layer(
    site: SiteDep, settings: SettingsDep, _: Annotated[Principal, allow("site.read")]
) -> FileResponse:
    """The offline base layer of the map (GeoJSON: outline, rivers, roads)."""
    path = base_layer_path(settings.site, site)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the site has no base layer")
    return FileResponse(path, media_type="application/geo+json")


def camera_public(camera: Camera, live: LiveState) -> dict[str, Any]:
    return {
        "id": camera.id,
        "name": camera.name,
        "name_en": camera.name_en,
        "kind": camera.kind,
        "lat": camera.lat,
        "lon": camera.lon,
        "has_sub": camera.sub is not None,
        "record": camera.record,
        "public": camera.public,
        # Motion zones by id and display name: intrusion alerts name a zone by its id.
        "zones": [
            {"id": z.id, "name": z.name}
            for z in (camera.motion.effective_zones() if camera.motion else [])
        ],
        "status": live.camera_status.get(camera.id),
    }


def _camera(site: Site, camera_id: str) -> Camera:
    camera = site.camera(camera_id)
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no camera {camera_id!r}")
    return camera


@router.get("/cameras")
def list_cameras(
    request: Request, site: SiteDep, _: Annotated[Principal, allow("site.read")]
) -> list[dict[str, Any]]:
    live: LiveState = request.app.state.live
    return [camera_public(c, live) for c in site.cameras]


@router.get("/cameras/{camera_id}")
def get_camera(
    camera_id: str, request: Request, site: SiteDep, _: Annotated[Principal, allow("site.read")]
) -> dict[str, Any]:
    return camera_public(_camera(site, camera_id), request.app.state.live)
