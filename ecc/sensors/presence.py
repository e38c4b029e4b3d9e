"""Station offline: silent for longer than it may be, or its MQTT last will came in.

Silence is judged by the receivers' clock, not by data time: a replayed series stamped years
ago is a station that reports, and a station whose clock is wrong is still heard. The time a
station was last heard is kept in the store (`presence:<station>`), written at most every few
seconds per station, so every worker judges silence from what all of them heard, and a
restarted worker does not take a quiet night for an outage, nor an outage for a fresh start.

The offline alert is raised at the moment the station became overdue (last heard + allowed
silence), which is also what a worker that was down at that moment records when it comes back.
A reading resolves it (RuleEngine), as does the station's own `{"online": true}` status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ecc import times
from ecc.bus.alerter import Alerter, Condition
from ecc.config import Site, Station
from ecc.storage import Store
from ecc.storage.models import Alert

log = logging.getLogger(__name__)

OFFLINE = "offline"
KEY_PREFIX = "presence:"
SAVE_EVERY_S = 10.0


def offline_after(site: Site, station: Station) -> float:
    return station.offline_after_s or station.interval_s * site.offline_after_intervals


class Presence:
    def __init__(self, site: Site, store: Store, alerter: Alerter) -> None:
        self._store = store
        self._alerter = alerter
        self._after = {s.id: offline_after(site, s) for s in site.stations}
        self._heard: dict[str, float] = {}
        self._saved: dict[str, float] = {}

    def heard(self, stations: Iterable[str], now: float) -> None:
        for station in stations:
            if now > self._heard.get(station, 0.0):
                self._heard[station] = now

    def save(self, now: float) -> None:
        """Write what this worker heard, at most every few seconds per station."""
        due: dict[str, float] = {}
        for station, heard in self._heard.items():
            every = min(SAVE_EVERY_S, self._after[station] / 4)
            if heard - self._saved.get(station, 0.0) >= every:
                due[station] = heard
        self._put(due)

    def will(self, station: str, online: bool, now: float) -> Alert | None:
        """The station's status message: its last will (`online: false`) or its return."""
        if online:
            self.heard([station], now)
            return self._alerter.apply(
                Condition(OFFLINE, "station", station, None, None, now, message="恢复在线")
            )
        return self._alerter.apply(
            Condition(
                OFFLINE,
                "station",
                station,
                None,
                "warning",
                now,
                message="连接断开（遗嘱消息）",
            )
        )

    def check(self, now: float) -> list[Alert]:
        """Raise an offline alert for every station silent past its limit."""
        changed: list[Alert] = []
        unheard: dict[str, float] = {}
        for station, after in self._after.items():
            stored = self._store.state.get(KEY_PREFIX + station)
            last = max(self._heard.get(station, 0.0), float((stored or {}).get("last_seen", 0.0)))
            if last == 0.0:
                # Never heard of: count the silence from when ECC began to watch it.
                unheard[station] = now
                continue
            if now - last <= after:
                continue
            alert = self._alerter.apply(
                Condition(
                    OFFLINE,
                    "station",
                    station,
                    None,
                    "warning",
                    last + after,
                    message=f"{after:.0f} 秒无数据（最后上报 {times.iso(last)}）",
                )
            )
            if alert is not None:
                changed.append(alert)
        self._put(unheard)
        return changed

    def _put(self, heard: dict[str, float]) -> None:
        # One write for all of them: the ingest worker's thread waits for its commit, and a
        # commit per station of a site of hundreds held back every reading behind it.
        newer: dict[str, dict[str, Any]] = {}
        for station, ts in heard.items():
            stored = self._store.state.get(KEY_PREFIX + station)
            if stored is None or float(stored.get("last_seen", 0.0)) < ts:
                newer[KEY_PREFIX + station] = {"last_seen": ts}
        self._store.state.put_many(newer)
        self._saved.update(heard)
