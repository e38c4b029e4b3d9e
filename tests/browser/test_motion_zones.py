"""Motion on the dashboard: an admin draws a zone over a camera's still and saves it (read back
by the site loader), and an intrusion a motion worker raises appears on the alerts page."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import cv2
import pytest
from playwright.sync_api import Page, expect

from ecc.bus import Topics
from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, load_site
from ecc.config.motion import CameraMotion, MotionZone
from ecc.media.motion_worker import MotionContext, MotionWorker
from ecc.media.sampler import SourceOptions
from ecc.media.snapshot import write_snapshot
from tests.browser.helpers import HAN, publisher, sign_in
from tests.support.center import RunningCenter
from tests.support.data import VIDEO
from tests.support.ingest import RunningPart
from tests.support.motion_clips import encode
from tests.support.scenes import Mover, Scene

pytestmark = pytest.mark.browser

# Corners clicked, as fractions of the picture: a walkway along the table.
WALKWAY = [(0.25, 0.3), (0.7, 0.3), (0.75, 0.9), (0.2, 0.9)]


def still_of(clip: Path, at_s: float) -> bytes:
    with av.open(str(clip)) as container:
        container.seek(int(at_s * 1_000_000))
        frame = next(f for f in container.decode(video=0) if f.time is not None and f.time >= at_s)
        ok, jpeg = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"))
    assert ok
    return jpeg.tobytes()


def test_an_admin_draws_a_zone_over_the_still_and_saves_it(
    page: Page, center: RunningCenter, settings: Settings, artifacts: Path
) -> None:
    # The still the camera worker would have written.
    write_snapshot(
        settings.data_dir, "dam-dongao", still_of(VIDEO / "one-by-one-person-detection.mp4", 8)
    )
    sign_in(page, center, "admin", "/admin/zones")
    view = page.locator("#view")
    expect(view).to_have_attribute("data-ready", "true")
    # The first camera has no still yet: the editor says so and still lets one draw.
    stage = page.locator("#zone-stage")
    expect(stage).to_have_attribute("data-still", "none")
    expect(page.locator("#zone-no-still")).to_be_visible()
    page.select_option("#zone-camera", "dam-dongao")
    expect(page).to_have_url(f"{center.url}/admin/zones#dam-dongao")
    expect(view).to_have_attribute("data-ready", "true")
    expect(stage).to_have_attribute("data-still", "loaded")
    expect(page.locator("#zone-camera")).to_have_value("dam-dongao")
    expect(page.locator("#zone-source")).to_have_text("当前设置：站点文件")
    # The site file's two zones and one mask, drawn and listed.
    expect(page.locator("#zone-svg g.shape")).to_have_count(3)
    expect(page.locator("#shape-list li")).to_have_count(3)
    expect(page.locator('#nav a[href="/admin/zones"]')).to_have_attribute("aria-current", "page")

    page.click("#new-zone")
    expect(page.locator("#zone-hint")).to_contain_text("单击添加顶点")
    box = stage.bounding_box()
    assert box is not None
    for x, y in WALKWAY:
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.click("#finish-shape")
    expect(page.locator("#shape-panel")).to_be_visible()
    expect(page.locator("#shape-id")).to_have_value("zone-1")
    page.fill("#shape-id", "walkway")
    page.fill("#shape-name", "步道")
    page.fill("#shape-sensitivity", "0.7")
    page.fill("#shape-min-area", "0.5")
    page.fill("#shape-min-duration", "2")
    page.select_option("#shape-intrusion", "danger")
    page.fill("#shape-hours", "25:00-07:00")
    expect(page.locator("#zone-status")).to_have_text("有未保存的修改")

    # A wrong hour: refused, and the message says which field of which zone.
    page.click("#save-zones")
    error = page.locator("#zone-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("zones[2] (walkway).active_hours")
    expect(error).to_contain_text("25:00-07:00")
    assert center.get("/api/cameras/dam-dongao/motion-config").json()["saved"] is False

    page.fill("#shape-hours", "18:00-07:00")
    page.click("#save-zones")
    expect(page.locator("#zone-status")).to_have_text("已保存，摄像机立即按新设置分析")
    expect(error).to_be_hidden()
    expect(page.locator("#zone-source")).to_have_text("当前设置：在本页面保存")
    expect(page.locator("#zone-svg g.shape")).to_have_count(4)
    page.locator("#shape-list button", has_text="步道").click()
    expect(page.locator("#zone-svg g.selected circle.corner")).to_have_count(4)
    page.screenshot(path=str(artifacts / "motion-zones-editor.png"))

    saved = center.get("/api/cameras/dam-dongao/motion-config").json()
    [walkway] = [z for z in saved["motion"]["zones"] if z["id"] == "walkway"]
    assert walkway["name"] == "步道"
    assert walkway["sensitivity"] == 0.7
    assert walkway["min_area"] == pytest.approx(0.005)
    assert walkway["min_duration_s"] == 2
    assert walkway["intrusion"] == "danger"
    assert walkway["active_hours"] == ["18:00-07:00"]
    for (x, y), (want_x, want_y) in zip(walkway["polygon"], WALKWAY, strict=True):
        assert (x, y) == (pytest.approx(want_x, abs=0.01), pytest.approx(want_y, abs=0.01))
    # The site loader (what every process reads at start) sees the saved zones.
    motion = load_site(settings.site).camera("dam-dongao").motion  # type: ignore[union-attr]
    assert motion is not None and [z.id for z in motion.zones] == ["crest", "gate", "walkway"]

    # A corner dragged elsewhere, and saved again.
    x0, y0 = WALKWAY[0]
    page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.2 * box["height"], steps=5)
    page.mouse.up()
    expect(page.locator("#zone-status")).to_have_text("有未保存的修改")
    page.click("#save-zones")
    expect(page.locator("#zone-status")).to_have_text("已保存，摄像机立即按新设置分析")
    saved = center.get("/api/cameras/dam-dongao/motion-config").json()
    [walkway] = [z for z in saved["motion"]["zones"] if z["id"] == "walkway"]
    assert walkway["polygon"][0] == [pytest.approx(0.3, abs=0.01), pytest.approx(0.2, abs=0.01)]

    # In English, the page's own words are English (zone names are the site's own data).
    page.click("#lang-toggle")
    expect(page.locator("#save-zones")).to_have_text("Save")
    expect(page.locator("#zone-status")).to_have_text(
        "Saved; the camera is analysed with the new settings now"
    )
    chrome = page.locator(".zone-tools, .zone-panel legend, .zone-panel label > span, #zone-hint")
    assert not HAN.search(" ".join(chrome.all_inner_texts()))
    page.screenshot(path=str(artifacts / "motion-zones-editor-en.png"))


def test_an_operator_has_no_zone_editor(page: Page, center: RunningCenter) -> None:
    sign_in(page, center, "operator", "/admin/zones")
    expect(page.locator("#view")).to_have_attribute("data-ready", "true")
    expect(page.locator('#nav a[href="/admin/zones"]')).to_have_count(0)
    expect(page.locator("#zone-error")).to_contain_text("role operator may not config.manage")
    expect(page.locator("#save-zones")).to_be_disabled()


def test_an_intrusion_reaches_the_alerts_page(
    page: Page,
    center_on_broker: RunningCenter,
    broker: PrivateBroker,
    settings: Settings,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    center = center_on_broker
    clip = encode(
        Scene(duration=7, movers=[Mover(1.5, 4.5, 0.1, 0.5, 0.9, 0.55)]), tmp_path / "walker.mp4"
    )
    dam = center.site.camera("dam-dongao")
    assert dam is not None
    crest = MotionZone(
        id="crest", name="坝顶", polygon=[(0, 0.35), (1, 0.35), (1, 0.75), (0, 0.75)]
    )
    camera = dam.model_copy(
        update={"motion": CameraMotion(zones=[crest.model_copy(update={"intrusion": "danger"})])}
    )
    with publisher(center, broker) as client:
        sign_in(page, center, "operator", "/alerts")
        expect(page.locator("#alert-list")).to_have_attribute("data-ready", "true")
        lock = threading.Lock()

        def publish(topic: str, payload: bytes) -> None:
            with lock:
                client.publish(topic, payload, qos=1)

        context = MotionContext(
            center.store, publish, Topics(settings.mqtt_prefix), settings.data_dir
        )
        # A motion worker on the clip, as a camera worker runs one on its sub stream.
        with RunningPart(MotionWorker(camera, context, SourceOptions(str(clip)))):
            row = page.locator("#alert-list tbody tr[data-alert-id]")
            expect(row).to_have_count(1, timeout=30_000)
        [alert] = center.store.alerts.list()
        assert alert.kind == "intrusion" and alert.metric == "crest"
        expect(row).to_have_attribute("data-alert-id", alert.id)
        expect(row.locator(".sev")).to_have_text("危险")
        expect(row).to_contain_text("东岙水库大坝")
        expect(row).to_contain_text("区域入侵")
        expect(row).to_contain_text("未确认")
        page.screenshot(path=str(artifacts / "motion-intrusion-alert.png"))
