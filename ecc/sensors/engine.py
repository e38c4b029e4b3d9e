"""Runs the alert rules on newly stored readings and turns their verdicts into alert changes.

Where rule state lives, and why several workers stay right
----------------------------------------------------------
Several `ecc ingest sensors` share one MQTT shared subscription, and Mosquitto hands its
messages out in turn, so the readings of one station are split across workers: no worker sees
a station's whole series in its memory. So no rule keeps state in memory that it could not get
back from the store:

- the series a rule looks at (rate of rise over an hour, rain over 3/6/12 h, how long a level
  has held) reaches from the first new reading back by the rule's span and holds what other
  workers stored, whichever worker received it. It is kept in memory between batches
  (`ecc.sensors.window`), but checked against the store's tally of the station before each
  use, and brought up to date (or loaded again) when another worker stored into it, so it is
  always what a fresh load would give;
- the state a rule carries from one reading to the next, the severity behind hysteresis, is the
  severity of the open alert in the store, read once per batch (`list_open`), so every worker
  starts from what any of them last decided;
- a reading that arrives late (another worker already stored a newer one of the same station)
  makes the rules judge forward from it to the newest stored point, so the final state is the
  one the whole series implies; and a verdict older than the last change of the open alert is
  dropped rather than applied backwards;
- the Alerter re-reads the open alert before every change and relies on the store's
  one-open-alert-per-key constraint, so two workers that reach the same verdict at once make
  one alert, announced once.

State therefore survives a restart by construction; at start a worker also judges each station's
newest stored point once (`catch_up`), which covers a crash between storing a batch and judging
it (the redelivered readings are duplicates by then and would not be judged again).

The price is one indexed lookup of the tally per station in each batch, plus, with several
workers, the readings the others stored since; a window is read whole only when it is first
used or when a reading came in behind its end.

Blocking (it reads and writes the store): call it from the ingest worker's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ecc.bus.alerter import Alerter, Condition
from ecc.config import Site
from ecc.sensors.presence import OFFLINE
from ecc.sensors.rules import Rule, Series, station_rules
from ecc.sensors.window import MAX_POINTS, Windows
from ecc.storage import Store
from ecc.storage.models import Alert, Point, Reading, open_key

log = logging.getLogger(__name__)


def judged_at(alert: Alert) -> float:
    """Data time of the last reading that changed the alert (acknowledging is not one)."""
    return max((e.ts for e in alert.history if e.event != "acknowledged"), default=alert.raised_at)


class RuleEngine:
    def __init__(
        self, site: Site, store: Store, alerter: Alerter, max_points: int = MAX_POINTS
    ) -> None:
        self._store = store
        self._alerter = alerter
        self._rules: dict[str, dict[str, list[Rule]]] = {
            s.id: rules for s in site.stations if (rules := station_rules(s))
        }
        self.windows = Windows(
            store,
            {
                station: {metric: max(r.span_s for r in rules) for metric, rules in by.items()}
                for station, by in self._rules.items()
            },
            max_points,
        )

    def on_readings(self, new: Sequence[Reading]) -> list[Alert]:
        """Judge newly stored readings; returns the alerts that changed."""
        if not new:
            return []
        self.windows.stored(new)
        open_alerts = self._open_alerts()
        points: dict[str, dict[str, list[Point]]] = {}
        newest: dict[str, float] = {}
        for r in new:
            if r.ts > newest.get(r.station_id, float("-inf")):
                newest[r.station_id] = r.ts
            rules = self._rules.get(r.station_id)
            if rules is None:
                continue
            for metric, value in r.values.items():
                if metric in rules:
                    of_station = points.setdefault(r.station_id, {})
                    of_station.setdefault(metric, []).append(Point(r.ts, value))
        changed: list[Alert] = []
        if points:
            for of_station in points.values():
                for pts in of_station.values():
                    pts.sort(key=lambda p: p.ts)
            windows = self.windows.series(points)
            for station, of_station in points.items():
                for metric, pts in of_station.items():
                    series = windows[station][metric]
                    start = series.index_from(pts[0].ts)
                    for rule in self._rules[station][metric]:
                        changed.extend(self._judge(station, rule, series, start, open_alerts))
        for station, ts in newest.items():
            offline = open_alerts.get(open_key("station", station, OFFLINE, None))
            if offline is not None:
                back = self._alerter.apply(
                    Condition(
                        OFFLINE,
                        "station",
                        station,
                        None,
                        None,
                        max(ts, offline.raised_at),
                        message="恢复上报",
                    )
                )
                if back is not None:
                    changed.append(back)
        return changed

    def catch_up(self) -> list[Alert]:
        """Judge every station's newest stored point, as a worker does when it starts; this
        also loads the windows that the first batches will use."""
        open_alerts = self._open_alerts()
        changed: list[Alert] = []
        starts: dict[str, dict[str, float]] = {}
        for x in self._store.readings.latest():
            if x.metric in self._rules.get(x.station_id, {}):
                starts.setdefault(x.station_id, {})[x.metric] = x.ts
        for station, by_metric in starts.items():
            windows = self.windows.load(station, by_metric)
            for metric in by_metric:
                series = windows[metric]
                if not len(series):
                    continue
                for rule in self._rules[station][metric]:
                    changed.extend(self._judge(station, rule, series, len(series) - 1, open_alerts))
        return changed

    def _open_alerts(self) -> dict[str, Alert | None]:
        return {a.open_key: a for a in self._store.alerts.list_open()}

    def _judge(
        self,
        station: str,
        rule: Rule,
        series: Series,
        start: int,
        open_alerts: dict[str, Alert | None],
    ) -> list[Alert]:
        key = open_key("station", station, rule.kind, rule.metric)
        alert = open_alerts.get(key)
        changed: list[Alert] = []
        for i in range(start, len(series)):
            current = None if alert is None else alert.severity
            verdict = rule.evaluate(series, i, current)
            if verdict.severity == current:
                continue
            ts = series.times[i]
            if alert is not None:
                if ts < judged_at(alert):
                    continue  # another worker has judged a newer reading of this station
                if verdict.severity is None and alert.require_ack and alert.state == "active":
                    continue  # stays until acknowledged; the Alerter would keep it anyway
            result = self._alerter.apply(
                Condition(
                    rule.kind,
                    "station",
                    station,
                    rule.metric,
                    verdict.severity,
                    ts,
                    verdict.value,
                    verdict.threshold,
                    verdict.message,
                    rule.require_ack,
                )
            )
            if result is not None:
                changed.append(result)
                alert = None if result.state == "resolved" else result
            else:
                # Someone else changed it first: carry on from what the store holds.
                alert = self._store.alerts.find_open("station", station, rule.kind, rule.metric)
            open_alerts[key] = alert
        return changed
