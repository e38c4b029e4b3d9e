"""Incident exports: the zip of ecc.command_center.export, at once or as a job with progress.

`GET /api/incidents/{id}/export.zip` (DESIGN.md) builds the zip and sends it; for a long
incident the dashboard and `ecc export incident` start a job instead (`POST .../exports`), poll
its progress (`GET .../exports/{job}`) and fetch its file (`GET .../export.zip?job=`). A GET
changes nothing, so the audit middleware does not log it: each download writes its own entry.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from ecc.command_center.deps import Principal, SettingsDep, SiteDep, StoreDep, allow
from ecc.command_center.exports import ExportJobs, Job, TooMany, build
from ecc.storage import Store
from ecc.storage.models import AuditEntry

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


def _jobs(request: Request) -> ExportJobs:
    jobs: ExportJobs = request.app.state.exports
    return jobs


def _job(request: Request, incident_id: str, job_id: str) -> Job:
    job = _jobs(request).get(job_id)
    if job is None or job.incident_id != incident_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no export {job_id!r} of this incident"
        )
    return job


def _audit(request: Request, store: Store, user: Principal, detail: dict[str, Any]) -> None:
    client = request.client
    store.audit.add(
        AuditEntry(
            ts=time.time(),
            action="incidents.export",
            username=user.username,
            target=request.url.path,
            address=client.host if client else None,
            status=200,
            detail=detail,
        )
    )


def _name(incident_id: str) -> str:
    return f"incident-{incident_id[:12]}.zip"


@router.get("/{incident_id}/export.zip", response_class=FileResponse)
def export_zip(
    incident_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    site: SiteDep,
    user: Annotated[Principal, allow("incidents.export")],
    job: Annotated[str | None, Query(description="a finished export job's id")] = None,
) -> FileResponse:
    """The incident's export: clips of every linked camera and vehicle (MP4, remuxed), the
    timeline (JSON, CSV), the readings (CSV), the tracks (CSV) and an HTML report that opens
    offline. With `job`, that job's file; without, built now (a long incident takes a while:
    start a job instead)."""
    if job is not None:
        found = _job(request, incident_id, job)
        path = _jobs(request).path(found.id)
        if found.state != "done" or not path.is_file():
            raise HTTPException(status.HTTP_409_CONFLICT, detail=f"export {job} is {found.state}")
        _audit(request, store, user, {"incident": incident_id, "job": job})
        return FileResponse(path, media_type="application/zip", filename=_name(incident_id))
    store.incidents.get(incident_id)
    folder = Path(settings.data_dir) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".zip", delete=False) as f:
        path = Path(f.name)
    try:
        build(request.app.state.desk, settings, site, incident_id, path, user.language)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    _audit(request, store, user, {"incident": incident_id})
    return FileResponse(
        path,
        media_type="application/zip",
        filename=_name(incident_id),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.post("/{incident_id}/exports", status_code=status.HTTP_202_ACCEPTED)
async def start_export(
    incident_id: str,
    request: Request,
    user: Annotated[Principal, allow("incidents.export")],
) -> dict[str, Any]:
    """Start building the export; poll `GET .../exports/{id}`, then fetch `export.zip?job=`."""
    try:
        job = await _jobs(request).submit(incident_id, user.username, user.language)
    except TooMany as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=str(exc)) from None
    return job.to_wire()


@router.get("/{incident_id}/exports/{job_id}")
def export_status(
    incident_id: str,
    job_id: str,
    request: Request,
    _: Annotated[Principal, allow("incidents.export")],
) -> dict[str, Any]:
    """queued, running (with `progress` 0..1 and the `step`), done, failed or cancelled."""
    return _job(request, incident_id, job_id).to_wire()


@router.delete("/{incident_id}/exports/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_export(
    incident_id: str,
    job_id: str,
    request: Request,
    _: Annotated[Principal, allow("incidents.export")],
) -> None:
    _job(request, incident_id, job_id)
    if not _jobs(request).cancel(job_id):
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="the export is over, or runs elsewhere"
        )
