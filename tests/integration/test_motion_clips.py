"""Motion detection on real clips (labelled in tests/fixtures/motion_labels.toml) and on a
synthetic scene encoded to H.264, decoded by the same sampler a camera worker uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecc.config.motion import CameraMotion
from tests.support.motion_clips import clips, detect, encode, score
from tests.support.scenes import Light, Mover, Scene

CLIPS = clips()


def test_people_walking_in_and_out_are_found() -> None:
    clip = CLIPS["one-by-one-person-detection.mp4"]
    events, _ = detect(clip.path, CameraMotion())
    s = score(clip, events)
    assert s.recall == 1.0, events
    assert s.precision >= 0.9, events


def test_cars_passing_are_found_despite_the_auto_exposure() -> None:
    clip = CLIPS["car-detection.mp4"]
    events, changes = detect(clip.path, CameraMotion())
    s = score(clip, events)
    assert (s.recall, s.precision) == (1.0, 1.0), events
    # Each event comes with a thumbnail of the frame at its peak.
    assert all(c.motion.thumbnail for c in changes)


def test_a_zone_that_excludes_the_road_makes_no_event_for_the_cars() -> None:
    clip = CLIPS["car-detection.mp4"]
    verge = clip.extra["road_free"]
    events, _ = detect(clip.path, CameraMotion(zones=[{"id": "verge", "polygon": verge}]))
    assert events == []
    # The same cars, with the road masked out of the whole picture: nothing either.
    road = [[0.0, 0.0], [0.8, 0.0], [0.8, 1.0], [0.0, 1.0]]
    events, _ = detect(clip.path, CameraMotion(masks=[{"polygon": road}]))
    assert events == []


@pytest.mark.parametrize("cheap", [True, False], ids=["skip-loop-filter", "full-decode"])
def test_h264_walker_has_the_right_start_and_end_and_light_makes_nothing(
    tmp_path: Path, cheap: bool
) -> None:
    scene = Scene(
        duration=9,
        movers=[Mover(2.0, 5.0, 0.1, 0.5, 0.9, 0.55)],
        lights=[Light("step", 6.5, 6.5, 0.5), Light("headlights", 6.0, 8.5, 0.8)],
    )
    path = encode(scene, tmp_path / "walker.mp4")
    events, _ = detect(path, CameraMotion(), cheap=cheap)
    assert len(events) == 1, events
    [(start, end)] = events
    assert start == pytest.approx(2.0, abs=0.5)
    assert end == pytest.approx(5.0, abs=0.5)


def test_people_are_labelled_as_such_and_cars_are_not() -> None:
    # OpenCV's HOG people detector on the moving region (ecc.media.people): trained on people
    # seen from eye level, it recognises only some of these, seen from high above; a "person"
    # label must never be given to a car.
    people, person_changes = detect(CLIPS["one-by-one-person-detection.mp4"].path, CameraMotion())
    cars, car_changes = detect(CLIPS["car-detection.mp4"].path, CameraMotion())
    labelled = [c.motion.label for c in person_changes if c.kind == "end"]
    assert labelled.count("person") >= 3, labelled
    assert [c.motion.label for c in car_changes if c.kind == "end"] == [None] * len(cars)
    # An event learns it is a person while it goes on, and says so at once.
    updates = [c for c in person_changes if c.kind == "update"]
    assert len(updates) == labelled.count("person")
    assert all(c.motion.label == "person" and c.motion.end is None for c in updates)
    assert len(people) == len(labelled)
