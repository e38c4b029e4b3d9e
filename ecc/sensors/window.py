"""The stored series that the rules judge, kept in memory from one batch to the next.

A rule judges a reading against the series before it: an hour of water levels for the rate of
rise, twelve hours of rain for the rainstorm signals, the run of a level for its minimum
duration. Loaded from the store for every batch, that window cost more than all the rest of the
worker's work as soon as stations reported densely: thousands of points read, and their JSON
taken apart, per station and per batch, to judge a handful of new ones. So each station's
windows stay in memory, and the worker appends to them what it stores itself.

They never go stale, although several workers share the subscription and the readings of one
station are split across them. Before a station's windows are used, its tally is read from the
store (ReadingRepo.tally: an indexed lookup, no reading read), and the version in it says what
happened since the windows last matched the store:

- it grew by exactly what this worker stored: nobody else stored anything of the station, and
  the worker's own new points are appended;
- it grew by exactly the number of readings stamped after the newest one the windows know of:
  other workers stored readings too, all of them later; those are read (only those) and
  appended with the worker's own, which are among them;
- anything else (a reading stored late, behind what the windows hold, by whichever worker; a
  duplicate that MongoDB counts): the windows are loaded again.

So a window always holds what a fresh load of the store would give, and a rule reaches the same
verdict with or without it. A single worker reads nothing but tallies once its windows are
loaded; with several, each reads only what the others stored since its last batch.

Memory is bounded: at most `max_points` points over all stations (16 bytes each, more for
rainfall sums); past that, the stations used longest ago are dropped and loaded again when
their next reading comes.

Blocking (it reads the store): call it from the ingest worker's thread.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ecc.sensors.rules import Series
from ecc.storage import Store
from ecc.storage.models import Point, Reading, Tally

MAX_POINTS = 4_000_000
"""About 64 MB of series: an hour of 1,000 stations reporting a reading a second."""
RANGE_LIMIT = 100_000
"""ReadingRepo.range's default limit: past it, reading what others stored would leave a gap."""


@dataclass
class WindowCounts:
    """How each batch's windows were brought up to date, for the worker's report."""

    kept: int = 0
    """Nothing stored by others: only this worker's points appended."""
    extended: int = 0
    """Others' later readings read and appended."""
    loaded: int = 0
    """Loaded from the store: first use, a late reading, or dropped to bound memory."""


@dataclass
class _Station:
    version: int
    """The station's version in the store when its windows last matched it."""
    own: int
    """How many of its readings this worker had stored at that moment."""
    newest: float
    """Every reading counted in `version` is stamped at or before this (-inf: none)."""
    series: dict[str, Series]

    def size(self) -> int:
        return sum(len(s) for s in self.series.values())


class Windows:
    def __init__(
        self, store: Store, spans: Mapping[str, Mapping[str, float]], max_points: int = MAX_POINTS
    ) -> None:
        """`spans`: for each station and metric with rules, how much history before a reading
        its rules need (Rule.span_s, the longest of them)."""
        self._store = store
        self._spans = spans
        self._max_points = max_points
        self._stations: OrderedDict[str, _Station] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._points = 0
        self._own = dict.fromkeys(spans, 0)
        self.counts = WindowCounts()

    def stored(self, readings: Iterable[Reading]) -> None:
        """Count the readings this worker stored, all of them, whatever their metrics."""
        own = self._own
        for r in readings:
            if r.station_id in own:
                own[r.station_id] += 1

    def series(
        self, new: Mapping[str, Mapping[str, Sequence[Point]]]
    ) -> dict[str, dict[str, Series]]:
        """The series of each station and metric of `new` (this worker's new points, stored
        and in time order), holding them and what the store holds around them."""
        known = self._stations
        tallies = self._store.readings.tally(
            {s: known[s].newest if s in known else math.inf for s in new}
        )
        out: dict[str, dict[str, Series]] = {}
        for station, points in new.items():
            tally = tallies[station]
            window = known.get(station)
            if window is None or not self._catch_up(station, window, tally, points):
                window = self._load(station, tally, {m: p[0].ts for m, p in points.items() if p})
            self._keep(station, window, points)
            out[station] = window.series
        self._bound()
        return out

    def load(self, station: str, starts: Mapping[str, float]) -> dict[str, Series]:
        """The series of a station's metrics from `starts` (the first point each is judged
        from; by default the station's newest reading) to its newest reading."""
        tally = self._store.readings.tally({station: math.inf})[station]
        window = self._load(station, tally, starts)
        self._keep(station, window, {})
        self._bound()
        return window.series

    def _catch_up(
        self, station: str, window: _Station, tally: Tally, points: Mapping[str, Sequence[Point]]
    ) -> bool:
        own = self._own[station] - window.own
        grown = tally.version - window.version
        if grown == own and tally.after == own:
            # Nobody else stored anything, and nothing of ours went behind the window's end.
            for metric, pts in points.items():
                series = window.series[metric]
                for p in pts:
                    series.append(p.ts, p.value)
            self.counts.kept += 1
        elif grown == tally.after and tally.after <= RANGE_LIMIT and tally.newest is not None:
            # Others stored too, all of it after the window's end: read that, ours among it.
            start = math.nextafter(window.newest, math.inf)
            for metric, series in window.series.items():
                for p in self._store.readings.range(station, metric, start, tally.newest):
                    series.append(p.ts, p.value)
            self.counts.extended += 1
        else:
            return False
        window.version = tally.version
        window.own = self._own[station]
        if tally.newest is not None:
            window.newest = tally.newest
        return True

    def _load(self, station: str, tally: Tally, starts: Mapping[str, float]) -> _Station:
        self.counts.loaded += 1
        series: dict[str, Series] = {}
        newest = tally.newest
        for metric, span in self._spans[station].items():
            if newest is None:
                series[metric] = Series()
                continue
            start = starts.get(metric, newest) - span
            readings = self._store.readings
            # Bounded by the tally's newest stamp: a reading stored since is not counted in its
            # version, so it is left for the next batch to find, not taken in unaccounted for.
            points = readings.range(station, metric, start, newest)
            # And the newest point before the window, which says whether a level that fills
            # the window held for longer (Series.since).
            before = readings.range(station, metric, -math.inf, start, limit=1)
            if before and (not points or before[0].ts < points[0].ts):
                points = before + points
            series[metric] = Series(points)
        return _Station(
            tally.version,
            self._own[station],
            -math.inf if newest is None else newest,
            series,
        )

    def _keep(self, station: str, window: _Station, points: Mapping[str, Sequence[Point]]) -> None:
        self._stations.pop(station, None)
        self._points -= self._sizes.pop(station, 0)
        # Points before the window of the oldest new point are no longer needed; they are cut
        # once they are half the series, so each point is copied at most once on average.
        for metric, series in window.series.items():
            pts = points.get(metric)
            if not pts or not len(series):
                continue
            cut = pts[0].ts - self._spans[station][metric]
            if series.index_from(cut) > len(series) // 2:
                window.series[metric] = series.since(cut)
        self._stations[station] = window
        size = window.size()
        self._sizes[station] = size
        self._points += size

    def _bound(self) -> None:
        while self._points > self._max_points and self._stations:
            station, _ = self._stations.popitem(last=False)
            self._points -= self._sizes.pop(station, 0)
