"""Station payloads (DESIGN.md, MQTT contract) checked and turned into Readings.

Every refusal carries a reason a person can read, with a short category before the first ':'
(`bad json: ...`, `out of range: ...`): the dead-letter store counts by that category and
/metrics exports the counts, so the category names are part of what operators see.

This runs once per message on the ingest worker's hot path: orjson and plain type checks cost
a few microseconds a message, several times less than a pydantic model would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ecc import times
from ecc.bus.topics import Topics
from ecc.config import Site
from ecc.sensors.metrics import BATTERY_RANGE, METRICS
from ecc.storage.models import Reading

# Categories of refusal; the text before the first ':' of a reason.
TOO_LARGE = "too large"
BAD_TOPIC = "bad topic"
UNKNOWN_STATION = "unknown station"
BAD_JSON = "bad json"
BAD_PAYLOAD = "bad payload"
BAD_TS = "bad ts"
FUTURE = "future"
UNKNOWN_METRIC = "unknown metric"
OUT_OF_RANGE = "out of range"


class Rejected(Exception):
    """A message that is not a valid reading; `reason` is `category: details`."""

    def __init__(self, category: str, detail: str) -> None:
        super().__init__(f"{category}: {detail}")
        self.category = category

    @property
    def reason(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 16 * 1024
    max_future_s: float = 300.0


class Validator:
    """Checks readings against the metric registry and the site's stations."""

    def __init__(self, site: Site, topics: Topics, limits: Limits | None = None) -> None:
        self.topics = topics
        self.limits = limits or Limits()
        self._metrics = {s.id: frozenset(s.reported_metrics) for s in site.stations}

    def station_of(self, topic: str) -> str:
        station = self.topics.station_of(topic)
        if station is None:
            raise Rejected(BAD_TOPIC, f"{topic!r} is not a station readings topic")
        if station not in self._metrics:
            raise Rejected(UNKNOWN_STATION, f"{station!r} is not a station of this site")
        return station

    def reading(self, topic: str, payload: bytes, now: float) -> Reading:
        """The reading of one message, or Rejected; `now` is the receiver's clock (epoch s)."""
        limit = self.limits.max_payload_bytes
        if len(payload) > limit:
            raise Rejected(TOO_LARGE, f"{len(payload)} bytes, at most {limit}")
        station = self.station_of(topic)
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise Rejected(BAD_JSON, str(exc)) from None
        if type(data) is not dict:
            raise Rejected(BAD_PAYLOAD, f"expected a JSON object, got {_kind(data)}")
        ts = self._ts(data.get("ts"), now)
        values = self._values(station, data.get("values"))
        battery = data.get("battery")
        if battery is not None:
            if not _number(battery):
                raise Rejected(BAD_PAYLOAD, f"battery must be a number, got {_kind(battery)}")
            low, high = BATTERY_RANGE
            if not low <= battery <= high:
                raise Rejected(OUT_OF_RANGE, f"battery {battery} V outside {low:g}..{high:g} V")
            battery = float(battery)
        seq = data.get("seq")
        if seq is not None and (type(seq) is not int or seq < 0):
            raise Rejected(BAD_PAYLOAD, f"seq must be a whole number >= 0, got {seq!r}")
        return Reading(station, ts, values, battery)

    def _ts(self, raw: Any, now: float) -> float:
        if raw is None:
            raise Rejected(BAD_TS, "missing; give RFC 3339 or epoch seconds")
        if type(raw) is bool or not isinstance(raw, str | int | float):
            raise Rejected(BAD_TS, f"expected RFC 3339 or epoch seconds, got {_kind(raw)}")
        try:
            ts = times.parse(raw)
        except ValueError as exc:
            raise Rejected(BAD_TS, str(exc)) from None
        if ts < 0:
            raise Rejected(BAD_TS, f"{raw!r} is before 1970")
        ahead = ts - now
        if ahead > self.limits.max_future_s:
            raise Rejected(
                FUTURE,
                f"ts {times.iso(ts)} is {ahead:.0f} s ahead of the receiver's clock "
                f"(at most {self.limits.max_future_s:.0f} s)",
            )
        return ts

    def _values(self, station: str, raw: Any) -> dict[str, float]:
        if type(raw) is not dict:
            what = "missing" if raw is None else f"must be an object, got {_kind(raw)}"
            raise Rejected(BAD_PAYLOAD, f"values {what}")
        if not raw:
            raise Rejected(BAD_PAYLOAD, "values is empty")
        allowed = self._metrics[station]
        out: dict[str, float] = {}
        for metric, value in raw.items():
            spec = METRICS.get(metric)
            if spec is None:
                raise Rejected(UNKNOWN_METRIC, f"{metric!r} is not a metric ECC knows")
            if metric not in allowed:
                raise Rejected(UNKNOWN_METRIC, f"station {station!r} does not report {metric}")
            if not _number(value):
                raise Rejected(BAD_PAYLOAD, f"{metric} must be a number, got {_kind(value)}")
            if not spec.low <= value <= spec.high:
                unit = f" {spec.unit}" if spec.unit else ""
                raise Rejected(
                    OUT_OF_RANGE,
                    f"{metric} {value}{unit} outside {spec.low:g}..{spec.high:g}{unit}",
                )
            out[metric] = float(value)
        return out


def _number(v: Any) -> bool:
    # bool is an int subclass, and JSON true is not a reading; orjson yields no NaN or inf.
    t = type(v)
    return t is float or t is int


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(v), type(v).__name__)
