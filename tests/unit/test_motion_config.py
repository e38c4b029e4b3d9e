from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ecc.config import ConfigError, load_site
from ecc.config.motion import CameraMotion, MotionZone
from ecc.media.motion_worker import RateLimit, armed

CAMERA = """
name = "测试区"
[map]
center_lat = 29.9
center_lon = 121.8

[[cameras]]
id = "dam"
name = "大坝"
lat = 29.9
lon = 121.8
main = "rtsp://10.0.0.1/101"
"""
SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]


def zone(**kw: Any) -> dict[str, Any]:
    return {"id": "crest", "polygon": SQUARE, **kw}


@pytest.mark.parametrize(
    ("motion", "message"),
    [
        ({"fps": 0}, "fps"),
        ({"height": 4000}, "height"),
        ({"zones": [zone(polygon=[[0.1, 0.1], [0.9, 0.1]])]}, "at least 3"),
        (
            {"zones": [zone(polygon=[[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]])]},
            "less than or equal to 1",
        ),
        ({"zones": [zone(polygon=[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]])]}, "no area"),
        ({"zones": [zone(sensitivity=2)]}, "sensitivity"),
        ({"zones": [zone(intrusion="panic")]}, "intrusion"),
        ({"zones": [zone(active_hours=["25:00-06:00"])]}, "range of local times"),
        ({"zones": [zone(active_hours=["06:00-06:00"])]}, "empty"),
        ({"zones": [zone(), zone()]}, "used twice"),
        ({"zones": [zone(colour="red")]}, "colour"),
        ({"masks": [{"polygon": SQUARE, "name": "clock", "kind": "x"}]}, "kind"),
    ],
)
def test_bad_motion_settings_are_refused_with_their_key(
    motion: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        CameraMotion.model_validate(motion)


def test_a_site_file_with_a_typo_in_a_zone_names_the_camera_and_key(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        CAMERA + '[cameras.motion]\n[[cameras.motion.zones]]\nid = "crest"\n'
        "polygon = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]\nsensitivty = 0.3\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError,
        match=r'cameras\[0\] \(id "dam"\)\.motion\.zones\[0\] '
        r'\(id "crest"\)\.sensitivty: unknown key',
    ):
        load_site(path)


def test_zones_take_the_camera_defaults_and_none_means_the_whole_picture() -> None:
    motion = CameraMotion(
        sensitivity=0.8, min_duration_s=2, zones=[MotionZone(**zone(min_area=0.01))]
    )
    [crest] = motion.effective_zones()
    assert (crest.sensitivity, crest.min_area, crest.min_duration_s) == (0.8, 0.01, 2)
    [whole] = CameraMotion().effective_zones()
    assert whole.id == "frame" and whole.min_area == 0.001


@pytest.mark.parametrize(
    ("hours", "local", "expected"),
    [
        ([], "12:00", True),
        (["18:00-07:00"], "23:30", True),
        (["18:00-07:00"], "06:59", True),
        (["18:00-07:00"], "07:00", False),
        (["18:00-07:00"], "12:00", False),
        (["08:00-12:00", "13:00-24:00"], "12:30", False),
        (["08:00-12:00", "13:00-24:00"], "23:59", True),
    ],
)
def test_intrusion_alerts_are_armed_in_active_hours_local_time(
    hours: list[str], local: str, expected: bool
) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    h, m = (int(p) for p in local.split(":"))
    ts = datetime(2026, 7, 12, h, m, tzinfo=tz).timestamp()
    assert armed(MotionZone(**zone(active_hours=hours)), ts, tz) is expected


def test_rate_limit_holds_back_above_the_limit_and_recovers_at_half() -> None:
    rate = RateLimit(per_hour=4)
    assert [rate.admit(t) for t in (0, 10, 20, 30)] == [True] * 4
    assert rate.admit(40) is False and rate.limited
    assert rate.recovered(100) is False
    # An hour later only the starts at 30 and 40 s are still in the window: half the limit.
    assert rate.recovered(3629) is True and not rate.limited
    assert rate.admit(3630) is True
