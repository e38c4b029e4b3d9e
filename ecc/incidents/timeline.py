"""An incident's timeline: its own history and its alerts' histories, as one list in order.

Each entry names what happened (`kind`), when, who did it (None: ECC itself, e.g. a rule or the
geofence) and its particulars. Alert entries come from the alerts themselves, so an alert
acknowledged on the alerts page shows here with whoever acknowledged it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ecc.storage.models import Alert, Incident

# Among entries at the same instant: the opening first, then what the alerts did, then what
# was done about them.
_ORDER = {"incident.opened": 0, "alert.raised": 1, "alert.escalated": 2, "incident.linked": 3}


@dataclass(frozen=True, slots=True)
class Entry:
    ts: float
    kind: str
    by: str | None
    detail: dict[str, Any] = field(default_factory=dict)


_TASK_KINDS = {"dispatched", "acknowledged", "arrived", "done", "cancelled"}


def _incident_kind(kind: str) -> str:
    if kind == "note":
        return "note"
    if kind in _TASK_KINDS:
        return f"task.{kind}"
    return f"incident.{kind}"


def entries(incident: Incident, alerts: Iterable[Alert]) -> list[Entry]:
    out: list[Entry] = []
    for e in incident.history:
        out.append(Entry(e.ts, _incident_kind(e.kind), e.by, dict(e.detail or {})))
    for alert in alerts:
        source = f"{alert.source_type}:{alert.source_id}"
        for h in alert.history:
            detail: dict[str, Any] = {
                "alert_id": alert.id,
                "source": source,
                "alert_kind": alert.kind,
                "metric": alert.metric,
                "severity": h.severity,
                "value": h.value,
                "threshold": h.threshold,
            }
            if h.note:
                detail["note"] = h.note
            out.append(Entry(h.ts, f"alert.{h.event}", h.by, detail))
    indexed = sorted(enumerate(out), key=lambda p: (p[1].ts, _ORDER.get(p[1].kind, 9), p[0]))
    return [e for _, e in indexed]
