"""The alert lifecycle, the same for every backend: active -> acknowledged -> resolved.

A worsening or easing condition changes the severity of the open alert (escalated /
deescalated) rather than opening a second one; every change is kept in its history.
"""

from __future__ import annotations

from dataclasses import replace

from ecc.storage.errors import InvalidTransition
from ecc.storage.models import SEVERITY_RANK, Alert, AlertEvent, AlertEventKind, Severity


def escalated(
    a: Alert,
    severity: Severity,
    value: float | None,
    threshold: float | None,
    message: str,
    ts: float,
) -> Alert:
    if a.state == "resolved":
        raise InvalidTransition(f"alert {a.id} is resolved")
    event: AlertEventKind = (
        "escalated" if SEVERITY_RANK[severity] > SEVERITY_RANK[a.severity] else "deescalated"
    )
    return replace(
        a,
        severity=severity,
        value=value,
        threshold=threshold,
        message=message,
        updated_at=ts,
        history=(*a.history, AlertEvent(ts, event, severity, value, threshold)),
    )


def acknowledged(a: Alert, by: str, ts: float, note: str | None) -> Alert:
    if a.state != "active":
        raise InvalidTransition(
            f"alert {a.id} is {a.state}, only an active alert can be acknowledged"
        )
    return replace(
        a,
        state="acknowledged",
        acknowledged_at=ts,
        acknowledged_by=by,
        updated_at=ts,
        history=(*a.history, AlertEvent(ts, "acknowledged", a.severity, by=by, note=note)),
    )


def resolved(a: Alert, ts: float, by: str | None, value: float | None) -> Alert:
    if a.state == "resolved":
        raise InvalidTransition(f"alert {a.id} is already resolved")
    return replace(
        a,
        state="resolved",
        resolved_at=ts,
        updated_at=ts,
        history=(*a.history, AlertEvent(ts, "resolved", a.severity, value=value, by=by)),
    )
