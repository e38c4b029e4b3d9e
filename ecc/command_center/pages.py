"""The dashboard's pages and static files: served without credentials (the data is not)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
# Each page is an HTML file of the dashboard; later parts of ECC add theirs here.
PAGES = {
    "/": "index.html",
    "/login": "login.html",
    "/stations": "stations.html",
    "/alerts": "alerts.html",
    "/incidents": "incidents.html",
    "/review": "review.html",
    "/cameras": "cameras.html",
    "/live": "live.html",
    "/playback": "playback.html",
    "/vehicles": "vehicles.html",
    "/vehicle": "vehicle.html",
    "/admin/zones": "zones.html",
    "/wall": "wall.html",
}


def _page(file: str) -> FileResponse:
    return FileResponse(
        DASHBOARD / file, media_type="text/html", headers={"Cache-Control": "no-cache"}
    )


def mount(app: FastAPI) -> None:
    for path, file in PAGES.items():
        app.add_api_route(
            path, lambda file=file: _page(file), include_in_schema=False, methods=["GET"]
        )
    app.add_api_route(
        "/favicon.ico",
        lambda: RedirectResponse("/static/img/favicon.svg"),
        include_in_schema=False,
        methods=["GET"],
    )
    app.mount("/static", StaticFiles(directory=DASHBOARD), name="static")
