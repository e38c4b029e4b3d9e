"""The simulated weather of the example site: tides, daily cycles, storms and pollution episodes.

Everything is a function of model time (epoch seconds) and of the station, so a simulator that
restarts carries on where the weather was, and two simulators agree. Model time may run faster
than the clock (`--speed`): a storm that takes six hours then passes in six minutes, which is
what a demonstration needs; readings are still stamped with the clock's time.

The shapes, so that each rule has something real to find:
- the Yong river estuary follows the M2 and S2 tides (spring and neap), plus a storm surge;
- plain rivers sit near their sluice-controlled level and rise with a lag after rain, past
  警戒水位 (warning) and, on the smaller catchments, 保证水位 (danger), faster than 0.3 m/h;
- reservoirs fill slowly after rain, past their flood-season limit;
- a storm drops about 110 mm in six hours at its wettest gauge (an orange CMA signal);
- air quality follows the morning and evening rush hours, with an episode of heavy pollution
  (PM2.5 around 170 µg/m3) every few days, washed out by the next rain;
- temperature, humidity and wind follow the day, and wind reaches gale force in a storm.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from dataclasses import dataclass

from ecc.config.site import Station

HOUR = 3600.0
DAY = 24 * HOUR
M2 = 12.4206 * HOUR
S2 = 12.0 * HOUR
LOCAL_OFFSET = 8 * HOUR  # Asia/Shanghai, no daylight saving

STORM_EVERY = 2 * DAY
STORM_FIRST = 0.5 * HOUR
EPISODE_EVERY = 5 * DAY
EPISODE_FIRST = 10 * HOUR


def bump(x: float) -> float:
    """A gamma-shaped pulse: 0 before 0, peak 1 at x = 2, a long tail after."""
    if x <= 0:
        return 0.0
    return x * x * math.exp(-x) / (4 * math.exp(-2))


@dataclass(frozen=True, slots=True)
class Scenario:
    """The weather from `origin` (model time of the simulator's start) onwards."""

    origin: float

    def storms(self, t: float) -> list[float]:
        """Start times of the storms that may still matter at t (the last day and a half)."""
        e = t - self.origin
        k_last = math.floor((e - STORM_FIRST) / STORM_EVERY)
        return [
            self.origin + STORM_FIRST + k * STORM_EVERY
            for k in range(max(0, k_last - 1), k_last + 1)
            if k >= 0
        ]

    def rain_rate(self, t: float, factor: float = 1.0) -> float:
        """mm/h."""
        return sum(30.0 * factor * bump((t - s) / HOUR) for s in self.storms(t))

    def storm_response(self, t: float, lag_scale_h: float) -> float:
        """0..1: how far a catchment has risen after rain (1 at its peak)."""
        return sum(bump((t - s) / (lag_scale_h * HOUR)) for s in self.storms(t))

    def episode(self, t: float) -> float:
        """0..1: pollution build-up, ramping over a day and cleared by the next storm's rain."""
        e = t - self.origin
        if e < EPISODE_FIRST:
            return 0.0
        since = (e - EPISODE_FIRST) % EPISODE_EVERY
        level = bump(since / (6 * HOUR))
        washout = 1.0 / (1.0 + self.rain_rate(t))
        return level * washout


def _rng(station: Station, t: float) -> random.Random:
    return random.Random(zlib.crc32(f"{station.id}:{int(t)}".encode()))


def _local_hour(t: float) -> float:
    return ((t + LOCAL_OFFSET) % DAY) / HOUR


@dataclass(frozen=True, slots=True)
class StationModel:
    """What one station of the site measures at a model time."""

    station: Station

    def _gauge(self) -> float:
        """A per-station constant in [0, 1), so that stations differ."""
        return (zlib.crc32(self.station.id.encode()) % 1000) / 1000

    def values(self, sc: Scenario, t: float, interval_s: float) -> dict[str, float]:
        """Values for a reading at model time t that covers the last `interval_s` of model time."""
        rng = _rng(self.station, t)
        out: dict[str, float] = {}
        for metric in self.station.reported_metrics:
            value = self._value(metric, sc, t, interval_s, rng)
            if value is not None:
                out[metric] = value
        return out

    def _value(
        self, metric: str, sc: Scenario, t: float, interval_s: float, rng: random.Random
    ) -> float | None:
        g = self._gauge()
        if metric == "water_level":
            return round(self._level(sc, t, rng), 3)
        if metric == "rainfall":
            rate = sc.rain_rate(t - interval_s / 2, 0.8 + 0.4 * g)
            depth = rate * interval_s / HOUR * rng.uniform(0.9, 1.1)
            return round(depth, 1) if depth >= 0.05 else 0.0
        hour = _local_hour(t)
        if metric in ("pm25", "pm10", "aqi"):
            rush = math.exp(-(((hour - 8.5) / 1.5) ** 2)) + math.exp(-(((hour - 19.5) / 2) ** 2))
            pm25 = 22 + 14 * rush + 150 * sc.episode(t) * (0.9 + 0.2 * g)
            pm25 = max(3.0, pm25 / (1 + 0.15 * sc.rain_rate(t)) * rng.uniform(0.93, 1.07))
            if metric == "pm25":
                return round(pm25, 0)
            pm10 = pm25 * (1.5 + 0.3 * g)
            if metric == "pm10":
                return round(pm10, 0)
            return float(round(max(iaqi(pm25, PM25_IAQI), iaqi(pm10, PM10_IAQI))))
        if metric == "temperature":
            daily = math.cos(2 * math.pi * (hour - 14.5) / 24)
            return round(22 + 5 * daily - 3 * min(1.0, sc.rain_rate(t) / 10), 1)
        if metric == "humidity":
            daily = math.cos(2 * math.pi * (hour - 14.5) / 24)
            return round(min(100.0, 72 - 14 * daily + 25 * min(1.0, sc.rain_rate(t) / 5)), 0)
        if metric == "wind_speed":
            storm = sc.storm_response(t, 0.8)
            return round(max(0.0, 3 + 1.5 * math.sin(t / 977) + 16 * storm + rng.gauss(0, 0.6)), 1)
        if metric == "flow":
            return round(max(0.0, 2 + 60 * sc.storm_response(t, 1.5)), 2)
        if metric == "noise":
            return round(45 + 15 * (6 < hour < 22) + rng.gauss(0, 2), 1)
        return None

    def _level(self, sc: Scenario, t: float, rng: random.Random) -> float:
        s = self.station
        g = self._gauge()
        noise = rng.gauss(0, 0.005)
        if s.river == "甬江" or "estuary" in s.id:
            tide = 1.1 * math.cos(2 * math.pi * t / M2) + 0.25 * math.cos(2 * math.pi * t / S2)
            return 1.6 + tide + 0.8 * sc.storm_response(t, 1.0) + noise
        warning = _threshold(s, "warning")
        if "reservoir" in s.id or (s.river or "").endswith("水库"):
            # Sits a metre under its flood-season limit and rises past it after a storm.
            base = (warning or 30.0) - 0.9
            return base + (1.3 + 0.2 * g) * sc.storm_response(t, 2.5) + noise
        danger = _threshold(s, "danger")
        base = 1.9 + 0.1 * g
        # Peaks a little above danger on the smaller catchments, between the two elsewhere.
        peak = (danger + 0.08 if g < 0.6 else (warning + danger) / 2) if danger and warning else 3.0
        sluice = 0.04 * math.cos(2 * math.pi * t / M2)
        return base + sluice + (peak - base) * sc.storm_response(t, 1.5) + noise


def _threshold(station: Station, level: str) -> float | None:
    t = station.thresholds.get("water_level")
    return None if t is None else getattr(t, level)


# HJ 633-2012 table 1, 24-hour breakpoints: (concentration, IAQI).
PM25_IAQI = (
    (0, 0),
    (35, 50),
    (75, 100),
    (115, 150),
    (150, 200),
    (250, 300),
    (350, 400),
    (500, 500),
)
PM10_IAQI = (
    (0, 0),
    (50, 50),
    (150, 100),
    (250, 150),
    (350, 200),
    (420, 300),
    (500, 400),
    (600, 500),
)


def iaqi(c: float, table: tuple[tuple[int, int], ...]) -> float:
    """The individual air quality index of a concentration (HJ 633-2012, formula 1)."""
    for (c_lo, i_lo), (c_hi, i_hi) in itertools.pairwise(table):
        if c <= c_hi:
            return i_lo + (i_hi - i_lo) * (c - c_lo) / (c_hi - c_lo)
    return 500.0
