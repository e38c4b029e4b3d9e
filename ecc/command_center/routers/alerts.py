"""Alerts: list, acknowledge, resolve. Changes go out on the bus, so every node relays them."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from ecc.bus import Bus, Topics
from ecc.bus.wire import alert_to_wire
from ecc.command_center.deps import Principal, StoreDep, allow
from ecc.command_center.params import time_param
from ecc.storage.models import Alert

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class AlertAction(BaseModel):
    note: str | None = Field(None, max_length=2000, description="why, for the record")


def announce(request: Request, alert: Alert) -> dict[str, Any]:
    wire = alert_to_wire(alert)
    bus: Bus = request.app.state.bus
    topics: Topics = request.app.state.topics
    bus.publish(topics.alerts, orjson.dumps(wire), qos=1)
    return wire


@router.get("")
def list_alerts(
    store: StoreDep,
    _: Annotated[Principal, allow("alerts.read")],
    state: Literal["active", "acknowledged", "resolved"] | None = None,
    since: Annotated[
        str | None, Query(description="raised at or after: RFC 3339 or epoch seconds")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> list[dict[str, Any]]:
    """Alerts, oldest first; no `state` means every state."""
    alerts = store.alerts.list(state=state, since=time_param("since", since), limit=limit)
    return [alert_to_wire(a) for a in alerts]


@router.get("/{alert_id}")
def get_alert(
    alert_id: str, store: StoreDep, _: Annotated[Principal, allow("alerts.read")]
) -> dict[str, Any]:
    return alert_to_wire(store.alerts.get(alert_id))


@router.post("/{alert_id}/ack")
def acknowledge(
    alert_id: str,
    request: Request,
    store: StoreDep,
    user: Annotated[Principal, allow("alerts.manage")],
    body: AlertAction | None = None,
) -> dict[str, Any]:
    alert = store.alerts.acknowledge(
        alert_id, user.username, time.time(), body.note if body else None
    )
    return announce(request, alert)


@router.post("/{alert_id}/resolve")
def resolve(
    alert_id: str,
    request: Request,
    store: StoreDep,
    user: Annotated[Principal, allow("alerts.manage")],
) -> dict[str, Any]:
    alert = store.alerts.resolve(alert_id, time.time(), by=user.username)
    return announce(request, alert)
