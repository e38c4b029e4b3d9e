"""The motion sidecar: settings saved from the zone editor beside the site file, read back by
load_site over the cameras' own, the hand-written site file never touched."""

from __future__ import annotations

import logging

import pytest

from ecc.config import ConfigError, Settings, load_site
from ecc.config.motion import CameraMotion, MotionMask, MotionZone
from ecc.config.sidecar import read_sidecar, save_motion, sidecar_path

GATE = MotionZone(
    id="gate",
    name='溢洪道 "闸门" \\ 1',
    polygon=[(0.6, 0.0), (1.0, 0.0), (1.0, 0.35), (0.6, 0.35)],
    sensitivity=0.75,
    min_area=0.00125,
    min_duration_s=0.5,
    intrusion="critical",
    active_hours=["18:00-07:00", "12:00-13:30"],
)
MOTION = CameraMotion(
    fps=4,
    zones=[GATE, MotionZone(id="crest", polygon=[(0.1, 0.4), (0.9, 0.4), (0.5, 0.9)])],
    masks=[MotionMask(name="窗户", polygon=[(0.0, 0.0), (0.12, 0.0), (0.12, 0.3)])],
)


def test_saved_settings_come_back_whole_over_the_site_file_which_stays_as_it_was(
    settings: Settings,
) -> None:
    site_file = settings.site
    before = site_file.read_bytes()
    own = load_site(site_file)

    path = save_motion(site_file, "dam-dongao", MOTION)
    assert path == sidecar_path(site_file) == site_file.with_name("beilun.motion.toml")
    assert read_sidecar(site_file) == {"dam-dongao": MOTION}
    site = load_site(site_file)
    assert site.camera("dam-dongao").motion == MOTION  # type: ignore[union-attr]
    # Every other camera keeps its own settings; a camera without any gets some.
    for camera in own.cameras:
        if camera.id != "dam-dongao":
            assert site.camera(camera.id) == camera
    save_motion(site_file, "town-xinqi", CameraMotion(enabled=False))
    assert load_site(site_file).camera("town-xinqi").motion == CameraMotion(enabled=False)  # type: ignore[union-attr]
    assert "溢洪道" in path.read_text(encoding="utf-8")  # readable, not escaped

    # Forgetting a camera's settings brings back the site file's.
    save_motion(site_file, "dam-dongao", None)
    assert load_site(site_file).camera("dam-dongao") == own.camera("dam-dongao")
    assert set(read_sidecar(site_file)) == {"town-xinqi"}
    assert site_file.read_bytes() == before
    assert [p.name for p in site_file.parent.iterdir() if p.name.endswith(".part")] == []


def test_a_broken_sidecar_stops_start_up_naming_the_file_and_the_key(settings: Settings) -> None:
    path = sidecar_path(settings.site)
    path.write_text(
        '[cameras.dam-dongao]\nfps = 5\n\n[[cameras.dam-dongao.zones]]\nid = "crest"\n'
        "polygon = [[0.1, 0.1], [0.2, 0.2]]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_site(settings.site)
    message = str(err.value)
    assert str(path) in message
    assert 'cameras.dam-dongao.zones[0] (id "crest").polygon' in message

    path.write_text("[cameras.dam-dongao\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_site(settings.site)
    path.write_text("[zones]\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="zones: unknown key"):
        load_site(settings.site)


def test_settings_of_a_camera_the_site_no_longer_has_are_left_out_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    save_motion(settings.site, "old-camera", MOTION)
    with caplog.at_level(logging.WARNING):
        site = load_site(settings.site)
    assert site.camera("old-camera") is None
    assert "the site has no camera 'old-camera'" in caplog.text


def test_what_toml_cannot_carry_is_refused_and_nothing_written(settings: Settings) -> None:
    odd = CameraMotion(zones=[GATE.model_copy(update={"name": "del\x7f, nul\x00, tab\t"})])
    save_motion(settings.site, "dam-dongao", odd)
    assert read_sidecar(settings.site) == {"dam-dongao": odd}
    before = sidecar_path(settings.site).read_bytes()
    lone = CameraMotion(zones=[GATE.model_copy(update={"name": "\ud800"})])
    with pytest.raises(ValueError, match="cannot be saved"):
        save_motion(settings.site, "dam-dongao", lone)
    assert sidecar_path(settings.site).read_bytes() == before
