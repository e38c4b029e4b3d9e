"""The operators' incidents page in Chromium: open an incident by hand, link the alert, dispatch
a vehicle, take a note, move it to monitoring and close it, each change in the API and on the
timeline; a second page follows over `incident` events; every string of the page (and of the
review of that incident) is in the catalogues, in both languages."""

from __future__ import annotations

import time
import zipfile

import pytest
from playwright.sync_api import Browser, Page, expect

from ecc.incidents import lifecycle
from ecc.storage.models import Area, NewAlert
from tests.browser.helpers import sign_in
from tests.browser.i18n import site_words, unexplained
from tests.browser.test_i18n_catalogue import LANGUAGES, with_language
from tests.support.center import RunningCenter

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_operator_runs_an_incident_from_the_page(
    browser: Browser, page: Page, center: RunningCenter
) -> None:
    alert = center.store.alerts.insert(
        NewAlert(
            "level", "danger", "station", "zhonghe-xinqi", "water_level", 3.1, 3.0, "", time.time()
        )
    )
    sign_in(page, center, "operator", "/incidents")
    page.click("#incident-new")
    page.fill("#f-title", "明州路下穿积水")
    page.select_option("#f-severity", "danger")
    page.select_option("#f-station", "zhonghe-xinqi")
    page.click("#incident-form button[type=submit]")
    expect(page.locator("#incident-title")).to_have_text("明州路下穿积水")
    [incident] = center.get("/api/incidents").json()
    iid = incident["id"]
    # The station brought its cameras.
    assert incident["sources"] == [
        "station:zhonghe-xinqi",
        "camera:town-xinqi",
        "camera:underpass-mingzhou",
    ]

    # A leader watching the list sees it change as the operator works.
    watcher = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
    sign_in(watcher, center, "leader", "/incidents")
    row = watcher.locator(f"tr[data-incident-id='{iid}']")
    expect(row).to_have_attribute("data-state", "open")

    page.select_option("#link-alert", alert.id)
    page.click("#link-alert + button")
    expect(page.locator(f"#incident-alerts li[data-alert-id='{alert.id}']")).to_be_visible()
    page.select_option("#dispatch-vehicle", "cmd-2")
    page.fill("#dispatch-instructions", "封闭下穿通道")
    page.click("#dispatch-form button[type=submit]")
    expect(page.locator("#incident-tasks li[data-state=dispatched]")).to_contain_text(
        "封闭下穿通道"
    )
    page.fill("#note-text", "积水约 40 cm")
    page.click(".note-form button")
    expect(page.locator("#incident-notes li")).to_contain_text("积水约 40 cm")
    page.click("button[data-to=monitoring]")
    expect(row).to_have_attribute("data-state", "monitoring")
    page.click("button[data-to=closed]")
    expect(page.locator(".incident-state")).to_have_text("已结束")
    expect(page.locator("#incident-tasks li[data-state=done]")).to_have_count(1)

    kinds = [e["kind"] for e in center.get(f"/api/incidents/{iid}/timeline").json()]
    assert kinds == [
        "alert.raised",
        "incident.opened",
        "incident.linked",
        "task.dispatched",
        "note",
        "incident.state",
        "incident.state",
    ]
    expect(page.locator("#incident-timeline li")).to_have_count(len(kinds))
    watcher.context.close()

    # The export, with its progress on the page, arrives as a download.
    with page.expect_download() as download:
        page.click("#incident-export")
    expect(page.locator("#incident-export-status")).to_have_text("导出完成")
    assert page.locator("#incident-export-progress").evaluate("(p) => p.value") == 1
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert f"incident-{iid[:12]}/report.html" in names

    # Every visible string comes from the catalogues, with an incident on show.
    allowed = [*site_words(center), "明州路下穿积水", "封闭下穿通道", "积水约 40 cm"]
    problems = []
    for lang in LANGUAGES:
        with_language(page, f"{center.url}/incidents#{iid}", lang)
        expect(page.locator("#incident-timeline li")).to_have_count(len(kinds))
        problems += [f"{lang} /incidents: {s}" for s in unexplained(page, allowed)]
        with_language(page, f"{center.url}/review?id={iid}", lang)
        expect(page.locator("#rv-log li")).to_have_count(len(kinds))
        problems += [f"{lang} /review: {s}" for s in unexplained(page, allowed)]
    assert page.evaluate("window.eccI18n.missingKeys()") == []
    assert problems == [], "\n".join(problems)


