"""Health and metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ecc import __version__
from ecc.command_center.deps import Principal, StoreDep, allow
from ecc.command_center.metrics import Metrics

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(request: Request, store: StoreDep) -> dict[str, Any]:
    """Liveness and readiness, without credentials (for load balancers)."""
    try:
        store_ok = store.ping()
    except Exception:
        store_ok = False
    bus_ok = bool(request.app.state.bus.connected)
    return {
        "status": "ok" if store_ok and bus_ok else "degraded",
        "version": __version__,
        "store": {"ok": store_ok, "backend": store.backend},
        "bus": {"ok": bus_ok},
    }


@router.get("/metrics", response_class=Response)
def metrics(request: Request, _: Annotated[Principal, allow("metrics.read")]) -> Response:
    """Prometheus text exposition (a bearer token of an admin or an ECC worker)."""
    m: Metrics = request.app.state.metrics
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
