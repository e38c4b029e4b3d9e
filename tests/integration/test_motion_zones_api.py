"""The zone editor's API on a real center: a camera's still, and its motion settings saved to the
site's sidecar (read back by load_site), announced on the bus, refused with a 422 that names the
field when wrong; the hand-written site file is never rewritten."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ecc.config import Settings, load_site
from ecc.config.motion import CameraMotion
from ecc.config.sidecar import sidecar_path
from ecc.media.snapshot import keyframe_jpeg, write_snapshot
from tests.support.center import RunningCenter
from tests.support.motion_clips import access_units, encode
from tests.support.scenes import Scene
from tests.support.video import wait_for

URL = "/api/cameras/dam-dongao/motion-config"
ZONES: dict[str, Any] = {
    "sensitivity": 0.6,
    "zones": [
        {
            "id": "crest",
            "name": "坝顶",
            "polygon": [[0.1, 0.35], [0.95, 0.35], [1.0, 1.0], [0.0, 1.0]],
            "min_area": 0.002,
            "min_duration_s": 1.5,
            "intrusion": "danger",
            "active_hours": ["18:00-07:00"],
        }
    ],
    "masks": [{"name": "窗户", "polygon": [[0.0, 0.0], [0.12, 0.0], [0.12, 0.3]]}],
}


def listen(center: RunningCenter, topic: str) -> tuple[list[dict[str, Any]], threading.Event]:
    got: list[dict[str, Any]] = []
    heard = threading.Event()

    def handler(_topic: str, payload: bytes) -> None:
        got.append(json.loads(payload))
        heard.set()

    center.app.state.bus.subscribe(topic, handler)
    return got, heard


def test_saved_zones_reach_the_sidecar_the_site_loader_and_the_bus(
    center: RunningCenter, settings: Settings
) -> None:
    site_text = settings.site.read_bytes()
    own = load_site(settings.site).camera("dam-dongao")
    assert own is not None and own.motion is not None
    got, heard = listen(center, "ecc/v1/cameras/+/motion/config")

    before = center.get(URL).json()
    assert before["saved"] is False
    assert before["motion"] == own.motion.model_dump(mode="json")
    assert before["defaults"] == CameraMotion().model_dump(mode="json")

    with center.client("admin") as admin:
        r = admin.put(URL, json=ZONES)
    assert r.status_code == 200, r.text
    saved = CameraMotion.model_validate(ZONES)
    assert r.json()["saved"] is True
    assert r.json()["motion"] == saved.model_dump(mode="json")
    assert load_site(settings.site).camera("dam-dongao").motion == saved  # type: ignore[union-attr]
    assert center.get(URL).json()["motion"] == saved.model_dump(mode="json")
    assert heard.wait(5)
    assert got == [{"camera_id": "dam-dongao", "motion": saved.model_dump(mode="json")}]

    # Wrong input: 422 naming the field, and nothing written.
    sidecar = sidecar_path(settings.site).read_bytes()
    bad_corners = {"zones": [{"id": "crest", "polygon": [[0.1, 0.1], [0.5, 0.5]]}]}
    bad_hours = {"zones": [{**ZONES["zones"][0], "active_hours": ["25:00-07:00"]}]}
    with center.client("admin") as admin:
        for body, loc, words in (
            (bad_corners, ["body", "zones", 0, "polygon"], "at least 3"),
            (bad_hours, ["body", "zones", 0, "active_hours"], "25:00-07:00"),
            ({"sensitivity": 2}, ["body", "sensitivity"], "less than or equal to 1"),
            ({"zonez": []}, ["body", "zonez"], "Extra inputs"),
        ):
            r = admin.put(URL, json=body)
            assert r.status_code == 422, r.text
            [problem] = r.json()["detail"]
            assert problem["loc"] == loc and words in problem["msg"], problem
    assert sidecar_path(settings.site).read_bytes() == sidecar
    assert center.get("/api/cameras/atlantis/motion-config").status_code == 404
    with center.client("admin") as admin:
        assert admin.put("/api/cameras/atlantis/motion-config", json={}).status_code == 404

    # Back to the site file: the sidecar forgets the camera, the worker hears the site's own.
    heard.clear()
    with center.client("admin") as admin:
        r = admin.delete(URL)
    assert r.status_code == 200, r.text
    assert r.json()["saved"] is False
    assert r.json()["motion"] == own.motion.model_dump(mode="json")
    assert load_site(settings.site).camera("dam-dongao") == own
    assert heard.wait(5)
    assert got[-1] == {"camera_id": "dam-dongao", "motion": own.motion.model_dump(mode="json")}
    assert settings.site.read_bytes() == site_text


def test_the_still_of_a_camera_is_served_once_its_worker_wrote_one(
    center: RunningCenter, settings: Settings, tmp_path: Path
) -> None:
    path = "/api/cameras/dam-dongao/snapshot.jpg"
    missing = center.get(path, "crew")
    assert missing.status_code == 404 and "no still" in missing.json()["detail"]
    assert center.get("/api/cameras/atlantis/snapshot.jpg").status_code == 404

    # As the camera worker does: the newest keyframe of the stream, decoded once.
    clip = encode(Scene(width=480, height=270, duration=0.5), tmp_path / "still.mp4", width=480)
    jpeg = keyframe_jpeg(access_units(clip)[:1])
    assert jpeg is not None
    write_snapshot(settings.data_dir, "dam-dongao", jpeg)

    r = center.get(path, "crew")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (270, 480, 3)
    # The scene's textured ground, not a grey frame of a failed decode.
    assert float(image.std()) > 5


def test_settings_another_center_node_saved_are_served_here_too(center: RunningCenter) -> None:
    settings = {"camera_id": "town-xinqi", "motion": ZONES}
    center.app.state.bus.publish("ecc/v1/cameras/town-xinqi/motion/config", json.dumps(settings))
    served = CameraMotion.model_validate(ZONES).model_dump(mode="json")
    wait_for(
        lambda: center.get("/api/cameras/town-xinqi/motion-config").json()["motion"] == served,
        5,
        "the node to serve the settings it heard",
    )
    center.app.state.bus.publish(
        "ecc/v1/cameras/town-xinqi/motion/config", json.dumps({"motion": None})
    )
    wait_for(
        lambda: center.get("/api/cameras/town-xinqi/motion-config").json()["motion"] is None,
        5,
        "the settings to be gone",
    )
