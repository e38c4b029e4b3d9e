"""The motion detector on synthetic scenes with known movement and known changes of light."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from ecc.config.motion import CameraMotion
from ecc.media.motion import Frame, MotionChange, MotionDetector
from tests.support.scenes import Light, Mover, Scene

T0 = 1_780_000_000.0
# A person-sized thing walking across the middle of the picture from 2.0 s to 5.0 s.
WALKER = Mover(2.0, 5.0, 0.1, 0.5, 0.9, 0.55)


def run(scene: Scene, **config: Any) -> list[MotionChange]:
    detector = MotionDetector(CameraMotion.model_validate(config))
    changes: list[MotionChange] = []
    for i in range(scene.frame_count):
        # Render only the frames the detector will look at: the rest cost time and test nothing.
        t = i / scene.fps
        if detector.due(T0 + t):
            changes += detector.feed(Frame(scene.render(t, i), T0 + t))
    return changes + detector.flush(T0 + scene.duration)


def spans(changes: list[MotionChange]) -> list[tuple[str, float, float | None]]:
    ends = [c.motion for c in changes if c.kind == "end"]
    return [(m.zone, m.start - T0, None if m.end is None else m.end - T0) for m in ends]


def test_a_walker_makes_one_event_with_the_right_start_and_end() -> None:
    changes = run(Scene(duration=8, movers=[WALKER]))
    assert [c.kind for c in changes] == ["start", "end"]
    start, end = changes
    assert start.motion.id == end.motion.id
    assert start.motion.end is None
    [(zone, t0, t1)] = spans(changes)
    assert zone == "frame"
    assert t0 == pytest.approx(2.0, abs=0.5)
    assert t1 == pytest.approx(5.0, abs=0.5)
    # The start is announced once the movement has lasted min_duration_s (1 s by default).
    assert end.motion.peak_score > 0
    _, y, w, h = end.motion.box
    assert 0.4 < y + h / 2 < 0.65 and w < 0.3 and h < 0.4
    thumbnail = end.motion.thumbnail
    assert thumbnail is not None and thumbnail[:2] == b"\xff\xd8"
    picture = cv2.imdecode(np.frombuffer(thumbnail, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape[0] == 360


@pytest.mark.parametrize(
    "light",
    [
        pytest.param(Light("dusk", 1, 11, 0.6), id="dusk"),
        pytest.param(Light("step", 2, 2, 0.7), id="auto-exposure-step"),
        pytest.param(Light("night", 2, 2, -0.4), id="night-mode-switch"),
        pytest.param(Light("cloud", 1, 5, 0.5), id="cloud-shadow"),
        pytest.param(Light("cloud", 1, 2.5, 0.5), id="fast-cloud-shadow"),
        pytest.param(Light("headlights", 1, 4, 0.8), id="headlights"),
    ],
)
def test_changes_of_light_make_no_event(light: Light) -> None:
    assert run(Scene(duration=12, lights=[light])) == []


def test_a_walker_under_a_passing_cloud_is_still_found() -> None:
    scene = Scene(duration=8, movers=[WALKER], lights=[Light("cloud", 0.5, 6, 0.4)])
    [(_, t0, t1)] = spans(run(scene))
    # The shadow's edge crossing where the walker went can keep the event up a moment longer.
    assert t0 == pytest.approx(2.0, abs=0.5) and t1 == pytest.approx(5.0, abs=1.0)


def test_zones_masks_and_their_thresholds() -> None:
    scene = Scene(duration=8, movers=[WALKER])
    top = [[0, 0], [1, 0], [1, 0.3], [0, 0.3]]
    middle = [[0, 0.35], [1, 0.35], [1, 0.75], [0, 0.75]]
    # Movement outside every zone makes nothing.
    assert run(scene, zones=[{"id": "sky", "polygon": top}]) == []
    # A zone it crosses names the event; a zone it does not cross stays quiet.
    changes = run(
        scene,
        zones=[{"id": "sky", "polygon": top}, {"id": "crest", "polygon": middle}],
    )
    assert [z for z, _, _ in spans(changes)] == ["crest"]
    # A mask over its path hides it.
    assert run(scene, masks=[{"polygon": middle}]) == []
    # Too small for the zone's minimum area.
    assert run(scene, zones=[{"id": "crest", "polygon": middle, "min_area": 0.05}]) == []
    # Too faint for a zone of low sensitivity: the thing is darker than the ground by ~70.
    faint = Scene(duration=8, movers=[Mover(2.0, 5.0, 0.1, 0.5, 0.9, 0.55, shade=95)])
    assert spans(run(faint, sensitivity=1.0))
    assert run(faint, sensitivity=0.0) == []


def test_movement_shorter_than_the_minimum_duration_is_no_event() -> None:
    blip = Scene(duration=6, movers=[Mover(2.0, 2.5, 0.3, 0.5, 0.4, 0.5)])
    assert run(blip, min_duration_s=1.0) == []
    [(_, t0, _)] = spans(run(blip, min_duration_s=0))
    assert t0 == pytest.approx(2.0, abs=0.25)


def test_gaps_shorter_than_end_after_join_one_event_and_longer_split_it() -> None:
    walkers = [Mover(1.0, 3.0, 0.1, 0.5, 0.5, 0.5), Mover(4.0, 6.0, 0.5, 0.5, 0.9, 0.5)]
    scene = Scene(duration=9, movers=walkers)
    assert len(spans(run(scene, end_after_s=2.0))) == 1
    assert [round(t0) for _, t0, _ in spans(run(scene, end_after_s=0.5))] == [1, 4]


def test_someone_who_stops_is_taken_into_the_background() -> None:
    # Walks in and stands still from 3 s to the end: the event ends soon after they stop.
    scene = Scene(
        duration=16,
        movers=[Mover(1.0, 3.0, 0.1, 0.5, 0.5, 0.5), Mover(3.0, 16, 0.5, 0.5, 0.5, 0.5)],
    )
    [(_, t0, t1)] = spans(run(scene))
    assert t0 == pytest.approx(1.0, abs=0.5)
    assert t1 is not None and t1 < 10


def test_analysis_rate_and_size_follow_the_config() -> None:
    detector = MotionDetector(CameraMotion(fps=2, height=90))
    scene = Scene(duration=3, movers=[WALKER])
    for t, image in scene.frames():
        detector.feed(Frame(image, T0 + t))
    assert detector.analysed == 6
    assert detector._layout is not None
    assert (detector._layout.width, detector._layout.height) == (160, 90)


def test_grey_and_colour_frames_give_the_same_events() -> None:
    scene = Scene(duration=8, movers=[WALKER])
    detector = MotionDetector(CameraMotion())
    changes: list[MotionChange] = []
    for t, image in scene.frames():
        changes += detector.feed(Frame(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), T0 + t))
    assert [(z, round(a, 1), b and round(b, 1)) for z, a, b in spans(changes)] == [
        (z, round(a, 1), b and round(b, 1)) for z, a, b in spans(run(scene))
    ]
