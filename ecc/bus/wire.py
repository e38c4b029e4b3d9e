"""JSON shapes that cross process boundaries (MQTT, HTTP, WebSocket), per DESIGN.md."""

from __future__ import annotations

from typing import Any

from ecc.storage.models import Alert, AlertEvent
from ecc.times import iso, iso_or_none


def alert_to_wire(alert: Alert, history: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "source": {"type": alert.source_type, "id": alert.source_id},
        "metric": alert.metric,
        "value": alert.value,
        "threshold": alert.threshold,
        "message": alert.message,
        "raised_at": iso(alert.raised_at),
        "updated_at": iso(alert.updated_at),
        "acknowledged_at": iso_or_none(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": iso_or_none(alert.resolved_at),
        "require_ack": alert.require_ack,
    }
    if history:
        out["history"] = [event_to_wire(e) for e in alert.history]
    return out


def event_to_wire(e: AlertEvent) -> dict[str, Any]:
    return {
        "ts": iso(e.ts),
        "event": e.event,
        "severity": e.severity,
        "value": e.value,
        "threshold": e.threshold,
        "by": e.by,
        "note": e.note,
    }
