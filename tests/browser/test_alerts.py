"""/alerts: live from the bus, acknowledge and resolve by mouse and keyboard, roles, languages."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from ecc.bus.broker import PrivateBroker
from ecc.bus.wire import alert_to_wire
from ecc.storage.models import Alert, NewAlert, Severity
from tests.browser.helpers import (
    HAN,
    overflowing,
    publish,
    publisher,
    screenshots,
    sign_in,
    visible_text,
)
from tests.support.center import RunningCenter


def _alert(
    center: RunningCenter,
    station: str = "lujiang-daqi",
    severity: Severity = "danger",
    value: float = 3.12,
    level: float = 3.0,
    kind: str = "level",
    metric: str = "water_level",
) -> Alert:
    return center.store.alerts.insert(
        NewAlert(kind, severity, "station", station, metric, value, level, "", time.time())
    )


def _row(page: Page, alert_id: str) -> Locator:
    return page.locator(f'#alert-list tr[data-alert-id="{alert_id}"]')


def test_an_alert_from_the_bus_appears_at_once_and_is_acknowledged_there(
    page: Page, center_on_broker: RunningCenter, broker: PrivateBroker, artifacts: Path
) -> None:
    center = center_on_broker
    with publisher(center, broker) as client:
        sign_in(page, center, "operator", "/alerts")
        expect(page.locator("#alert-list")).to_have_attribute("data-ready", "true")
        expect(page.locator(".alert-empty")).to_have_text("没有符合条件的告警")

        # As the ingest worker does: the alert is stored, then published on the bus.
        alert = _alert(center)
        publish(client, "ecc/v1/alerts", alert_to_wire(alert))
        row = _row(page, alert.id)
        expect(row).to_be_visible()
        expect(row.locator(".sev")).to_have_text("危险")
        expect(row).to_contain_text("芦江大碶站")
        expect(row).to_contain_text("水位 · 超过阈值")
        expect(row).to_contain_text("3.12 m（保证水位 3.00 m）")
        expect(row).to_contain_text("未确认")
        expect(page.locator(".alert-count")).to_have_text("共 1 条")
        screenshots(page, artifacts, "alerts")

        row.locator('button[data-action="ack"]').click()
        expect(row).to_contain_text("已确认")
        expect(row).to_contain_text("operator 于")
        expect(row.locator('button[data-action="ack"]')).to_have_count(0)
        expect(page.locator(".alert-status")).to_have_text("已确认：芦江大碶站 水位 · 超过阈值")
        acked = center.get("/api/alerts?state=acknowledged", "operator").json()
        assert [(a["id"], a["acknowledged_by"]) for a in acked] == [(alert.id, "operator")]

        # An escalation on the bus changes the same row, it does not add one.
        escalated = center.store.alerts.escalate(alert.id, "critical", 3.6, 3.5, "", time.time())
        publish(client, "ecc/v1/alerts", alert_to_wire(escalated))
        expect(row.locator(".sev")).to_have_text("紧急")
        expect(page.locator("#alert-list tbody tr")).to_have_count(1)

        row.locator('button[data-action="resolve"]').click()
        expect(row).to_be_hidden()  # the default filter shows open alerts
        assert center.get(f"/api/alerts/{alert.id}").json()["state"] == "resolved"
        page.locator('button[data-state="resolved"]').click()
        expect(row).to_contain_text("已解除")
        expect(row.locator("button")).to_have_count(0)


def test_alerts_are_acknowledged_and_filtered_from_the_keyboard(
    page: Page, center: RunningCenter
) -> None:
    warning = _alert(center, "xiaojia-xiaogang", "warning", 2.7, 2.6)
    critical = _alert(center, "ruiyansi-reservoir", "critical", 0.62, 0.5, kind="rise")
    sign_in(page, center, "operator", "/alerts")
    rows = page.locator("#alert-list tbody tr")
    # The worst first.
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-alert-id", critical.id)
    expect(rows.nth(0)).to_contain_text("水位 · 涨速过快")
    expect(rows.nth(0)).to_contain_text("0.62 m/h（涨率限值 0.50 m/h）")

    # Tab from the last filter reaches the list; arrows move, A acknowledges.
    page.locator('button[data-severity="critical"]').focus()
    page.keyboard.press("Tab")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("a")
    expect(_row(page, warning.id)).to_contain_text("已确认")
    expect(_row(page, warning.id)).to_be_focused()
    assert center.get(f"/api/alerts/{warning.id}").json()["state"] == "acknowledged"

    # Filters are buttons: severity toggles, state is one of them.
    page.locator('button[data-severity="warning"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator('button[data-severity="warning"]')).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(rows).to_have_count(1)
    page.locator('button[data-state="acknowledged"]').click()
    expect(page.locator(".alert-empty")).to_be_visible()
    page.locator('button[data-severity="warning"]').click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_have_attribute("data-alert-id", warning.id)


def test_crew_sees_alerts_but_no_acknowledge_button(page: Page, center: RunningCenter) -> None:
    alert = _alert(center)
    sign_in(page, center, "crew", "/alerts")
    row = _row(page, alert.id)
    expect(row).to_contain_text("芦江大碶站")
    expect(page.locator("#alert-list button[data-action]")).to_have_count(0)
    expect(page.locator("#alert-list th")).to_have_count(6)  # no actions column
    row.focus()
    page.keyboard.press("a")  # the shortcut does nothing for crew either
    expect(page.locator(".alert-keys")).to_have_text("↑↓ 选择告警")
    assert center.get(f"/api/alerts/{alert.id}").json()["state"] == "active"


def test_switching_language_changes_the_strings_of_the_alerts_page(
    page: Page, center: RunningCenter, artifacts: Path
) -> None:
    _alert(center)
    _alert(center, "weather-meishan", "warning", 18.3, 17.2, metric="wind_speed")
    sign_in(page, center, "admin", "/alerts")
    expect(page.locator("#alert-list tbody tr")).to_have_count(2)
    expect(page.locator(".page-head h1")).to_have_text("告警")
    page.click("#lang-toggle")
    expect(page.locator(".page-head h1")).to_have_text("Alerts")
    expect(page).to_have_title("Alerts · Emergency Command Center")
    expect(page.locator('button[data-state="open"]')).to_have_text("Open")
    expect(page.locator('button[data-severity="danger"]')).to_have_text("Danger")
    expect(page.locator("#alert-list tbody tr").first).to_contain_text("Lu River at Daqi")
    expect(page.locator("#alert-list tbody tr").first).to_contain_text(
        "3.12 m (Danger level 3.00 m)"
    )
    expect(page.locator("#alert-list tbody tr").nth(1)).to_contain_text(
        "18.3 m/s (Warning 17.2 m/s)"
    )
    expect(page.locator('#alert-list button[data-action="ack"]').first).to_have_text("Acknowledge")
    body = visible_text(page)
    assert not HAN.search(body), f"untranslated text: {HAN.findall(body)}"
    assert page.evaluate("window.eccI18n.missingKeys()") == []
    assert overflowing(page, ".alert-table td, .alert-filters, .topbar, .nav") == []
    screenshots(page, artifacts, "alerts-en")
    page.click("#lang-toggle")
    expect(page.locator(".page-head h1")).to_have_text("告警")
    expect(page.locator('button[data-state="open"]')).to_have_text("未解除")


def test_a_cameras_intrusion_is_named_by_its_camera_and_zone(
    page: Page, center: RunningCenter
) -> None:
    alert = center.store.alerts.insert(
        NewAlert(
            "intrusion", "danger", "camera", "dam-dongao", "crest", 0.14, None, "", time.time()
        )
    )
    [dongao] = [c for c in center.get("/api/cameras").json() if c["id"] == "dam-dongao"]
    assert {"id": "crest", "name": "坝顶"} in dongao["zones"]
    sign_in(page, center, "operator", "/alerts")
    for path, rows in (("/alerts", "#alert-list tbody tr"), ("/", "#alert-table tbody tr")):
        page.goto(f"{center.url}{path}")
        row = page.locator(rows).first
        expect(row).to_contain_text("摄像机 东岙水库大坝")
        expect(row).to_contain_text("坝顶 · 区域入侵")
    # And so does an incident's timeline.
    made = center.post(
        "/api/incidents", "operator", json={"title": "坝顶闯入", "alerts": [alert.id]}
    ).json()
    page.goto(f"{center.url}/incidents")
    page.click(f"tr[data-incident-id='{made['id']}'] button")
    raised = page.locator("#incident-timeline li", has_text="坝顶 · 区域入侵")
    expect(raised.first).to_contain_text("摄像机 东岙水库大坝")
