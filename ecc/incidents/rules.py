"""The automatic rule: which alerts open an incident and which join one.

An alert counts once it reaches `incidents.auto_open_severity` (at its raise, or at the
escalation that brings it there), unless its kind is equipment health (`ignore_kinds`). It then
joins an incident that is not closed when both hold:

- near: its source lies within `join_distance_m` of the incident's area;
- recent: one of the incident's alerts is still open, or the latest change of its alerts was at
  most `join_window_s` before the alert reached the severity.

Of several such incidents it joins the nearest (then the most recently active). With none, it
opens a new incident around its source, with `area_radius_m`. Times are the alerts' data times,
so a replayed series groups its alerts as the live one would have.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from ecc.config import Site
from ecc.config.settings import IncidentSettings
from ecc.incidents import geo, lifecycle
from ecc.storage.models import SEVERITY_RANK, Alert, Area, Incident

Where = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Placed:
    """An alert with where its source is (None: unknown, e.g. a vehicle never heard)."""

    alert: Alert
    where: Where | None


def new_id() -> str:
    return uuid.uuid4().hex


class AutoRule:
    def __init__(self, settings: IncidentSettings, site: Site) -> None:
        self.settings = settings
        self.site = site

    @property
    def enabled(self) -> bool:
        return self.settings.auto_open_severity != "never"

    def counts(self, alert: Alert) -> bool:
        """Whether the alert opens or joins incidents (it reached the severity, and its kind
        is not equipment health)."""
        threshold = self.settings.auto_open_severity
        if threshold == "never" or alert.kind in self.settings.ignore_kinds:
            return False
        return any(
            SEVERITY_RANK[e.severity] >= SEVERITY_RANK[threshold] for e in alert.history
        ) or (SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[threshold])

    def reached_at(self, alert: Alert) -> float:
        """Data time at which the alert first reached the rule's severity."""
        threshold = self.settings.auto_open_severity
        if threshold != "never":
            for e in alert.history:
                if SEVERITY_RANK[e.severity] >= SEVERITY_RANK[threshold]:
                    return e.ts
        return alert.raised_at

    def related_sources(self, alert: Alert) -> list[str]:
        """What else belongs to an incident of this alert: a station's linked cameras."""
        if alert.source_type == "station":
            station = self.site.station(alert.source_id)
            if station is not None:
                return [f"camera:{c}" for c in station.cameras]
        return []

    def joinable(self, incident: Incident, placed: Placed) -> float | None:
        """Distance from the alert to the incident's area when the alert may join it."""
        if incident.state == "closed" or placed.where is None:
            return None
        t = self.reached_at(placed.alert)
        ongoing = any(a.state != "resolved" for a in incident.alerts)
        recent = (
            -self.settings.join_window_s
            <= t - incident.activity_at
            <= (self.settings.join_window_s)
        )
        if not (ongoing or recent):
            return None
        d = geo.distance_to(incident.area, *placed.where)
        return d if d <= self.settings.join_distance_m else None

    def decide(self, placed: Placed, candidates: list[Incident]) -> Incident:
        """The incident the alert joins (changed), or a new one it opens."""
        alert = placed.alert
        t = self.reached_at(alert)
        fits = [
            (d, -i.activity_at, i)
            for i in candidates
            if (d := self.joinable(i, placed)) is not None
        ]
        sources = self.related_sources(alert)
        if fits:
            fits.sort(key=lambda f: (f[0], f[1]))
            incident = fits[0][2]
            if placed.where is not None:
                incident = _regrown(incident, placed.where, self.settings.area_radius_m)
            return lifecycle.linked(incident, alert, t, None, sources)
        area = Area()
        if placed.where is not None:
            area = Area(placed.where[0], placed.where[1], self.settings.area_radius_m)
        cause = {
            "source": f"{alert.source_type}:{alert.source_id}",
            "kind": alert.kind,
            "metric": alert.metric,
            "severity": alert.severity,
        }
        incident = lifecycle.opened(
            new_id(), self.title(alert), alert.severity, area, t, None, cause=cause
        )
        return lifecycle.linked(incident, alert, t, None, sources)

    def title(self, alert: Alert) -> str:
        name = alert.source_id
        if alert.source_type == "station" and (s := self.site.station(alert.source_id)):
            name = s.name
        elif alert.source_type == "camera" and (c := self.site.camera(alert.source_id)):
            name = c.name
        elif alert.source_type == "vehicle" and (v := self.site.vehicle(alert.source_id)):
            name = v.name
        # The message describes the alert's current condition; once it has eased (this change
        # is handled after later ones were stored) it no longer says why the incident opened.
        current = alert.state != "resolved" and alert.severity == lifecycle.peak(alert)
        return f"{name} · {alert.message}" if alert.message and current else name


def _regrown(incident: Incident, where: Where, margin_m: float) -> Incident:
    """A joining source outside the circle widens it (by half the usual radius around it)."""
    area = geo.grown(incident.area, where[0], where[1], margin_m / 2)
    return incident if area == incident.area else replace(incident, area=area)
