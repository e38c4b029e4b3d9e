"""Alert rules: what a station's series says about its condition at one reading.

Each rule is a pure function of the series of one metric (points in data time) and of the
severity its alert has now (for hysteresis); it never looks at a clock. So a replayed series
gives the same conditions as the live one, and a worker that restarts, or that evaluates a
station whose readings another worker stored, reaches the same verdict from the stored series.

The rules, modelled on how flood-warning centres and alarm platforms work:

- level: thresholds per station and metric (警戒水位 warning, 保证水位 danger, critical), with
  hysteresis (a level clears only below level - deadband) and an optional minimum duration (the
  level must hold that long before it counts);
- rise: the metric rose by more than `rise_per_hour` x window within the window;
- rainstorm: accumulations after the CMA rainstorm signals (暴雨预警信号), observed rather than
  forecast: blue >= 50 mm in 12 h, yellow >= 50 mm in 6 h, orange >= 50 mm in 3 h, red >= 100 mm
  in 3 h; mapped onto info, warning, danger, critical;
- air_quality: the HJ 633-2012 PM2.5 bands (35/75/115/150/250 µg/m3): light pollution (轻度,
  > 75) info, moderate (中度, > 115) warning, heavy (重度, > 150) danger, severe (严重, > 250)
  critical; up to 75 (优, 良) no alert.
"""

from __future__ import annotations

import bisect
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ecc.config.site import LevelThreshold, Station
from ecc.sensors.metrics import METRICS
from ecc.storage.models import SEVERITY_RANK, Point, Severity

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Verdict:
    severity: Severity | None
    """None: the condition is clear."""
    value: float | None
    threshold: float | None
    message: str


class Series:
    """The points of one station's metric, oldest first, with what rules ask of them.

    Rules judge points in order, so window minima and runs are kept incrementally: a dense
    series (a reading a second) then costs O(n), not O(n x window). The RuleEngine keeps a
    series between batches and only appends to it (ecc.sensors.window), so the same state
    carries on from one batch to the next; times and values are arrays of doubles, 16 bytes a
    point, since a dense station's hour is tens of thousands of them.
    """

    def __init__(self, points: Iterable[Point] = ()) -> None:
        self.times = array("d")
        self.values = array("d")
        self._sums: list[int] | None = None
        self._mins: dict[float, tuple[int, deque[int]]] = {}
        self._runs: dict[float, tuple[int, int]] = {}
        for p in points:
            self.append(p.ts, p.value)

    def __len__(self) -> int:
        return len(self.times)

    def append(self, ts: float, value: float) -> None:
        """Add a point after the last one (ValueError if it is not later)."""
        if self.times and ts <= self.times[-1]:
            raise ValueError(f"point at {ts} is not after the last one ({self.times[-1]})")
        self.times.append(ts)
        self.values.append(value)
        if self._sums is not None:
            self._sums.append(self._sums[-1] + _micro(value))

    def since(self, ts: float) -> Series:
        """The points stamped after `ts`, and the newest one at or before it: whether a level
        held for a duration (run_start) depends on that one, the other rules only on points
        within their window."""
        first = max(0, bisect.bisect_right(self.times, ts) - 1)
        tail = Series()
        tail.times = self.times[first:]
        tail.values = self.values[first:]
        return tail

    def index_from(self, ts: float) -> int:
        """Index of the first point at or after `ts`."""
        return bisect.bisect_left(self.times, ts)

    def within(self, i: int, seconds: float) -> float:
        """Sum of the values stamped in (ts_i - seconds, ts_i]."""
        if self._sums is None:
            sums = [0]
            for v in self.values:
                sums.append(sums[-1] + _micro(v))
            self._sums = sums
        start = bisect.bisect_right(self.times, self.times[i] - seconds)
        return (self._sums[i + 1] - self._sums[start]) / MICRO

    def min_within(self, i: int, seconds: float) -> float:
        """Least value stamped in [ts_i - seconds, ts_i]."""
        times, values = self.times, self.values
        last, window = self._mins.get(seconds, (-1, deque()))
        if i < last:
            last, window = -1, deque()
        for j in range(last + 1, i + 1):
            while window and values[window[-1]] >= values[j]:
                window.pop()
            window.append(j)
        while times[window[0]] < times[i] - seconds:
            window.popleft()
        self._mins[seconds] = (i, window)
        return values[window[0]]

    def run_start(self, i: int, level: float) -> int:
        """Index of the first point of the run of points at or above `level` that ends at i."""
        values = self.values
        last, start = self._runs.get(level, (-2, 0))
        if last == i - 1 and i > 0 and values[i - 1] >= level:
            pass  # the run that ended at i - 1 goes on
        else:
            start = i
            while start > 0 and values[start - 1] >= level:
                start -= 1
        self._runs[level] = (i, start)
        return start


