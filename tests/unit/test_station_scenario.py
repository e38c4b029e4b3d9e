"""The simulated site does what the demonstration promises: a storm lifts rivers past warning,
a rainstorm signal goes up, pollution turns heavy, and calm days raise nothing."""

from __future__ import annotations

from ecc.config import Site
from ecc.sensors.rules import Series, station_rules
from ecc.sensors.scenario import HOUR, PM25_IAQI, Scenario, StationModel, iaqi
from ecc.storage.models import Point, Severity

ORIGIN = 1_783_843_200.0


def worst(site: Site, station_id: str, start_h: float, hours: float) -> dict[str, Severity | None]:
    """The worst severity of each rule of a station over a span of model time."""
    station = site.station(station_id)
    assert station is not None
    sc, model = Scenario(ORIGIN), StationModel(station)
    every = station.interval_s
    times = [ORIGIN + start_h * HOUR + k * every for k in range(int(hours * HOUR / every))]
    readings = [(t, model.values(sc, t, every)) for t in times]
    out: dict[str, Severity | None] = {}
    for metric, rules in station_rules(station).items():
        series = Series([Point(t, v[metric]) for t, v in readings])
        for rule in rules:
            current: Severity | None = None
            top: Severity | None = None
            for i in range(len(series)):
                current = rule.evaluate(series, i, current).severity
                order = [None, "info", "warning", "danger", "critical"]
                if order.index(current) > order.index(top):
                    top = current
            out[rule.kind] = top
    return out


def test_the_first_storm_lifts_rivers_and_rain_signals(site: Site) -> None:
    assert worst(site, "xiaojia-xiaogang", 0, 12) == {"level": "danger", "rise": "warning"}
    assert worst(site, "lujiang-daqi", 0, 12)["level"] in ("warning", "danger")
    assert worst(site, "ruiyansi-reservoir", 0, 18)["level"] == "warning"
    assert worst(site, "rain-xiaogang", 0, 12)["rainstorm"] in ("danger", "critical")
    assert worst(site, "weather-meishan", 0, 12)["level"] == "warning"  # gale


def test_calm_days_raise_nothing(site: Site) -> None:
    # Between the first storm's recession and the next storm (48 h later).
    assert worst(site, "xiaojia-xiaogang", 20, 24) == {"level": None, "rise": None}
    assert worst(site, "yongjiang-estuary", 20, 24) == {"level": None}  # tides alone
    assert worst(site, "rain-chaiqiao", 26, 20)["rainstorm"] is None


def test_pollution_episode_turns_heavy(site: Site) -> None:
    assert worst(site, "air-xinqi", 0, 8)["air_quality"] is None
    assert worst(site, "air-xinqi", 10, 30)["air_quality"] in ("danger", "critical")


def test_iaqi_breakpoints() -> None:
    assert iaqi(35, PM25_IAQI) == 50
    assert iaqi(75, PM25_IAQI) == 100
    assert iaqi(55, PM25_IAQI) == 75
    assert iaqi(900, PM25_IAQI) == 500
