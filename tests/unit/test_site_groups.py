"""Camera groups in the site file: what the wall shows together and cycles through."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecc.config import EXAMPLE_SITE, ConfigError, load_site

SITE = """
name = "测试区"
[map]
center_lat = 29.9
center_lon = 121.8

[[cameras]]
id = "c1"
name = "一号"
lat = 29.9
lon = 121.8
main = "rtsp://10.0.0.1/1"
"""


def load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    load_site(path)


def test_the_example_site_has_groups_of_its_own_cameras() -> None:
    site = load_site(EXAMPLE_SITE)
    cameras = {c.id for c in site.cameras}
    assert len(site.groups) >= 3
    for group in site.groups:
        assert group.name and group.name_en
        assert set(group.cameras) <= cameras
    assert site.linked_camera_radius_m > 0


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (
            '[[groups]]\nid = "g"\nname = "组"\ncameras = ["nowhere"]\n',
            "no camera has id 'nowhere'",
        ),
        (
            '[[groups]]\nid = "g"\nname = "组"\ncameras = ["c1"]\n' * 2,
            "groups: id 'g' is used twice",
        ),
        ('[[groups]]\nid = "g"\nname = "组"\ncameras = []\n', 'groups[0] (id "g").cameras'),
        (
            '[[groups]]\nid = "g"\nname = "组"\ncameras = ["c1"]\ndwell_s = 1\n',
            'groups[0] (id "g").dwell_s',
        ),
        ('[[groups]]\nid = "g"\nname = "组"\ncamera = ["c1"]\n', "camera: unknown key"),
        ("linked_camera_radius_m = -5\n", "linked_camera_radius_m"),
    ],
)
def test_bad_groups_are_named(tmp_path: Path, groups: str, expected: str) -> None:
    text = SITE.replace("[map]", groups + "[map]") if groups.startswith("linked") else SITE + groups
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert expected in str(err.value)