# Sums are kept in integer millionths: exact, so the rain of a window is the same number
# whether the series began an hour or a day before it (a kept series, ecc.sensors.window,
# begins earlier than a freshly loaded one), and a total sits on the same side of 50 mm.
MICRO = 1_000_000


def _micro(value: float) -> int:
    return round(value * MICRO)


class Rule(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def metric(self) -> str: ...

    @property
    def require_ack(self) -> bool: ...

    @property
    def span_s(self) -> float:
        """How much history before a reading the rule needs to judge it."""

    def evaluate(self, series: Series, i: int, current: Severity | None) -> Verdict:
        """The condition at the series' point i, given the severity its alert has now."""


def _fmt(metric: str, value: float) -> str:
    spec = METRICS.get(metric)
    unit = f" {spec.unit}" if spec and spec.unit else ""
    return f"{value:.2f}{unit}" if abs(value) < 100 else f"{value:.0f}{unit}"


@dataclass(frozen=True, slots=True)
class Level:
    severity: Severity
    value: float
    name: str
    """What the level is called where it is used (警戒水位, 重度污染)."""


@dataclass(frozen=True, slots=True)
class LevelRule:
    """Thresholds on one metric with hysteresis and a minimum duration."""

    metric: str
    levels: tuple[Level, ...]
    """Ascending."""
    deadband: float = 0.0
    min_duration_s: float = 0.0
    require_ack: bool = False
    kind: str = "level"
    inclusive: bool = True
    """Whether the level itself counts (a water level reaches 警戒水位; HJ 633 bands start above
    their breakpoint)."""

    @property
    def span_s(self) -> float:
        return self.min_duration_s

    def evaluate(self, series: Series, i: int, current: Severity | None) -> Verdict:
        value = series.values[i]
        rank = -1 if current is None else SEVERITY_RANK[current]
        for level in reversed(self.levels):
            # Hysteresis: a level that holds stays until the value falls below level - deadband.
            holding = rank >= SEVERITY_RANK[level.severity] and value >= level.value - self.deadband
            reached = value >= level.value if self.inclusive else value > level.value
            if holding or (reached and self._held(series, i, level.value)):
                return Verdict(
                    level.severity,
                    value,
                    level.value,
                    f"{METRICS[self.metric].label_zh} {_fmt(self.metric, value)}，"
                    f"达到{level.name} {_fmt(self.metric, level.value)}",
                )
        lowest = self.levels[0].value
        return Verdict(
            None,
            value,
            lowest,
            f"{METRICS[self.metric].label_zh} {_fmt(self.metric, value)}，已回落",
        )

    def _held(self, series: Series, i: int, level: float) -> bool:
        if self.min_duration_s <= 0:
            return True
        # The series holds the newest point before its window (Series.since), so a run that
        # fills the window reaches back past it and counts as held, as the whole stored series
        # would say; a run that starts within the window is measured from its first point.
        times = series.times
        return times[i] - times[series.run_start(i, level)] >= self.min_duration_s


@dataclass(frozen=True, slots=True)
class RiseRule:
    """The metric rose by more than `per_hour` x window within the window."""

    metric: str
    per_hour: float
    window_s: float
    require_ack: bool = False
    kind: str = "rise"

    @property
    def span_s(self) -> float:
        return self.window_s

    def evaluate(self, series: Series, i: int, current: Severity | None) -> Verdict:
        value = series.values[i]
        low = series.min_within(i, self.window_s)
        rate = (value - low) * HOUR / self.window_s
        hours = self.window_s / HOUR
        label = METRICS[self.metric].label_zh
        if rate >= self.per_hour:
            return Verdict(
                "warning",
                rate,
                self.per_hour,
                f"{label}在 {hours:g} 小时内上涨 {_fmt(self.metric, value - low)}，"
                f"涨率 {rate:.2f}/h 超过 {self.per_hour:g}/h",
            )
        return Verdict(None, rate, self.per_hour, f"{label}涨率 {rate:.2f}/h，已回落")


@dataclass(frozen=True, slots=True)
class Signal:
    severity: Severity
    colour: str
    hours: float
    mm: float


# GB/T 27962 and the CMA's 暴雨预警信号, strongest first.
CMA_RAINSTORM = (
    Signal("critical", "红色", 3, 100),
    Signal("danger", "橙色", 3, 50),
    Signal("warning", "黄色", 6, 50),
    Signal("info", "蓝色", 12, 50),
)


@dataclass(frozen=True, slots=True)
class RainstormRule:
    """Rainfall accumulated in the windows of the CMA rainstorm signals."""

    metric: str = "rainfall"
    signals: tuple[Signal, ...] = CMA_RAINSTORM
    require_ack: bool = False
    kind: str = "rainstorm"

    @property
    def span_s(self) -> float:
        return max(s.hours for s in self.signals) * HOUR

    def evaluate(self, series: Series, i: int, current: Severity | None) -> Verdict:
        # A reading's rainfall fell in the interval that ends at its ts, so the rain of the
        # window (t - h, t] is the sum of the readings stamped in it.
        for s in self.signals:
            total = series.within(i, s.hours * HOUR)
            if total >= s.mm:
                return Verdict(
                    s.severity,
                    total,
                    s.mm,
                    f"暴雨{s.colour}预警：{s.hours:g} 小时降雨 {total:.1f} mm（≥ {s.mm:g} mm）",
                )
        total = series.within(i, self.signals[-1].hours * HOUR)
        hours = self.signals[-1].hours
        return Verdict(None, total, None, f"{hours:g} 小时降雨 {total:.1f} mm，低于预警标准")


# HJ 633-2012, table 1: PM2.5 24-hour breakpoints, used for hourly values as China's real-time
# AQI publication does.
HJ633_PM25 = (
    Level("info", 75, "轻度污染"),
    Level("warning", 115, "中度污染"),
    Level("danger", 150, "重度污染"),
    Level("critical", 250, "严重污染"),
)


def air_quality_rule() -> LevelRule:
    # Above the band's upper bound by any amount counts; 5 µg/m3 of deadband keeps an hourly
    # series that hovers on a breakpoint from flapping.
    return LevelRule("pm25", HJ633_PM25, deadband=5.0, kind="air_quality", inclusive=False)


def threshold_rules(metric: str, t: LevelThreshold) -> list[Rule]:
    names = {"water_level": ("警戒水位", "保证水位", "危急水位")}.get(
        metric, ("警戒值", "危险值", "危急值")
    )
    severities: tuple[Severity, ...] = ("warning", "danger", "critical")
    levels = tuple(
        Level(sev, value, name)
        for sev, value, name in zip(
            severities, (t.warning, t.danger, t.critical), names, strict=True
        )
        if value is not None
    )
    rules: list[Rule] = []
    if levels:
        rules.append(
            LevelRule(metric, levels, t.deadband, t.min_duration_s, require_ack=t.require_ack)
        )
    if t.rise_per_hour is not None:
        rules.append(RiseRule(metric, t.rise_per_hour, t.rise_window_s, t.require_ack))
    return rules


def station_rules(station: Station) -> dict[str, list[Rule]]:
    """The rules of a station by metric: its thresholds, and the standard ones that apply."""
    out: dict[str, list[Rule]] = {}
    for metric, threshold in station.thresholds.items():
        out.setdefault(metric, []).extend(threshold_rules(metric, threshold))
    metrics = station.reported_metrics
    if "rainfall" in metrics:
        out.setdefault("rainfall", []).append(RainstormRule())
    if "pm25" in metrics and "pm25" not in station.thresholds:
        out.setdefault("pm25", []).append(air_quality_rule())
    return out
