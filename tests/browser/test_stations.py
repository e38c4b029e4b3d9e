"""/stations: the list and the map (offline), the station drawer's live chart, languages."""

from __future__ import annotations

import re
import time
from pathlib import Path

import orjson
from playwright.sync_api import Page, expect

from ecc.bus.broker import PrivateBroker
from ecc.bus.wire import alert_to_wire
from ecc.storage.models import NewAlert, Reading, Severity
from tests.browser.helpers import (
    HAN,
    offline,
    overflowing,
    publish,
    publisher,
    screenshots,
    sign_in,
    visible_text,
)
from tests.support.center import RunningCenter

STATION = "lujiang-daqi"  # 芦江大碶站: warning 2.50 m, danger 3.00 m


def _history(center: RunningCenter, station: str, hours: int = 6, every_s: int = 900) -> int:
    """Stored readings of the last hours, rising towards the warning level; returns the count."""
    now = time.time()
    n = hours * 3600 // every_s
    batch = [
        Reading(station, now - 30 - (n - 1 - i) * every_s, {"water_level": 1.9 + 0.02 * i})
        for i in range(n)
    ]
    center.store.readings.insert(batch)
    return len(batch)


def _alert(
    center: RunningCenter, station: str, severity: Severity, value: float, level: float
) -> str:
    alert = center.store.alerts.insert(
        NewAlert(
            "level", severity, "station", station, "water_level", value, level, "", time.time()
        )
    )
    return alert.id


def test_the_stations_page_lists_every_station_and_draws_the_map_offline(
    page: Page, center: RunningCenter, artifacts: Path
) -> None:
    refused = offline(page, center)
    _history(center, STATION)
    _history(center, "xiaojia-xiaogang")
    _alert(center, STATION, "danger", 3.04, 3.0)
    _alert(center, "ruiyansi-reservoir", "warning", 37.62, 37.5)
    sign_in(page, center, "operator", "/stations")

    rows = page.locator("#station-table tbody tr")
    expect(rows).to_have_count(len(center.site.stations))
    for s in center.site.stations:
        expect(page.locator(f'tr[data-station-id="{s.id}"] .row-link')).to_have_text(s.name)
    expect(page.locator(f'tr[data-station-id="{STATION}"] td.num')).to_have_text("2.36 m")
    expect(page.locator(f'tr[data-station-id="{STATION}"] .sev')).to_have_text("危险")

    # The map: every station and camera, drawn over the offline base layer.
    expect(page.locator("#station-map")).to_have_attribute("data-ready", "true")
    expect(page.locator(".mk-station")).to_have_count(len(center.site.stations))
    expect(page.locator(".leaflet-marker-icon.mk-camera")).to_have_count(len(center.site.cameras))
    assert (
        page.locator(".leaflet-overlay-pane path").count() >= 14
    )  # outline, islands, rivers, roads
    danger = page.locator(f'.mk-station[data-id="{STATION}"]')
    expect(danger.locator(".mk-danger")).to_have_count(1)  # the diamond shape
    expect(danger.locator(".mk-tag")).to_have_text("危险")  # and the word
    expect(page.locator('.mk-station[data-id="ruiyansi-reservoir"] .mk-warning')).to_have_count(1)
    expect(page.locator('.mk-station[data-id="dapu-chaiqiao"] .mk-ok')).to_have_count(1)
    assert page.locator(".leaflet-tile").count() == 0  # no tile_url: no tiles asked for

    # Vehicles appear with their first position, turn with their heading, leave a trail.
    bus = center.app.state.bus
    for i, (lat, lon) in enumerate([(29.9012, 121.8452), (29.9030, 121.8480), (29.9050, 121.8510)]):
        position = {"ts": time.time() + i, "lat": lat, "lon": lon, "heading": 90}
        bus.publish("ecc/v1/vehicles/cmd-1/position", orjson.dumps(position))
    vehicle = page.locator('.mk-vehicle[data-id="cmd-1"]')
    expect(vehicle).to_have_attribute("aria-label", re.compile("^指挥车 1 号"))
    expect(vehicle.locator("polygon")).to_have_attribute("transform", "rotate(90 14 14)")
    expect(page.locator("path.vehicle-trail")).to_have_count(1)

    assert overflowing(page, ".station-table td, .topbar, .nav") == []
    screenshots(page, artifacts, "stations")
    page.locator(f'tr[data-station-id="{STATION}"] .row-link').click()
    expect(page.locator("#chart")).to_have_attribute("data-points", "24")
    screenshots(page, artifacts, "stations-drawer")
    assert refused == [], f"the page reached for the internet: {refused}"


