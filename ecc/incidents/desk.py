"""Where incidents change: the automatic rule, the operators' actions and the geofence all go
through a Desk, which stores the change, keeps the recordings of the incident's sources pinned,
and announces the incident on `<prefix>/events/incident` (every center node relays it to its
WebSocket clients as an `incident` event).

Blocking (it reads and writes the store): call it from a worker thread, never on the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from ecc.bus.topics import Topics
from ecc.config import Site
from ecc.config.settings import IncidentSettings
from ecc.incidents import geo, lifecycle
from ecc.incidents.rules import AutoRule, Placed, Where
from ecc.incidents.timeline import Entry, entries
from ecc.incidents.wire import incident_to_wire
from ecc.storage import Conflict, NotFound, Store, StoreError
from ecc.storage.models import Alert, Area, Incident, Position

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], None]
Change = Callable[[Incident], Incident]

# Pins of an incident that is not closed reach this far (2100-01-01): everything recorded from
# its start on is kept until it closes and its own retention begins.
OPEN_END = 4_102_444_800.0


def _arrival(task_id: str, p: Position) -> Change:
    return lambda incident: lifecycle.arrived(incident, task_id, p.ts, p.lat, p.lon)


def owner(incident_id: str) -> str:
    return f"incident:{incident_id}"


def recorded(source: str) -> bool:
    """Sources with recordings (stations have readings instead)."""
    return source.startswith(("camera:", "vehicle:"))


@dataclass(frozen=True, slots=True)
class Arrival:
    incident_id: str
    task_id: str
    ts: float


class Desk:
    def __init__(
        self,
        settings: IncidentSettings,
        site: Site,
        store: Store,
        topics: Topics,
        publish: Publish,
    ) -> None:
        self.settings = settings
        self.site = site
        self.store = store
        self.topics = topics
        self._publish = publish
        self.rule = AutoRule(settings, site)

    # -- the automatic rule -------------------------------------------------------------------

    def alert_changed(self, alert_id: str) -> Incident | None:
        """An alert changed (as announced on `<prefix>/alerts`): keep its incident's link current,
        or let it open or join one. Idempotent: the same change seen twice changes nothing more.
        The alert is read from the store, which is at least as new as the announcement."""
        try:
            alert = self.store.alerts.get(alert_id)
        except NotFound:
            log.warning("alert %s was announced but is not in the store", alert_id)
            return None
        incident = self.store.incidents.for_alert(alert.id)
        if incident is None and self.rule.counts(alert):
            placed = Placed(alert, self.where(alert))
            try:
                incident = self.store.incidents.open_or_join(
                    alert.id, lambda candidates: self.rule.decide(placed, candidates)
                )
            except Conflict:
                # Linked meanwhile (by an operator, or this change came twice): follow it.
                incident = self.store.incidents.for_alert(alert.id)
                if incident is None:
                    raise
            else:
                self._settled(incident, "opened" if incident.rev == 0 else "linked", None)
                return incident
        if incident is None:
            return None
        return self.change(incident.id, lambda i: lifecycle.seen(i, alert), None, kind="alert")

    def where(self, alert: Alert) -> Where | None:
        return self.where_source(f"{alert.source_type}:{alert.source_id}")

    def where_source(self, source: str) -> Where | None:
        """A station's or camera's place, or a vehicle's newest position."""
        kind, _, ident = source.partition(":")
        if kind == "station" and (s := self.site.station(ident)):
            return s.lat, s.lon
        if kind == "camera" and (c := self.site.camera(ident)):
            return c.lat, c.lon
        if kind == "vehicle":
            latest = self.store.positions.latest(ident)
            if latest:
                return latest[0].lat, latest[0].lon
        return None

    # -- operators ----------------------------------------------------------------------------

    def create(self, incident: Incident, alert_ids: Sequence[str] = ()) -> Incident:
        """A new incident (from lifecycle.opened), with alerts linked by whoever opened it.
        With no area, it gets a circle around its first station or camera, else around its
        first alert's source."""
        by = incident.opened_by
        places: list[Where] = [w for s in incident.sources if (w := self.where_source(s))]
        for alert_id in alert_ids:
            alert = self.store.alerts.get(alert_id)
            if (w := self.where(alert)) is not None:
                places.append(w)
            incident = lifecycle.linked(
                incident, alert, incident.opened_at, by, self.rule.related_sources(alert)
            )
        if incident.area == Area() and places:
            lat, lon = places[0]
            incident = replace(incident, area=Area(lat, lon, self.settings.area_radius_m))
        stored = self.store.incidents.insert(incident)
        self._settled(stored, "opened", by)
        return stored

    def change(
        self, incident_id: str, apply: Change, by: str | None, kind: str | None = None
    ) -> Incident:
        """Apply a change (a lifecycle function) and, if it changed anything, announce it as
        `kind` (default: the kind of the history entry it added)."""
        base: list[int] = []

        def tracked(incident: Incident) -> Incident:
            base.append(incident.rev)
            return apply(incident)

        stored = self.store.incidents.change(incident_id, tracked)
        if stored.rev != base[-1]:
            self._settled(stored, kind or (stored.history[-1].kind if stored.history else ""), by)
        return stored

    def link(self, incident_id: str, alert_id: str, by: str) -> Incident:
        alert = self.store.alerts.get(alert_id)
        sources = self.rule.related_sources(alert)
        return self.change(
            incident_id, lambda i: lifecycle.linked(i, alert, time.time(), by, sources), by
        )

    # -- the geofence -------------------------------------------------------------------------

    def positions(self, vehicle_id: str, positions: Sequence[Position]) -> list[Arrival]:
        """New positions of a vehicle: a task under way whose incident area the vehicle
        entered (a position inside it, taken after the dispatch) is marked arrived, at the time
        of the first such position."""
        if not positions:
            return []
        try:
            incidents = self.store.incidents.for_vehicle(vehicle_id)
        except StoreError:
            # The positions are stored; the vehicle's next report inside the area counts.
            log.exception("geofence of vehicle %s", vehicle_id)
            return []
        ordered = sorted(positions, key=lambda p: p.ts)
        arrivals: list[Arrival] = []
        for incident in incidents:
            for task in lifecycle.active_tasks(incident, vehicle_id):
                first = next(
                    (
                        p
                        for p in ordered
                        if p.ts >= task.dispatched_at and geo.inside(incident.area, p.lat, p.lon)
                    ),
                    None,
                )
                if first is None:
                    continue
                try:
                    self.change(incident.id, _arrival(task.id, first), None)
                except StoreError as exc:
                    # Another node saw the same position first, or the task ended meanwhile.
                    log.info(
                        "arrival of %s at incident %s not recorded: %s",
                        vehicle_id,
                        incident.id,
                        exc,
                    )
                    continue
                arrivals.append(Arrival(incident.id, task.id, first.ts))
        return arrivals

    # -- reading ------------------------------------------------------------------------------

    def timeline(self, incident: Incident) -> list[Entry]:
        alerts: list[Alert] = []
        for link in incident.alerts:
            try:
                alerts.append(self.store.alerts.get(link.alert_id))
            except NotFound:
                log.warning("incident %s links alert %s, which is gone", incident.id, link.alert_id)
        return entries(incident, alerts)

    def wire(self, incident: Incident) -> dict[str, Any]:
        return incident_to_wire(incident, self.settings)

    # -- after every change -------------------------------------------------------------------

    def _settled(self, incident: Incident, kind: str, by: str | None) -> None:
        self.pin(incident)
        data = self.wire(incident)
        data["change"] = {"kind": kind, "by": by}
        self._publish(self.topics.events("incident"), orjson.dumps(data))

    def pin(self, incident: Incident) -> None:
        """Keep the recordings of the incident's cameras and vehicles over its span plus the
        pre- and post-roll: with no end while it is not closed, and for `keep_recordings_days`
        after it closes. A source removed from the incident is unpinned."""
        start, end = lifecycle.span(incident)
        start -= self.settings.pre_roll_s
        until: float | None = None
        if incident.state == "closed":
            end += self.settings.post_roll_s
            until = time.time() + self.settings.keep_recordings_days * 86400
        else:
            end = OPEN_END
        name = owner(incident.id)
        wanted = {s for s in incident.sources if recorded(s)}
        try:
            for pin in self.store.recordings.pins(owner=name):
                if pin.source not in wanted:
                    self.store.recordings.unpin(name, pin.source)
            for source in sorted(wanted):
                self.store.recordings.pin(source, start, end, name, until)
        except StoreError:
            # The incident is stored; its next change pins again.
            log.exception("pinning the recordings of incident %s failed", incident.id)
