"""Walks every route of the app and checks each role's answer against the permission matrix.

A route added without a permission, or with one the matrix does not know, fails here.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import BaseRoute, Mount

from ecc.command_center.deps import Require
from ecc.command_center.permissions import PERMISSIONS, USER_ROLES
from ecc.storage.models import NewAlert
from tests.support.center import RunningCenter

# Routes anyone may call: health, login, the pages and their static files, the API description.
PUBLIC = {
    "/healthz",
    "/api/auth/login",
    "/",
    "/login",
    "/favicon.ico",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
}
# Public by design and guarded otherwise (only `public = true` cameras, rate capped).
PUBLIC_PREFIXES = ("/api/public/",)
PAGES_PREFIXES = (
    "/wall",
    "/vehicle",
    "/live",
    "/playback",
    "/review",
    "/map",
    "/alerts",
    "/admin",
    "/incidents",
    "/stations",
    "/cameras",
)


def permission_of(route: APIRoute | APIWebSocketRoute) -> str | None:
    found = [d.call.permission for d in route.dependant.dependencies if isinstance(d.call, Require)]
    assert len(found) <= 1, f"{route.path} names several permissions"
    return found[0] if found else None


def routes(center: RunningCenter) -> list[BaseRoute]:
    """Every route, with those of included routers flattened."""
    return [ctx.original_route for ctx in iter_route_contexts(center.app.routes)]


def fill(path: str, ids: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        return ids.get(name, "x")

    return re.sub(r"\{([^}]+)\}", value, path)


def test_every_route_is_public_or_has_a_known_permission(center: RunningCenter) -> None:
    for route in routes(center):
        if isinstance(route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            # FastAPI's own documentation routes are plain Starlette routes.
            assert route.path in PUBLIC, f"{route.path} is neither an API route nor public"  # type: ignore[attr-defined]
            continue
        permission = permission_of(route)
        if route.path in PUBLIC or route.path.startswith(PUBLIC_PREFIXES + PAGES_PREFIXES):
            assert permission is None, f"{route.path} is public but names {permission}"
            continue
        if isinstance(route, APIWebSocketRoute):
            continue  # checked by its own test below
        assert permission in PERMISSIONS, f"{route.path} has no permission rule"


def test_each_role_gets_what_the_matrix_says(center: RunningCenter) -> None:
    alert = center.store.alerts.insert(
        NewAlert(
            "level", "warning", "station", "lujiang-daqi", "water_level", 2.6, 2.5, "m", time.time()
        )
    )
    ids = {
        "station_id": center.site.stations[0].id,
        "camera_id": center.site.cameras[0].id,
        "vehicle_id": center.site.vehicles[0].id,
        "alert_id": alert.id,
        "username": "crew",
        "source_id": f"camera:{center.site.cameras[0].id}",
    }
    tokens = {role: center.token(role) for role in USER_ROLES}
    checked = 0
    for route in routes(center):
        if not isinstance(route, APIRoute):
            continue
        permission = permission_of(route)
        if permission is None:
            continue
        url = center.url + fill(route.path, ids)
        for method in sorted(route.methods):
            # The unauthenticated call first, then one per role; answers other than 401/403
            # (200, 404, 409, 422...) mean the request got past authorization.
            r = httpx.request(method, url, json={}, timeout=30)
            assert r.status_code == 401, f"{method} {route.path} without a token: {r.status_code}"
            for role in USER_ROLES:
                r = httpx.request(
                    method,
                    url,
                    json={},
                    timeout=30,
                    headers={"Authorization": f"Bearer {tokens[role]}"},
                )
                if role in PERMISSIONS[permission]:
                    assert r.status_code not in (401, 403), (
                        f"{role} {method} {route.path}: {r.status_code}"
                    )
                    assert r.status_code < 500, f"{role} {method} {route.path}: {r.text}"
                else:
                    assert r.status_code == 403, f"{role} {method} {route.path}: {r.status_code}"
                checked += 1
    assert checked >= 40


@pytest.mark.parametrize("path", sorted(PUBLIC - {"/docs/oauth2-redirect"}))
def test_public_routes_need_no_token(center: RunningCenter, path: str) -> None:
    r = httpx.get(center.url + path, follow_redirects=True)
    assert r.status_code == 405 if path == "/api/auth/login" else r.status_code == 200
