"""/wall: the operator's wall at 1920×1080 and 3840×2160, its layouts, groups, shortcuts,
alerts in front and languages. Screenshots go to the artifacts folder (wall-*.png)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from ecc.bus.broker import PrivateBroker
from ecc.bus.wire import alert_to_wire
from ecc.config import Settings
from ecc.storage.models import Alert, NewAlert, Reading, Severity
from tests.browser.helpers import HAN, eventually, publish, publisher, sign_in, visible_text
from tests.browser.i18n import site_words, unexplained
from tests.browser.layout import layout_problems
from tests.support.center import RunningCenter

pytestmark = pytest.mark.browser

WALL_SIZES = {"1920x1080": (1920, 1080), "3840x2160": (3840, 2160)}
FLOOD = [
    "camera:dam-ruiyansi",
    "camera:dam-dongao",
    "camera:river-xiaogang",
    "camera:underpass-mingzhou",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No camera here is pushed: a viewer hears so after 1 s, not 8 (and the center stops sooner).
    video = settings.video.model_copy(update={"whep_wait_s": 1.0})
    return settings.model_copy(update={"video": video})


def open_wall(page: Page, center: RunningCenter, username: str = "operator") -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, center, username, "/wall")
    expect(page.locator("#view")).to_have_attribute("data-ready", "true")


def settle(page: Page) -> None:
    """Until the map has framed the district at its present size, and two frames more."""
    page.wait_for_function(
        """() => {
          const m = document.querySelector("#wall-map");
          return m.dataset.fitted === `${m.clientWidth}x${m.clientHeight}`;
        }""",
        polling="raf",
    )
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def check_sizes(page: Page, artifacts: Path, name: str) -> dict[str, list[str]]:
    """A screenshot at each wall size, and what overflows or overlaps there."""
    found: dict[str, list[str]] = {}
    for size, (w, h) in WALL_SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_function(
            "([w, h]) => innerWidth === w && innerHeight === h", arg=[w, h], polling="raf"
        )
        settle(page)
        page.screenshot(path=str(artifacts / f"wall-{name}-{size}.png"))
        problems = layout_problems(page)
        if problems:
            found[f"{name} {size}"] = problems
    page.set_viewport_size({"width": 1920, "height": 1080})
    settle(page)
    return found


def cell(page: Page, index: int) -> Locator:
    return page.locator(f'#wall-grid .wall-cell[data-index="{index}"]')


def tiles(page: Page) -> list[str]:
    shown: list[str] = page.eval_on_selector_all(
        "#wall-grid .wall-cell", "(cells) => cells.map((c) => c.dataset.source)"
    )
    return shown


def add_alert(
    center: RunningCenter,
    station: str = "lujiang-daqi",
    severity: Severity = "danger",
    value: float = 3.12,
    level: float = 3.0,
    ago: float = 0,
    metric: str = "water_level",
) -> Alert:
    new = NewAlert(
        "level", severity, "station", station, metric, value, level, "", time.time() - ago
    )
    return center.store.alerts.insert(new)


def add_readings(center: RunningCenter, station: str = "lujiang-daqi") -> None:
    """A day of water levels, every 10 min, rising past the warning level (2.50 m) to 3.12 m."""
    now = time.time()
    levels = [2.1 + 0.95 * (i / 143) ** 3 + 0.03 * math.sin(i / 6) for i in range(143)] + [3.12]
    center.store.readings.insert(
        [
            Reading(station, now - (143 - i) * 600 - 30, {"water_level": round(v, 3)})
            for i, v in enumerate(levels)
        ]
    )


@pytest.mark.slow
def test_the_wall_fits_both_screens_in_every_state(
    page: Page, center_on_broker: RunningCenter, broker: PrivateBroker, artifacts: Path
) -> None:
    center = center_on_broker
    add_readings(center)
    add_alert(center, "xiaojia-xiaogang", "warning", 2.71, 2.6, ago=900)
    acked = add_alert(center, "air-xiapu", "warning", 128, 115, ago=3600, metric="pm25")
    center.store.alerts.acknowledge(acked.id, "operator", time.time() - 3000)
    problems: dict[str, list[str]] = {}
    with publisher(center, broker) as client:
        open_wall(page, center)
        expect(page.locator("#wall-grid")).to_have_attribute("data-count", "4")
        assert tiles(page) == FLOOD  # a first visit shows the site's first group

        # Recording state, as the camera workers report it.
        publish(client, "ecc/v1/cameras/dam-ruiyansi/status", {"online": True, "recording": True})
        publish(client, "ecc/v1/cameras/dam-dongao/status", {"online": False, "recording": False})
        expect(cell(page, 0).locator(".tile-rec")).to_have_text("录像")
        expect(cell(page, 1).locator(".tile-rec")).to_have_text("未录像")
        expect(cell(page, 1).locator(".tile")).to_have_attribute("data-state", "offline")
        expect(cell(page, 2).locator(".tile-rec")).to_be_hidden()  # not reported

        alert = add_alert(center)
        publish(client, "ecc/v1/alerts", alert_to_wire(alert))
        strip = page.locator("#strip-alert")
        expect(strip).to_have_attribute("data-alert-id", alert.id)
        expect(strip).to_contain_text("芦江大碶站")
        expect(strip).to_contain_text("3.12 m（保证水位 3.00 m）")
        linked = page.locator('#wall-grid .wall-cell[data-source="camera:town-daqi"]')
        expect(linked).to_have_attribute("data-alert", "danger")
        expect(linked.locator(".cell-alert")).to_contain_text("告警联动 · 芦江大碶站")
        problems |= check_sizes(page, artifacts, "4-alert")

    page.keyboard.press("4")
    expect(page.locator("#wall-grid")).to_have_attribute("data-count", "16")
    problems |= check_sizes(page, artifacts, "16")

    page.keyboard.press("s")
    expect(page.locator("#wall-sources")).to_be_visible()
    problems |= check_sizes(page, artifacts, "16-sources")
    page.keyboard.press("s")

    page.locator("#layouts-toggle").click()
    page.locator("#custom-cols").select_option("4")
    page.locator("#custom-rows").select_option("3")
    page.locator("#custom-big").check()
    page.locator("#custom-apply").click()
    expect(page.locator("#wall-grid")).to_have_attribute("data-count", "9")
    problems |= check_sizes(page, artifacts, "custom-layouts")
    page.keyboard.press("Escape")

    page.locator('#strip-alert button[data-action="station"]').click()
    expect(page.locator("#wall-drawer")).to_be_visible()
    expect(page.locator("#wall-drawer .wall-chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#wall-drawer .wall-chart")).to_have_attribute("data-points", "144")
    expect(page.locator("#wall-drawer .drawer-cameras")).to_contain_text("大碶街道人民路")
    problems |= check_sizes(page, artifacts, "custom-drawer")
    page.keyboard.press("Escape")

    page.keyboard.press("1")
    cell(page, 0).click()
    page.keyboard.press("f")
    expect(page.locator(".wall-full")).to_be_visible()
    problems |= check_sizes(page, artifacts, "1-full")
    page.keyboard.press("Escape")

    page.keyboard.press("2")
    page.keyboard.press("?")
    expect(page.locator("#wall-help")).to_be_visible()
    problems |= check_sizes(page, artifacts, "4-help")
    page.keyboard.press("Escape")

    page.locator("#lang-toggle").click()
    expect(page.locator("#strip-alert")).to_contain_text("Lu River at Daqi")
    page.locator('#strip-alert button[data-action="station"]').click()
    expect(page.locator("#wall-drawer .drawer-title")).to_have_text("Lu River at Daqi")
    problems |= check_sizes(page, artifacts, "4-drawer-en")
    assert problems == {}


def test_switching_language_changes_every_string_of_the_wall(
    page: Page, center: RunningCenter
) -> None:
    add_readings(center)
    add_alert(center)
    add_alert(center, "weather-meishan", "warning", 18.3, 17.2, ago=600)
    open_wall(page, center)
    page.locator('#strip-alert button[data-action="station"]').click()
    expect(page.locator("#wall-drawer .wall-chart")).to_have_attribute("data-ready", "true")
    allowed = site_words(center)
    before = page.evaluate("() => document.body.innerText")
    assert unexplained(page, allowed) == []

    page.locator("#lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("Wall · Emergency Command Center")
    expect(page.locator("#strip-alert")).to_contain_text("3.12 m (Danger level 3.00 m)")
    expect(page.locator("#wall-drawer .drawer-title")).to_have_text("Lu River at Daqi")
    expect(page.locator('[data-preset="custom"]')).to_have_text("Custom")
    assert unexplained(page, allowed) == []
    # What is left in Chinese is site data with no English name (rivers).
    rivers = {s["river"] for s in center.get("/api/stations").json() if s["river"]}
    text = visible_text(page)  # less the language toggle, which says 中文
    leftover = set(HAN.findall(text)) - set("".join(rivers))
    assert not leftover, f"untranslated: {sorted(leftover)}"
    assert text != before
    assert page.evaluate("window.eccI18n.missingKeys()") == []
    # Remembered for the user: the wall comes up in English next time.
    assert center.get("/api/me", "operator").json()["language"] == "en"

    page.locator("#lang-toggle").click()
    expect(page.locator('[data-preset="custom"]')).to_have_text("自定义")
    expect(page.locator("#wall-drawer .drawer-title")).to_have_text("芦江大碶站")
    assert unexplained(page, allowed) == []


def test_cameras_and_vehicles_go_into_tiles_by_drag_and_keyboard_and_stay_per_user(
    page: Page, center: RunningCenter
) -> None:
    open_wall(page, center)
    assert tiles(page) == FLOOD
    page.keyboard.press("s")
    sources = page.locator("#wall-sources")
    expect(sources).to_be_visible()

    # Drag a camera and a vehicle from the list into tiles.
    sources.locator('[data-source="camera:port-beilun"]').drag_to(cell(page, 1))
    expect(cell(page, 1)).to_have_attribute("data-source", "camera:port-beilun")
    expect(cell(page, 1).locator(".tile-name")).to_have_text("北仑港区码头")
    sources.locator('[data-source="vehicle:cmd-2"]').drag_to(cell(page, 2))
    expect(cell(page, 2)).to_have_attribute("data-source", "vehicle:cmd-2")
    expect(cell(page, 2).locator(".tile-name")).to_have_text("指挥车 2 号")
    # The tile watches the sub stream; a vehicle's one stream.
    assert "stream=sub" in cell(page, 1).locator(".tile").evaluate("(t) => t.player.url")
    assert (
        cell(page, 2)
        .locator(".tile")
        .evaluate("(t) => t.player.url")
        .endswith("/api/whep/vehicle:cmd-2")
    )
    # Full screen, a vehicle comes with its sound and the talkback button.
    cell(page, 2).dblclick()
    full = page.locator(".wall-full")
    expect(full.locator(".talkback-toggle")).to_have_text("开始对讲")
    expect(full.locator(".tile")).to_have_attribute("data-source", "vehicle:cmd-2")
    assert full.locator(".tile").evaluate("(t) => t.player.audio") is True
    # Its sound can be switched off and on again, and the tile stays full screen.
    sound = full.locator(".tile-sound")
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(sound).to_have_text("声音：开")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "false")
    assert full.locator("video").evaluate("(v) => v.muted") is True
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    assert full.locator("video").evaluate("(v) => v.muted") is False
    expect(full).to_have_count(1)
    assert layout_problems(page) == []
    page.keyboard.press("Escape")
    expect(full).to_have_count(0)

    # A tile dragged onto another swaps the two.
    cell(page, 0).drag_to(cell(page, 3))
    expect(cell(page, 3)).to_have_attribute("data-source", "camera:dam-ruiyansi")
    expect(cell(page, 0)).to_have_attribute("data-source", "camera:underpass-mingzhou")

    # From the keyboard: choose a tile, then a source with Enter; Delete empties a tile.
    cell(page, 0).focus()
    page.keyboard.press("ArrowRight")
    expect(cell(page, 1)).to_be_focused()
    page.keyboard.press("Delete")
    expect(cell(page, 1)).to_have_attribute("data-source", "")
    expect(cell(page, 1)).to_contain_text("拖入摄像机或指挥车")
    sources.locator('[data-source="camera:bridge-daxie"]').focus()
    page.keyboard.press("Enter")
    expect(cell(page, 1)).to_have_attribute("data-source", "camera:bridge-daxie")
    page.keyboard.press("3")  # not in an input: 9 tiles
    expect(page.locator("#wall-grid")).to_have_attribute("data-count", "9")

    expected = [
        "camera:underpass-mingzhou",
        "camera:bridge-daxie",
        "vehicle:cmd-2",
        "camera:dam-ruiyansi",
    ]
    saved = eventually(
        lambda: (
            (cur := center.get("/api/me/layouts", "operator").json()["current"])["preset"] == "9"
            and cur["tiles"][:4] == expected
            and cur
        )
    )
    assert saved, center.get("/api/me/layouts", "operator").json()

    # Back after a reload, as this user left it; another user has the site's default.
    page.reload()
    expect(page.locator("#view")).to_have_attribute("data-ready", "true")
    expect(page.locator("#wall-grid")).to_have_attribute("data-count", "9")
    assert tiles(page)[:4] == expected
    assert center.get("/api/me/layouts", "leader").json()["current"]["tiles"] == FLOOD

    # A vehicle clicked on the map goes onto the wall, into the selected tile.
    r = center.post(
        "/api/vehicles/cmd-3/position",
        "crew",
        json={"ts": time.time(), "lat": 29.93, "lon": 121.88, "heading": 45},
    )
    assert r.status_code == 200, r.text
    marker = page.locator('#wall-map .mk-vehicle[data-id="cmd-3"]')
    expect(marker).to_be_visible()
    marker.click()
    expect(page.locator('#wall-grid .wall-cell[data-source="vehicle:cmd-3"]')).to_have_count(1)


def test_groups_step_and_cycle_and_layouts_and_groups_are_saved(
    page: Page, center: RunningCenter
) -> None:
    # Cycling every 5 s from the user's saved layout.
    with center.client("operator") as client:
        r = client.put(
            "/api/me/layouts",
            json={
                "current": {
                    "preset": "4",
                    "group": "flood",
                    "tiles": FLOOD,
                    "cycle": True,
                    "cycle_s": 5,
                }
            },
        )
    assert r.status_code == 200, r.text
    open_wall(page, center)
    expect(page.locator("#cycle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#cycle")).to_have_text("轮巡 5 秒")
    assert tiles(page) == FLOOD
    expect(page.locator("#group-select")).to_have_value("reservoirs", timeout=8000)
    assert tiles(page) == ["camera:dam-ruiyansi", "camera:dam-xinluao", "camera:dam-dongao", ""]

    page.keyboard.press("t")  # cycling off
    expect(page.locator("#cycle")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("g")
    expect(page.locator("#group-select")).to_have_value("towns")
    page.keyboard.press("Shift+G")
    expect(page.locator("#group-select")).to_have_value("reservoirs")
    page.locator("#group-select").select_option("port")
    assert tiles(page) == [
        "camera:port-chuanshan",
        "camera:port-beilun",
        "camera:bridge-daxie",
        "camera:bridge-meishan",
    ]
    # One tile: a group of four is paged through before the next group.
    page.keyboard.press("1")
    assert tiles(page) == ["camera:port-chuanshan"]
    page.locator("#group-next").click()
    assert tiles(page) == ["camera:port-beilun"]

    # The tiles saved as the user's own group, and the layout under a name.
    page.keyboard.press("2")
    page.locator("#layouts-toggle").click()
    page.locator("#save-name").fill("港区早班")
    page.locator("#save-group").click()
    expect(page.locator("#user-groups")).to_contain_text("港区早班")
    page.locator("#save-layout").click()
    expect(page.locator("#pop-status")).to_have_text("请先输入名称")
    page.locator("#save-name").fill("四画面")
    page.locator("#save-layout").click()
    expect(page.locator("#saved-list")).to_contain_text("四画面")
    page.keyboard.press("Escape")
    mine = page.locator("#group-select option", has_text="港区早班")
    expect(mine).to_have_count(1)
    doc = eventually(
        lambda: (
            (d := center.get("/api/me/layouts", "operator").json())["saved"] and d["groups"] and d
        )
    )
    assert doc["groups"][0]["name"] == "港区早班"
    assert doc["groups"][0]["sources"] == [
        "camera:port-chuanshan",
        "camera:port-beilun",
        "camera:bridge-daxie",
        "camera:bridge-meishan",
    ]
    assert doc["saved"][0]["name"] == "四画面"

    # A saved layout brings back its grid and tiles.
    page.keyboard.press("4")
    page.locator("#layouts-toggle").click()
    page.locator("#saved-list button", has_text="打开").click()
    expect(page.locator("#wall-grid")).to_have_attribute("data-count", "4")
    assert tiles(page)[:2] == ["camera:port-chuanshan", "camera:port-beilun"]


def test_shortcuts_help_full_screen_and_focus(page: Page, center: RunningCenter) -> None:
    alert = add_alert(center)
    open_wall(page, center)
    page.keyboard.press("?")
    help_box = page.locator("#wall-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("确认最前面的告警")
    expect(help_box.locator("kbd")).to_have_count(21)
    expect(help_box.locator(".help-close")).to_be_focused()
    page.keyboard.press("1")  # the help takes no shortcuts but its own
    expect(page.locator("#wall-grid")).to_have_attribute("data-count", "4")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    for key, count in (("1", "1"), ("2", "4"), ("3", "9"), ("4", "16"), ("5", "6")):
        page.keyboard.press(key)
        expect(page.locator("#wall-grid")).to_have_attribute("data-count", count)
        expect(
            page.locator(f'[data-preset="{"custom" if key == "5" else count}"]')
        ).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("2")

    # V goes to the tiles; the focus is drawn (a visible outline), arrows move it.
    page.keyboard.press("v")
    expect(cell(page, 0)).to_be_focused()
    outline = cell(page, 0).evaluate("(c) => getComputedStyle(c).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("ArrowDown")
    expect(cell(page, 2)).to_be_focused()

    # F: the tile full screen on the main stream, with sound; Esc back to the tile.
    page.keyboard.press("f")
    full = page.locator(".wall-full .tile")
    expect(full).to_have_attribute("data-source", "camera:river-xiaogang")
    assert "stream=main" in full.evaluate("(t) => t.player.url")
    assert full.evaluate("(t) => t.player.audio") is True
    page.keyboard.press("Escape")
    expect(page.locator(".wall-full")).to_have_count(0)
    expect(cell(page, 2)).to_be_focused()
    cell(page, 1).dblclick()
    expect(full).to_have_attribute("data-source", "camera:dam-dongao")
    page.keyboard.press("f")
    expect(page.locator(".wall-full")).to_have_count(0)

    # L goes to the alert list, A acknowledges from it; severity is a word and a shape.
    page.keyboard.press("l")
    row = page.locator(f'#alert-list tbody tr[data-alert-id="{alert.id}"]')
    expect(row).to_be_focused()
    badge = row.locator(".sev")
    expect(badge).to_have_text("危险")
    shape = badge.evaluate("(b) => getComputedStyle(b, '::before').transform")
    assert shape not in ("", "none")  # the danger diamond
    page.keyboard.press("a")
    expect(row).to_contain_text("已确认")
    expect(page.locator("#strip-alert")).to_contain_text("无未确认告警")


def test_the_enable_sound_control_when_the_browser_holds_audio_back(
    page: Page, center: RunningCenter
) -> None:
    # As without a user gesture: the audio context starts suspended until a click resumes it.
    page.add_init_script(
        """(() => {
          const Real = window.AudioContext;
          let allowed = false;
          window.AudioContext = class extends Real {
            constructor(...a) { super(...a); if (!allowed) this.suspend(); }
            resume() { allowed = true; return super.resume(); }
          };
        })()"""
    )
    open_wall(page, center)
    sound = page.locator("#sound")
    expect(sound).to_have_attribute("data-state", "blocked")
    expect(sound).to_have_text("启用声音")
    sound.click()
    expect(sound).to_have_attribute("data-state", "on")
    expect(sound).to_have_text("声音：开")
    page.keyboard.press("m")
    expect(sound).to_have_attribute("data-state", "off")
    expect(sound).to_have_text("声音：关")


def test_crew_sees_the_wall_without_acknowledge(page: Page, center: RunningCenter) -> None:
    alert = add_alert(center)
    open_wall(page, center, "crew")
    expect(page.locator("#strip-alert")).to_contain_text("芦江大碶站")
    expect(page.locator('#strip-alert button[data-action="ack"]')).to_have_count(0)
    expect(page.locator("#alert-list button[data-action]")).to_have_count(0)
    page.keyboard.press("a")
    # Filters by state and severity work for every role.
    page.locator('#alert-list button[data-severity="danger"]').click()
    expect(page.locator("#alert-list tbody tr")).to_have_count(0)
    page.locator('#alert-list button[data-severity="danger"]').click()
    expect(page.locator("#alert-list tbody tr")).to_have_count(1)
    assert center.get(f"/api/alerts/{alert.id}").json()["state"] == "active"
