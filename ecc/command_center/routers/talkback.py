"""Talkback: two-way audio between the center and a vehicle, relayed by the media hub.

The center's voice: an operator's browser publishes its microphone over WHIP (RFC 9725) to
`POST /api/talkback/{vehicle_id}`, the audio-only source `talkback:{vehicle_id}`; the vehicle
listens over WHEP at `POST /api/talkback/{vehicle_id}/listen`. The vehicle's voice is the audio of
its own stream (`vehicle:{id}`), which operators play over WHEP with its picture. Opus goes through
the hub as it came, both ways: nothing is decoded or encoded on the center.

A second operator who opens talkback to the same vehicle takes it over, as a WHIP publisher of
any source does. Both ends need the `talkback` permission.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status

from ecc.command_center.deps import Principal, SiteDep, allow
from ecc.command_center.mediahub import BadOffer, SourceKey
from ecc.command_center.routers.video import OFFER_DOC, created, hub_of, read_offer, start_viewer
from ecc.config import Site

router = APIRouter(prefix="/api/talkback", tags=["talkback"])


def talkback_key(site: Site, vehicle_id: str) -> SourceKey:
    if site.vehicle(vehicle_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no vehicle {vehicle_id!r}")
    return SourceKey(f"talkback:{vehicle_id}", "main")


@router.post("/{vehicle_id}", response_class=Response, openapi_extra=OFFER_DOC)
async def speak(
    vehicle_id: str,
    request: Request,
    site: SiteDep,
    _: Annotated[Principal, allow("talkback")],
) -> Response:
    """Open talkback to a vehicle: the operator's audio-only SDP offer in (WHIP), 201 with the
    answer; DELETE on the Location closes it."""
    offer = await read_offer(request)
    key = talkback_key(site, vehicle_id)
    try:
        publisher = await hub_of(request).publish(key, offer)
    except BadOffer as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    return created(
        str(publisher.pc.localDescription.sdp),
        f"/api/talkback/{vehicle_id}/sessions/{publisher.id}",
    )


@router.delete("/{vehicle_id}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def speak_end(
    vehicle_id: str,
    session_id: str,
    request: Request,
    _: Annotated[Principal, allow("talkback")],
) -> None:
    """Close talkback (end the operator's WHIP session)."""
    if not await hub_of(request).end(session_id, "whip"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such session")


@router.post("/{vehicle_id}/listen", response_class=Response, openapi_extra=OFFER_DOC)
async def listen(
    vehicle_id: str,
    request: Request,
    site: SiteDep,
    _: Annotated[Principal, allow("talkback")],
) -> Response:
    """Hear the center in the vehicle: an audio-only WHEP offer in, 201 with the answer once
    talkback is open; 503 with Retry-After while nobody speaks."""
    offer = await read_offer(request)
    key = talkback_key(site, vehicle_id)
    return await start_viewer(
        hub_of(request), key, offer, f"/api/talkback/{vehicle_id}/listen", False
    )


@router.delete("/{vehicle_id}/listen/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def listen_end(
    vehicle_id: str,
    session_id: str,
    request: Request,
    _: Annotated[Principal, allow("talkback")],
) -> None:
    """Stop listening (end the vehicle's WHEP session)."""
    if not await hub_of(request).end(session_id, "whep"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such session")
