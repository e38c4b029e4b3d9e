"""The metric registry: every metric a station may report, its unit and its physical range.

Names are those of DESIGN.md (and of `ecc.config.site.Metric`). A value outside its range is not
a reading of this world (a sensor fault, a unit mix-up, a bit flip) and goes to the dead letters,
never into a chart or an alert rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecc.config.site import Metric


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: Metric
    unit: str
    low: float
    high: float
    label: str
    label_zh: str


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        # Above the station's datum: reservoir levels are tens of metres; below -10 m no gauge.
        MetricSpec("water_level", "m", -10.0, 100.0, "water level", "水位"),
        # Depth in the reporting interval; the world's heaviest hour is about 305 mm.
        MetricSpec("rainfall", "mm", 0.0, 500.0, "rainfall", "降雨量"),
        # The Amazon's mouth carries about 2e5 m3/s.
        MetricSpec("flow", "m3/s", 0.0, 300_000.0, "flow", "流量"),
        MetricSpec("pm25", "µg/m3", 0.0, 2000.0, "PM2.5", "PM2.5"),
        # Dust storms have pushed hourly PM10 past 3,000 µg/m3 in northern China.
        MetricSpec("pm10", "µg/m3", 0.0, 5000.0, "PM10", "PM10"),
        # HJ 633-2012 caps the index at 500.
        MetricSpec("aqi", "", 0.0, 500.0, "AQI", "空气质量指数"),
        MetricSpec("temperature", "°C", -60.0, 60.0, "temperature", "气温"),
        MetricSpec("humidity", "%", 0.0, 100.0, "relative humidity", "相对湿度"),
        MetricSpec("wind_speed", "m/s", 0.0, 100.0, "wind speed", "风速"),
        MetricSpec("noise", "dB(A)", 0.0, 160.0, "noise", "噪声"),
    )
}

BATTERY_RANGE = (0.0, 100.0)
"""Station supply voltage, volts."""


def spec(metric: str) -> MetricSpec | None:
    return METRICS.get(metric)
