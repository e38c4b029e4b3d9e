"""GET/PUT /api/me/layouts: each user's wall, kept in the store, checked against the site."""

from __future__ import annotations

from typing import Any

from tests.support.center import RunningCenter

FLOOD = [
    "camera:dam-ruiyansi",
    "camera:dam-dongao",
    "camera:river-xiaogang",
    "camera:underpass-mingzhou",
]


def put(center: RunningCenter, username: str, doc: dict[str, Any]) -> Any:
    with center.client(username) as c:
        return c.put("/api/me/layouts", json=doc)


def test_a_first_visit_shows_the_site_s_first_group(center: RunningCenter) -> None:
    doc = center.get("/api/me/layouts", "crew").json()
    assert doc["current"]["group"] == "flood"
    assert doc["current"]["tiles"] == FLOOD
    assert doc["current"]["preset"] == "4"
    assert doc["saved"] == [] and doc["groups"] == []
    site = center.get("/api/site", "crew").json()
    assert [g["id"] for g in site["groups"]][:1] == ["flood"]
    assert site["linked_camera_radius_m"] == 5000


def test_layouts_are_kept_per_user(center: RunningCenter) -> None:
    doc = {
        "current": {
            "preset": "custom",
            "custom": {"cols": 4, "rows": 3, "big": True},
            "tiles": ["camera:port-beilun", None, "vehicle:cmd-1"],
            "group": None,
            "cycle": True,
            "cycle_s": 20,
        },
        "saved": [{"name": "夜班", "layout": {"preset": "9", "tiles": ["camera:dam-dongao"]}}],
        "groups": [{"id": "u-port", "name": "港口", "sources": ["camera:port-beilun"]}],
    }
    r = put(center, "operator", doc)
    assert r.status_code == 200, r.text
    got = center.get("/api/me/layouts", "operator").json()
    assert got["current"]["tiles"] == ["camera:port-beilun", None, "vehicle:cmd-1"]
    assert got["current"]["custom"] == {"cols": 4, "rows": 3, "big": True}
    assert got["saved"][0]["name"] == "夜班"
    assert got["saved"][0]["layout"]["tiles"] == ["camera:dam-dongao"]
    assert got["groups"] == doc["groups"]
    # Another user's wall is untouched; PUT again replaces the whole document.
    assert center.get("/api/me/layouts", "leader").json()["current"]["tiles"] == FLOOD
    assert put(center, "operator", {"current": {"preset": "1"}}).status_code == 200
    again = center.get("/api/me/layouts", "operator").json()
    assert again["current"]["preset"] == "1" and again["saved"] == []


BAD: list[tuple[dict[str, Any], str]] = [
    ({"current": {"tiles": ["camera:atlantis"]}}, "the site has no camera:atlantis"),
    ({"groups": [{"id": "u-x", "name": "x", "sources": ["vehicle:zeppelin"]}]}, "zeppelin"),
    ({"current": {"tiles": ["rtsp://10.0.0.1/1"]}}, "tiles"),
    ({"current": {"tiles": ["camera:port-beilun"] * 17}}, "tiles"),
    ({"current": {"preset": "25"}}, "preset"),
    ({"current": {"custom": {"cols": 1, "rows": 3, "big": True}}}, "large first tile"),
    ({"current": {"cycle_s": 1}}, "cycle_s"),
    ({"saved": [{"name": "a", "layout": {}}, {"name": "a", "layout": {}}]}, "same name"),
    ({"groups": [{"id": "flood", "name": "x", "sources": ["camera:dam-dongao"]}]}, "id"),
    ({"current": {"zoom": 3}}, "zoom"),
]


def test_bad_layouts_are_refused_with_the_reason(center: RunningCenter) -> None:
    for doc, detail in BAD:
        r = put(center, "operator", doc)
        assert r.status_code == 422, (doc, r.text)
        assert detail in r.text, (doc, r.text)
    # Nothing of it was kept.
    assert center.get("/api/me/layouts", "operator").json()["current"]["tiles"] == FLOOD


def test_cameras_gone_from_the_site_file_leave_saved_layouts(center: RunningCenter) -> None:
    center.store.state.put(
        "layouts/operator",
        {
            "current": {"tiles": ["camera:demolished", "camera:port-beilun"]},
            "groups": [
                {"id": "u-a", "name": "a", "sources": ["camera:demolished", "vehicle:cmd-2"]},
                {"id": "u-b", "name": "b", "sources": ["camera:demolished"]},
            ],
        },
    )
    got = center.get("/api/me/layouts", "operator").json()
    assert got["current"]["tiles"] == [None, "camera:port-beilun"]
    assert got["groups"] == [{"id": "u-a", "name": "a", "sources": ["vehicle:cmd-2"]}]