def test_an_operator_draws_the_incident_area_on_the_map(page: Page, center: RunningCenter) -> None:
    made = center.post("/api/incidents", "operator", json={"title": "港区火情"}).json()
    assert made["area"]["lat"] is None and made["area"]["polygon"] == []
    sign_in(page, center, "operator", "/incidents")
    page.click(f"tr[data-incident-id='{made['id']}'] button")
    expect(page.locator("#incident-area")).to_have_text("未设定")

    # A polygon, corner by corner on the map; one corner taken back.
    page.click("#incident-area-edit")
    expect(page.locator("#area-dialog .leaflet-container")).to_be_visible()
    page.check("#area-dialog input[value=polygon]")
    box = page.locator("#area-map").bounding_box()
    assert box is not None
    for fx, fy in [(0.3, 0.3), (0.7, 0.3), (0.9, 0.9), (0.7, 0.7)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    expect(page.locator("#area-points")).to_have_text("多边形顶点：4")
    page.click("#area-undo")
    expect(page.locator("#area-dialog path.leaflet-interactive").first).to_be_visible()
    page.click("#area-save")
    expect(page.locator("#incident-area")).to_have_text("多边形 3 点")
    area = center.get(f"/api/incidents/{made['id']}").json()["area"]
    assert len(area["polygon"]) == 3 and area["lat"] is None
    site = center.site.map
    for lat, lon in area["polygon"]:
        assert abs(lat - site.center_lat) < 1 and abs(lon - site.center_lon) < 1

    # A circle typed in (no mouse needed); a polygon of two corners is refused with a reason.
    page.click("#incident-area-edit")
    page.click("#area-clear")
    page.fill("#area-lat", "29.8901")
    page.fill("#area-lon", "121.8552")
    page.fill("#area-radius", "600")
    page.check("#area-dialog input[value=polygon]")
    box = page.locator("#area-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.2)
    page.click("#area-save")
    expect(page.locator("#area-error")).to_have_text("多边形至少需要 3 个顶点")
    page.click("#area-undo")
    page.click("#area-undo")
    page.click("#area-save")
    expect(page.locator("#incident-area")).to_have_text("半径 600 m")
    area = center.get(f"/api/incidents/{made['id']}").json()["area"]
    assert (area["lat"], area["lon"], area["radius_m"], area["polygon"]) == (
        29.8901,
        121.8552,
        600,
        [],
    )
    expect(page.locator("#area-dialog")).to_have_count(0)


def test_an_incident_opened_by_an_alert_is_titled_in_the_page_language(
    page: Page, center: RunningCenter
) -> None:
    cause = {
        "source": "station:zhonghe-xinqi",
        "kind": "level",
        "metric": "water_level",
        "severity": "danger",
    }
    title = "中河新碶站 · 水位 3.12 m，超过保证 3.10 m"
    opened = lifecycle.opened("auto-1", title, "danger", Area(), time.time(), None, cause=cause)
    center.store.incidents.insert(opened)
    sign_in(page, center, "operator", "/incidents")
    row = page.locator("tr[data-incident-id='auto-1'] button")
    expect(row).to_have_text(title)  # Chinese: the words it was given
    with_language(page, f"{center.url}/incidents", "en")
    english = "Zhong River at Xinqi · Water level: threshold crossed"
    expect(row).to_have_text(english)
    row.click()
    expect(page.locator("#incident-title")).to_have_text(english)
    # And so is the timeline's line on its opening.
    expect(page.locator("#incident-timeline li", has_text=english)).to_have_count(1)

    # Retitled by a person: their words, in every language.
    with center.client("operator") as c:
        r = c.patch("/api/incidents/auto-1", json={"title": "新碶内涝"})
    assert r.status_code == 200, r.text
    assert r.json()["title_cause"] is None
    page.reload()
    expect(row).to_have_text("新碶内涝")
