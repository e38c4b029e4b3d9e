"""Live video: WHIP (publish) and WHEP (watch), RFC 9725.

`POST` an SDP offer (`Content-Type: application/sdp`) and get `201 Created` with the SDP answer
and a `Location`; `DELETE` on the Location ends the session. Candidates travel in the offer and
the answer (no trickle ICE: PATCH is not offered, so it answers 405).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from ecc.command_center.deps import Principal, SiteDep, allow
from ecc.command_center.live import LiveState
from ecc.command_center.mediahub import (
    BadOffer,
    MediaHub,
    NotPublishing,
    SourceKey,
    TooManyViewers,
)
from ecc.command_center.mediahub.session import MAX_SDP_BYTES
from ecc.command_center.permissions import ADMIN, SERVICE
from ecc.config import Site

router = APIRouter(prefix="/api", tags=["video"])

SDP = "application/sdp"
Stream = Annotated[
    Literal["main", "sub"],
    Query(description="main (full resolution) or sub (lower resolution, for tiles)"),
]
# Retry-After of a viewer whose camera did not start: the player tries again about then.
RETRY_NOT_PUBLISHING_S = 5
RETRY_FULL_S = 30
OFFER_DOC: dict[str, Any] = {
    "requestBody": {"content": {SDP: {"schema": {"type": "string"}}}, "required": True},
    "responses": {201: {"content": {SDP: {}}, "description": "the SDP answer"}},
}


def hub_of(request: Request) -> MediaHub:
    hub: MediaHub = request.app.state.media
    return hub


async def read_offer(request: Request) -> str:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != SDP:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=f"send the SDP offer as {SDP}"
        )
    body = await request.body()
    if len(body) > MAX_SDP_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="SDP offer too large")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="SDP is not UTF-8") from None
    if not text.startswith("v=0"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="not an SDP offer")
    return text


def source_key(site: Site, source_id: str, stream: str) -> SourceKey:
    """The hub's key of a source, 404 if the site has no such camera or vehicle. A camera
    without a sub stream serves its main stream for `sub`."""
    kind, _, ident = source_id.partition(":")
    if kind == "camera":
        camera = site.camera(ident)
        if camera is not None:
            return SourceKey(source_id, stream if camera.sub is not None else "main")
    elif kind == "vehicle" and site.vehicle(ident) is not None:
        return SourceKey(source_id, stream)
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no video source {source_id!r}")


def created(answer: str, location: str) -> Response:
    return Response(
        answer,
        status_code=status.HTTP_201_CREATED,
        media_type=SDP,
        headers={"Location": location, "Cache-Control": "no-store"},
    )


def refuse_if_offline(request: Request, key: SourceKey) -> None:
    """A camera its worker reports offline gets a 503 at once rather than after `whep_wait_s`:
    a wall of offline cameras must not hold the browser's few connections to the center."""
    if key.camera_id is None:
        return
    live: LiveState = request.app.state.live
    health = live.camera_status.get(key.camera_id)
    if health is not None and health.get("online") is False:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"camera {key.camera_id} is offline",
            headers={"Retry-After": str(RETRY_NOT_PUBLISHING_S)},
        )


async def start_viewer(
    hub: MediaHub, key: SourceKey, offer: str, location_prefix: str, public: bool
) -> Response:
    try:
        viewer = await hub.watch(key, offer, public=public)
    except BadOffer as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    except NotPublishing as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"{exc}: the camera is offline or not reachable",
            headers={"Retry-After": str(RETRY_NOT_PUBLISHING_S)},
        ) from None
    except TooManyViewers as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"too many viewers ({exc})",
            headers={"Retry-After": str(RETRY_FULL_S)},
        ) from None
    return created(str(viewer.pc.localDescription.sdp), f"{location_prefix}/sessions/{viewer.id}")


@router.post("/whip/{source_id}", response_class=Response, openapi_extra=OFFER_DOC)
async def whip(
    source_id: str,
    request: Request,
    site: SiteDep,
    principal: Annotated[Principal, allow("video.publish")],
    stream: Stream = "main",
) -> Response:
    """Publish a source (a camera worker, a vehicle): SDP offer in, 201 with the answer."""
    offer = await read_offer(request)
    key = source_key(site, source_id, stream)
    if key.camera_id is not None and principal.role not in (SERVICE, ADMIN):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="cameras are published by ECC's camera workers"
        )
    try:
        publisher = await hub_of(request).publish(key, offer)
    except BadOffer as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    return created(
        str(publisher.pc.localDescription.sdp), f"/api/whip/{source_id}/sessions/{publisher.id}"
    )


@router.delete("/whip/{source_id}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def whip_end(
    source_id: str,
    session_id: str,
    request: Request,
    _: Annotated[Principal, allow("video.publish")],
) -> None:
    """End a publisher session (RFC 9725 section 4.2)."""
    if not await hub_of(request).end(session_id, "whip"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such session")


@router.post("/whep/{source_id}", response_class=Response, openapi_extra=OFFER_DOC)
async def whep(
    source_id: str,
    request: Request,
    site: SiteDep,
    _: Annotated[Principal, allow("video.watch")],
    stream: Stream = "main",
) -> Response:
    """Watch a source: SDP offer in, 201 with the answer. 503 with Retry-After if the camera
    does not start pushing in time (offline)."""
    offer = await read_offer(request)
    key = source_key(site, source_id, stream)
    refuse_if_offline(request, key)
    return await start_viewer(hub_of(request), key, offer, f"/api/whep/{source_id}", False)


@router.delete("/whep/{source_id}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def whep_end(
    source_id: str,
    session_id: str,
    request: Request,
    _: Annotated[Principal, allow("video.watch")],
) -> None:
    """End a viewer session."""
    if not await hub_of(request).end(session_id, "whep"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such session")


@router.get("/video/sources")
def video_sources(
    request: Request, _: Annotated[Principal, allow("video.watch")]
) -> dict[str, Any]:
    """What the media hub carries now: sources, publishers, viewers and its own counters."""
    hub = hub_of(request)
    return {"sources": hub.describe(), "counts": dataclasses.asdict(hub.counts())}