def test_the_drawer_charts_stored_readings_and_appends_live_ones(
    page: Page, center_on_broker: RunningCenter, broker: PrivateBroker, artifacts: Path
) -> None:
    center = center_on_broker
    stored = _history(center, STATION)
    with publisher(center, broker) as client:
        sign_in(page, center, "operator", "/stations")
        page.locator(f'tr[data-station-id="{STATION}"] .row-link').click()
        drawer = page.locator("#drawer")
        expect(drawer).to_be_visible()
        expect(page.locator("#drawer-title")).to_have_text("芦江大碶站")
        expect(page.locator("#drawer-title")).to_be_focused()
        chart = page.locator("#chart")
        expect(chart).to_have_attribute("data-points", str(stored))
        expect(chart.locator("canvas")).to_have_count(1)
        expect(drawer.locator("#thresholds")).to_contain_text("警戒水位 2.50 m")
        expect(drawer.locator("#thresholds")).to_contain_text("保证水位 3.00 m")
        expect(drawer.locator("#station-cameras")).to_have_text("大碶街道人民路")
        expect(page).to_have_url(f"{center.url}/stations#{STATION}")

        # A reading published on the bus is appended at once, to the chart and the values.
        publish(
            client,
            f"ecc/v1/stations/{STATION}/readings",
            {"ts": time.time(), "values": {"water_level": 2.83}},
        )
        expect(chart).to_have_attribute("data-points", str(stored + 1))
        expect(chart).to_have_attribute("data-latest", "2.83")
        expect(drawer.locator('#latest dd[data-metric="water_level"] strong')).to_have_text(
            "2.83 m"
        )
        expect(page.locator(f'tr[data-station-id="{STATION}"] td.num')).to_have_text("2.83 m")
        expect(chart).to_have_attribute(
            "aria-label", "水位，最近 24 小时，25 个数据点，最新 2.83 m"
        )

        # An alert on the bus reshapes the station's marker and fills the drawer's list.
        alert = center.store.alerts.insert(
            NewAlert(
                "level", "warning", "station", STATION, "water_level", 2.83, 2.5, "", time.time()
            )
        )
        publish(client, "ecc/v1/alerts", alert_to_wire(alert))
        expect(page.locator(f'.mk-station[data-id="{STATION}"] .mk-warning')).to_have_count(1)
        expect(drawer.locator("#station-alerts li")).to_contain_text("警戒")
        screenshots(page, artifacts, "stations-live")

    # Escape closes the drawer and gives the focus back to the row it came from.
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(page.locator(f'tr[data-station-id="{STATION}"] .row-link')).to_be_focused()


def test_a_multi_metric_station_switches_its_chart_by_keyboard(
    page: Page, center: RunningCenter
) -> None:
    now = time.time()
    center.store.readings.insert(
        [
            Reading("air-xinqi", now - 3600 * i, {"pm25": 30.0 + i, "pm10": 50.0, "aqi": 45.0})
            for i in range(5)
        ]
    )
    sign_in(page, center, "operator", "/stations")
    page.locator('tr[data-station-id="air-xinqi"] .row-link').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#drawer")).to_be_visible()
    tabs = page.locator("#metric-tabs button")
    expect(tabs).to_have_text(["PM2.5", "PM10", "AQI"])
    expect(tabs.nth(0)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#chart")).to_have_attribute("data-points", "5")
    tabs.nth(2).focus()
    page.keyboard.press("Enter")
    expect(tabs.nth(2)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#chart")).to_have_attribute(
        "aria-label", "AQI，最近 24 小时，5 个数据点，最新 45"
    )


def test_switching_language_changes_the_strings_of_the_stations_page(
    page: Page, center: RunningCenter, artifacts: Path
) -> None:
    _history(center, STATION)
    _alert(center, STATION, "danger", 3.04, 3.0)
    sign_in(page, center, "operator", "/stations")
    page.goto(f"{center.url}/stations#{STATION}")
    expect(page.locator("#drawer-title")).to_have_text("芦江大碶站")
    expect(page.locator("#chart")).to_have_attribute("data-points", "24")
    expect(page.locator("#stations-heading")).to_have_text("监测站")

    page.click("#lang-toggle")
    expect(page.locator("#stations-heading")).to_have_text("Stations")
    expect(page.locator("#drawer-title")).to_have_text("Lu River at Daqi")
    expect(page.locator(f'tr[data-station-id="{STATION}"] .sev')).to_have_text("Danger")
    expect(page.locator(f'.mk-station[data-id="{STATION}"] .mk-tag')).to_have_text("Danger")
    expect(page.locator("#thresholds")).to_contain_text("Warning level 2.50 m")
    expect(page.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Zoom in")
    expect(page.locator("#chart")).to_have_attribute(
        "aria-label", "Water level, last 24 h, 24 points, latest 2.36 m"
    )
    # Nothing Chinese is left but the names of rivers (the site gives them in Chinese only)
    # and the switch back to Chinese.
    text = visible_text(
        page, ".station-table td:nth-child(3), #drawer-meta, .map-label, #lang-toggle"
    )
    assert not HAN.search(text), f"untranslated text: {HAN.findall(text)}"
    assert page.evaluate("window.eccI18n.missingKeys()") == []
    assert overflowing(page, ".station-table td, .topbar, .nav, .drawer-head") == []
    screenshots(page, artifacts, "stations-en")

    page.click("#lang-toggle")
    expect(page.locator("#stations-heading")).to_have_text("监测站")
    expect(page.locator("#drawer-title")).to_have_text("芦江大碶站")


def test_the_overview_map_leads_to_the_station(page: Page, center: RunningCenter) -> None:
    _alert(center, STATION, "critical", 3.5, 3.0)
    sign_in(page, center, "operator", "/")
    expect(page.locator("#mini-map .mk-station")).to_have_count(len(center.site.stations))
    marker = page.locator(f'#mini-map .mk-station[data-id="{STATION}"]')
    expect(marker.locator(".mk-critical")).to_have_count(1)
    marker.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{center.url}/stations#{STATION}")
    expect(page.locator("#drawer-title")).to_have_text("芦江大碶站")
