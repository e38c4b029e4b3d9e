"""The export report's title: as given, or, in English, said from the cause of an incident that
an alert opened, as the dashboard does."""

from __future__ import annotations

from ecc.command_center.report import Text, describe, incident_title
from ecc.config import EXAMPLE_SITE, load_site
from ecc.incidents import lifecycle
from ecc.incidents.timeline import Entry
from ecc.storage.models import Area

CAUSE = {"source": "station:zhonghe-xinqi", "kind": "rise", "metric": "water_level"}
TITLE = "中河新碶站 · 1 小时涨幅 0.45 m"


def test_an_alerts_incident_is_titled_in_the_reports_language() -> None:
    site = load_site(EXAMPLE_SITE)
    auto = lifecycle.opened(
        "i1", TITLE, "warning", Area(), 0.0, None, cause={**CAUSE, "severity": "warning"}
    )
    assert incident_title(auto, site, Text("zh-CN")) == TITLE
    assert (
        incident_title(auto, site, Text("en")) == "Zhong River at Xinqi · Water level: rising fast"
    )
    retitled = lifecycle.edited(auto, 60.0, "operator", title="新碶内涝")
    assert incident_title(retitled, site, Text("en")) == "新碶内涝"
    by_hand = lifecycle.opened("i2", "港区火情", "danger", Area(), 0.0, "operator")
    assert incident_title(by_hand, site, Text("en")) == "港区火情"


def test_the_timeline_says_the_opening_in_the_reports_language() -> None:
    site = load_site(EXAMPLE_SITE)
    cause = {**CAUSE, "severity": "warning"}
    opening = Entry(0.0, "incident.opened", None, {"title": TITLE, "cause": cause})
    assert describe(opening, site, Text("zh-CN")) == TITLE
    assert describe(opening, site, Text("en")) == "Zhong River at Xinqi · Water level: rising fast"
    link = {"source": "station:zhonghe-xinqi", "severity": "warning", "message": "水位上涨"}
    linked = Entry(0.0, "incident.linked", None, link)
    assert describe(linked, site, Text("zh-CN")).endswith("· 水位上涨")
    assert describe(linked, site, Text("en")) == "Zhong River at Xinqi · Warning"


def test_a_cameras_intrusion_is_said_by_its_zone_name() -> None:
    site = load_site(EXAMPLE_SITE)
    detail = {
        "source": "camera:dam-dongao",
        "alert_kind": "intrusion",
        "metric": "crest",
        "severity": "danger",
        "value": 0.14,
    }
    raised = Entry(0.0, "alert.raised", None, detail)
    assert describe(raised, site, Text("zh-CN")).endswith("坝顶 · 区域入侵 · 危险")
    assert describe(raised, site, Text("en")).endswith("坝顶 · Intrusion · Danger")
