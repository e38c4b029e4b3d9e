"""Runs the alert rules on newly stored readings and turns their verdicts into alert changes.

Where rule state lives, and why several workers stay right
----------------------------------------------------------
Several `ecc ingest sensors` share one MQTT shared subscription, and Mosquitto hands its
messages out in turn, so the readings of one station are split across workers: no worker sees
a station's whole series in its memory. So no rule keeps state in memory that it could not get
back from the store:

- the series a rule looks at (rate of rise over an hour, rain over 3/6/12 h, how long a level
  has held) is loaded from the store for each batch, from the first new reading back by the
  rule's span; what other workers stored is in it, whichever worker received it;
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

The price is one indexed range query per (station, metric) with windowed rules in each batch,
bounded by the number of stations, not by the number of readings.

Blocking (it reads and writes the store): call it from the ingest worker's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ecc.bus.alerter import Alerter, Condition
from ecc.config import Site
from ecc.sensors.presence import OFFLINE
from ecc.sensors.rules import Rule, Series, station_rules
from ecc.storage import Store
from ecc.storage.models import Alert, Point, Reading, open_key

log = logging.getLogger(__name__)


def judged_at(alert: Alert) -> float:
    """Data time of the last reading that changed the alert (acknowledging is not one)."""
    return max((e.ts for e in alert.history if e.event != "acknowledged"), default=alert.raised_at)


class RuleEngine:
    def __init__(self, site: Site, store: Store, alerter: Alerter) -> None:
        self._store = store
        self._alerter = alerter
        self._rules: dict[str, dict[str, list[Rule]]] = {
            s.id: rules for s in site.stations if (rules := station_rules(s))
        }

    def on_readings(self, new: Sequence[Reading]) -> list[Alert]:
        """Judge newly stored readings; returns the alerts that changed."""
        if not new:
            return []
        open_alerts = self._open_alerts()
        points: dict[tuple[str, str], list[Point]] = {}
        newest: dict[str, float] = {}
        for r in new:
            if r.ts > newest.get(r.station_id, float("-inf")):
                newest[r.station_id] = r.ts
            by_metric = self._rules.get(r.station_id)
            if by_metric is None:
                continue
            for metric, value in r.values.items():
                if metric in by_metric:
                    points.setdefault((r.station_id, metric), []).append(Point(r.ts, value))
        changed: list[Alert] = []
        if points:
            latest = {(x.station_id, x.metric): x.ts for x in self._store.readings.latest()}
            for (station, metric), pts in points.items():
                pts.sort(key=lambda p: p.ts)
                rules = self._rules[station][metric]
                series = self._series(station, metric, pts, rules, latest.get((station, metric)))
                start = series.index_from(pts[0].ts)
                for rule in rules:
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
        """Judge every station's newest stored point, as a worker does when it starts."""
        open_alerts = self._open_alerts()
        changed: list[Alert] = []
        for x in self._store.readings.latest():
            rules = self._rules.get(x.station_id, {}).get(x.metric)
            if not rules:
                continue
            span = max(r.span_s for r in rules)
            pts = self._store.readings.range(x.station_id, x.metric, x.ts - span, x.ts)
            if not pts:
                continue
            series = Series(pts)
            for rule in rules:
                changed.extend(
                    self._judge(x.station_id, rule, series, len(series) - 1, open_alerts)
                )
        return changed

    def _open_alerts(self) -> dict[str, Alert | None]:
        return {a.open_key: a for a in self._store.alerts.list_open()}

    def _series(
        self,
        station: str,
        metric: str,
        new: list[Point],
        rules: list[Rule],
        stored_newest: float | None,
    ) -> Series:
        span = max(r.span_s for r in rules)
        last = new[-1].ts
        later = stored_newest is not None and stored_newest > last
        if span <= 0 and not later:
            return Series(new)
        end = stored_newest if later and stored_newest is not None else last
        # One interval's worth of slack would do; the rules themselves cut the window exactly.
        return Series(self._store.readings.range(station, metric, new[0].ts - span, end))

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
            ts = series.points[i].ts
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
