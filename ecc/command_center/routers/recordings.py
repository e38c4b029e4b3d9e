"""Recordings of cameras and vehicles: what is recorded, HLS playback, clips.

For a camera (`/api/cameras/{id}/...`) and a vehicle (`/api/vehicles/{id}/...`) alike:

- `recordings?start=&end=`: the spans recorded and the gaps, and a media token for the URLs
  below (ecc.command_center.playback says why URLs carry one);
- `playback.m3u8?start=&end=`: an HLS VOD playlist over the index (ecc.media.playlist) whose
  segment URLs carry a media token; each playlist is a playback in the audit log;
- `segments/{id}`: a segment file, served with HTTP Range (the playlist addresses its init
  section and its fragments by byte range);
- `clip.mp4?start=&end=`: the range as one MP4, remuxed (ecc.media.clip); an export in the
  audit log.

Nothing here decodes or encodes: the bytes sent are the recorded ones (see /metrics:
ecc_playback_clip_frames_copied, ecc_video_decoders, ecc_video_encoders).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse, StreamingResponse

from ecc import times
from ecc.command_center.deps import Principal, SettingsDep, SiteDep, StoreDep
from ecc.command_center.params import time_param, unprocessable
from ecc.command_center.playback import MediaTokens, PlaybackCounts, media_access
from ecc.config import Settings, Site
from ecc.media import clip, playlist
from ecc.media.recorder import ROOT
from ecc.storage import NotFound, Store
from ecc.storage.models import AuditEntry

router = APIRouter(prefix="/api", tags=["recordings"])

M3U8 = "application/vnd.apple.mpegurl"
DEFAULT_SPAN_S = 86400.0
MAX_SPAN_S = 31 * 86400.0
TimeQuery = Annotated[str | None, Query(description="RFC 3339 or epoch seconds")]
Access = Annotated[Principal, media_access()]
_lock = threading.Lock()


def _source(site: Site, kind: str, ident: str) -> str:
    found = site.camera(ident) if kind == "camera" else site.vehicle(ident)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {kind} {ident!r}")
    return f"{kind}:{ident}"


def _range(start: str | None, end: str | None, longest: float) -> tuple[float, float]:
    t0, t1 = time_param("start", start), time_param("end", end)
    if t0 is None or t1 is None:
        raise unprocessable("start and end: both are needed")
    if t1 <= t0:
        raise unprocessable("end: must be after start")
    if t1 - t0 > longest:
        raise unprocessable(f"end: at most {longest:.0f} s after start")
    return t0, t1


def _counts(request: Request) -> PlaybackCounts:
    counts: PlaybackCounts = request.app.state.playback
    return counts


def _audit(
    request: Request, store: Store, principal: Principal, action: str, detail: dict[str, Any]
) -> None:
    client = request.client
    store.audit.add(
        AuditEntry(
            ts=time.time(),
            action=action,
            username=principal.username,
            target=request.url.path,
            address=client.host if client else None,
            status=200,
            detail=detail,
        )
    )


# -- what each route does, for cameras and vehicles alike ------------------------------------


def recordings(
    request: Request,
    store: Store,
    principal: Principal,
    source: str,
    start: str | None,
    end: str | None,
) -> dict[str, Any]:
    t1 = time_param("end", end, time.time())
    t0 = time_param("start", start, (t1 or 0) - DEFAULT_SPAN_S)
    assert t0 is not None and t1 is not None
    if t1 <= t0:
        raise unprocessable("end: must be after start")
    if t1 - t0 > MAX_SPAN_S:
        raise unprocessable(f"end: at most {MAX_SPAN_S / 86400:.0f} days after start")
    segments = store.recordings.range(source, t0, t1)
    covered = playlist.spans(segments)
    tokens: MediaTokens = request.app.state.media_tokens
    token, expires = tokens.issue(principal.username, source)
    return {
        "source": source,
        "start": times.iso(t0),
        "end": times.iso(t1),
        "spans": [_span(s, t0, t1) for s in covered],
        "gaps": [_span(g, t0, t1) for g in playlist.gaps(covered, t0, t1)],
        "segments": len(segments),
        "bytes": sum(s.bytes for s in segments),
        "token": token,
        "token_expires_at": times.iso(expires),
    }


def _span(span: playlist.Span, start: float, end: float) -> dict[str, str]:
    return {"start": times.iso(max(span.start, start)), "end": times.iso(min(span.end, end))}


def playback(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    source: str,
    start: str | None,
    end: str | None,
) -> Response:
    t0, t1 = _range(start, end, settings.recording.max_playlist_s)
    segments = store.recordings.range(source, t0, t1)
    if not segments:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="nothing is recorded in that range")
    tokens: MediaTokens = request.app.state.media_tokens
    token, _ = tokens.issue(principal.username, source)
    text = playlist.playlist(segments, lambda s: f"segments/{s.id}?token={quote(token)}")
    with _lock:
        _counts(request).playlists += 1
    _audit(
        request,
        store,
        principal,
        "recordings.playback",
        {"source": source, "start": times.iso(t0), "end": times.iso(t1)},
    )
    return Response(text, media_type=M3U8, headers={"Cache-Control": "no-store"})


def segment_file(
    request: Request, store: Store, settings: Settings, source: str, segment_id: str
) -> FileResponse:
    try:
        segment = store.recordings.get(segment_id)
    except NotFound:
        segment = None
    if segment is None or segment.source != source:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such segment")
    root = (Path(settings.data_dir) / ROOT).resolve()
    path = (Path(settings.data_dir) / segment.path).resolve()
    if root not in path.parents or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the segment's file is gone")
    with _lock:
        _counts(request).segments_served += 1
    # A segment never changes once indexed: cacheable, and served by byte range.
    return FileResponse(
        path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=86400"}
    )


def clip_mp4(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    source: str,
    start: str | None,
    end: str | None,
) -> StreamingResponse:
    t0, t1 = _range(start, end, settings.recording.max_clip_s)
    segments = store.recordings.range(source, t0, t1)
    started = time.perf_counter()
    try:
        made = clip.plan(Path(settings.data_dir), segments, t0, t1)
    except (clip.NothingRecorded, FileNotFoundError):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail="nothing is recorded in that range"
        ) from None
    counts = _counts(request)
    with _lock:
        counts.clips += 1
        counts.clip_frames_copied += made.frames
        counts.clip_bytes += made.size
        counts.seconds_planning += time.perf_counter() - started
    _audit(
        request,
        store,
        principal,
        "recordings.export",
        {
            "source": source,
            "start": times.iso(t0),
            "end": times.iso(t1),
            "clip_start": times.iso(round(made.start, 3)),
            "bytes": made.size,
        },
    )
    stamp = datetime.fromtimestamp(made.start, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{source.replace(':', '-')}-{stamp}.mp4"
    return StreamingResponse(
        made.body(),
        media_type="video/mp4",
        headers={
            "Content-Length": str(made.size),
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            # Where the clip really starts: the keyframe at or before the asked start.
            "X-ECC-Clip-Start": times.iso(round(made.start, 3)),
        },
    )


# -- cameras ----------------------------------------------------------------------------------


@router.get("/cameras/{camera_id}/recordings")
def camera_recordings(
    camera_id: str,
    request: Request,
    store: StoreDep,
    site: SiteDep,
    principal: Access,
    start: TimeQuery = None,
    end: TimeQuery = None,
) -> dict[str, Any]:
    """Spans recorded and gaps in [start, end] (default: the last 24 h), and a media token."""
    source = _source(site, "camera", camera_id)
    return recordings(request, store, principal, source, start, end)


@router.get("/cameras/{camera_id}/playback.m3u8", response_class=Response)
def camera_playback(
    camera_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    principal: Access,
    start: TimeQuery = None,
    end: TimeQuery = None,
) -> Response:
    """HLS VOD playlist of the recordings in [start, end]."""
    source = _source(site, "camera", camera_id)
    return playback(request, store, settings, principal, source, start, end)


@router.get("/cameras/{camera_id}/segments/{segment_id}", response_class=FileResponse)
def camera_segment(
    camera_id: str,
    segment_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    _: Access,
) -> FileResponse:
    """One segment file (fragmented MP4), with HTTP Range."""
    source = _source(site, "camera", camera_id)
    return segment_file(request, store, settings, source, segment_id)


@router.get("/cameras/{camera_id}/clip.mp4", response_class=StreamingResponse)
def camera_clip(
    camera_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    principal: Access,
    start: TimeQuery = None,
    end: TimeQuery = None,
) -> StreamingResponse:
    """[start, end] as one MP4, from the keyframe at or before start; remuxed, not encoded."""
    source = _source(site, "camera", camera_id)
    return clip_mp4(request, store, settings, principal, source, start, end)


# -- vehicles ---------------------------------------------------------------------------------


@router.get("/vehicles/{vehicle_id}/recordings")
def vehicle_recordings(
    vehicle_id: str,
    request: Request,
    store: StoreDep,
    site: SiteDep,
    principal: Access,
    start: TimeQuery = None,
    end: TimeQuery = None,
) -> dict[str, Any]:
    """Spans recorded and gaps in [start, end] (default: the last 24 h), and a media token."""
    source = _source(site, "vehicle", vehicle_id)
    return recordings(request, store, principal, source, start, end)


@router.get("/vehicles/{vehicle_id}/playback.m3u8", response_class=Response)
def vehicle_playback(
    vehicle_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    principal: Access,
    start: TimeQuery = None,
    end: TimeQuery = None,
) -> Response:
    """HLS VOD playlist of the recordings in [start, end]."""
    source = _source(site, "vehicle", vehicle_id)
    return playback(request, store, settings, principal, source, start, end)


@router.get("/vehicles/{vehicle_id}/segments/{segment_id}", response_class=FileResponse)
def vehicle_segment(
    vehicle_id: str,
    segment_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    _: Access,
) -> FileResponse:
    """One segment file (fragmented MP4), with HTTP Range."""
    source = _source(site, "vehicle", vehicle_id)
    return segment_file(request, store, settings, source, segment_id)


@router.get("/vehicles/{vehicle_id}/clip.mp4", response_class=StreamingResponse)
def vehicle_clip(
    vehicle_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    principal: Access,
    start: TimeQuery = None,
    end: TimeQuery = None,
) -> StreamingResponse:
    """[start, end] as one MP4, from the keyframe at or before start; remuxed, not encoded."""
    source = _source(site, "vehicle", vehicle_id)
    return clip_mp4(request, store, settings, principal, source, start, end)
