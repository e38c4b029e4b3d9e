"""Real station series from CSV files, as readings to replay (`ecc simulate stations --replay`).

Three shapes are read, those of the files in shared/data (SOURCES.md there):
- USGS instantaneous values (`datetime_utc, discharge_cfs, gage_height_ft`): gage height in feet
  becomes water_level in metres, discharge in ft3/s becomes flow in m3/s;
- UK Environment Agency hydrology exports (`measure, dateTime, date, value, ...`): the measure
  URL says whether `value` is a level (m) or a rainfall (mm); times are UTC;
- the UCI Beijing multi-site air quality files (`year, month, day, hour, PM2.5, PM10, TEMP,
  DEWP, RAIN, WSPM, ...`), in Beijing time; humidity comes from temperature and dew point.
A missing value ("NA", empty) leaves that metric out of its reading.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from ecc import times

FEET = 0.3048
CUBIC_FEET = 0.028316846592
BEIJING = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class Sample:
    ts: float
    values: dict[str, float]


class SeriesError(ValueError):
    pass


def load(path: Path) -> list[Sample]:
    """The samples of a series file, oldest first; SeriesError names what is wrong."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise SeriesError(f"{path}: {exc.strerror}") from None
    if not rows:
        raise SeriesError(f"{path}: no rows")
    header = set(rows[0])
    if {"datetime_utc", "gage_height_ft"} <= header:
        samples = list(_usgs(rows))
    elif {"dateTime", "value", "measure"} <= header:
        samples = list(_environment_agency(rows))
    elif {"year", "month", "day", "hour", "PM2.5"} <= header:
        samples = list(_beijing(rows))
    else:
        raise SeriesError(f"{path}: not a USGS, Environment Agency or UCI air quality CSV file")
    samples.sort(key=lambda s: s.ts)
    return [s for s in samples if s.values]


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in ("", "NA", "NaN"):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _usgs(rows: list[dict[str, str]]) -> Iterator[Sample]:
    for row in rows:
        values: dict[str, float] = {}
        level = _number(row.get("gage_height_ft"))
        if level is not None:
            values["water_level"] = round(level * FEET, 4)
        flow = _number(row.get("discharge_cfs"))
        if flow is not None:
            values["flow"] = round(flow * CUBIC_FEET, 4)
        yield Sample(times.parse(row["datetime_utc"]), values)


def _environment_agency(rows: list[dict[str, str]]) -> Iterator[Sample]:
    for row in rows:
        value = _number(row.get("value"))
        if value is None:
            continue
        metric = "rainfall" if "rainfall" in row["measure"] else "water_level"
        ts = datetime.fromisoformat(row["dateTime"]).replace(tzinfo=UTC).timestamp()
        yield Sample(ts, {metric: value})


def _beijing(rows: list[dict[str, str]]) -> Iterator[Sample]:
    for row in rows:
        ts = datetime(
            int(row["year"]), int(row["month"]), int(row["day"]), int(row["hour"]), tzinfo=BEIJING
        ).timestamp()
        values: dict[str, float] = {}
        for metric, column in (
            ("pm25", "PM2.5"),
            ("pm10", "PM10"),
            ("temperature", "TEMP"),
            ("rainfall", "RAIN"),
            ("wind_speed", "WSPM"),
        ):
            value = _number(row.get(column))
            if value is not None:
                values[metric] = value
        dew = _number(row.get("DEWP"))
        temp = values.get("temperature")
        if dew is not None and temp is not None:
            values["humidity"] = round(min(100.0, relative_humidity(temp, dew)), 1)
        yield Sample(ts, values)


def relative_humidity(temperature: float, dew_point: float) -> float:
    """Percent, from the Magnus formula (Alduchov and Eskridge coefficients)."""
    a, b = 17.625, 243.04
    return 100 * math.exp(a * dew_point / (b + dew_point) - a * temperature / (b + temperature))
