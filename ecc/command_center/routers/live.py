"""Public live scenes: cameras marked `public = true`, watched without login on /live.

Only the sub stream, at most `video.public_viewers_per_camera` anonymous viewers per camera,
and a 404 for every camera that is not public, the same as for one that does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from ecc.command_center.deps import SiteDep
from ecc.command_center.mediahub import SourceKey
from ecc.command_center.routers.video import (
    OFFER_DOC,
    hub_of,
    read_offer,
    refuse_if_offline,
    start_viewer,
)
from ecc.config import Camera, Site

router = APIRouter(prefix="/api/public", tags=["public"])


def public_camera(site: Site, camera_id: str) -> Camera:
    camera = site.camera(camera_id)
    if camera is None or not camera.public:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no public camera {camera_id!r}")
    return camera


@router.get("/cameras")
def public_cameras(site: SiteDep) -> list[dict[str, Any]]:
    """The public cameras: id, names and kind (no addresses, no position)."""
    return [
        {"id": c.id, "name": c.name, "name_en": c.name_en, "kind": c.kind}
        for c in site.cameras
        if c.public
    ]


@router.post("/whep/{camera_id}", response_class=Response, openapi_extra=OFFER_DOC)
async def public_whep(camera_id: str, request: Request, site: SiteDep) -> Response:
    """Watch a public camera's sub stream without a token."""
    camera = public_camera(site, camera_id)
    offer = await read_offer(request)
    key = SourceKey(f"camera:{camera.id}", "sub" if camera.sub is not None else "main")
    refuse_if_offline(request, key)
    return await start_viewer(
        hub_of(request), key, offer, f"/api/public/whep/{camera.id}", public=True
    )


@router.delete("/whep/{camera_id}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def public_whep_end(camera_id: str, session_id: str, request: Request) -> None:
    """End an anonymous viewer session (the session id is its only credential)."""
    hub = hub_of(request)
    session = hub.sessions.get(session_id)
    if (
        session is None
        or session.source.key.camera_id != camera_id
        or not getattr(session, "public", False)
        or not await hub.end(session_id, "whep")
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such session")
