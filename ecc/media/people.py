"""Is the thing that moves a person? OpenCV's built-in HOG people detector on the moving region.

The detector (Dalal and Triggs' histograms of oriented gradients with the linear SVM trained on
INRIA's pedestrians, shipped inside OpenCV) needs no downloaded weights. It was trained on
upright people seen from about eye level, so it finds walkers in a street or on a dam crest
well and people seen from high above, bent or cut by the picture's edge poorly: a "person" label
is a positive statement, its absence says nothing. OpenCV ships no detector for vehicles that
needs no weights (its Haar cascades are faces, bodies and number plates), so vehicles get no
label.

A single look is easily fooled (a white car seen from above, upright in the picture, scores
like a person in one frame out of several), so the motion detector asks for two looks that find
a person, out of at most six, one a second while an event lasts (ecc.media.motion). On the
labelled clips (tests/fixtures/motion_labels.toml) that labels 4 of the 11 events of the people
clip (people seen from high above, walking in, standing, walking out) and none of the 3 events
of the cars clip.

Cost: only the moving region is searched, in grey, scaled so that a person filling it is about
the detector's 64 x 128 window: about 3 ms a look on one core of the reference machine, so at
most 18 ms per event, and nothing while nothing moves.

Blocking (OpenCV): run it in the analysis thread, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]

# The crop is scaled to this height: a person filling the box (96 of the window's 128 pixels,
# the margin around it the rest) then fits the window at the first scales of the search.
CROP_HEIGHT = 160
# Margin around the moving box, as a fraction of its size: the window wants some background
# around a person, and the moving box cuts close.
MARGIN = 0.2
# SVM margin above which a window is taken for a person (the detector's own default, 0, finds
# "people" in much that is textured).
PERSON_SCORE = 0.5
# The thing that moves is the person, so a person's window spans most of the moving box; a
# window on a part of it (a car's windscreen) is not one.
MIN_FILL = 0.8
# Crops narrower than the window are widened to it (with the picture around them).
WINDOW = (64, 128)


@dataclass(frozen=True, slots=True)
class Look:
    score: float
    """The highest SVM margin of any window (negative when nothing looked like a person)."""

    @property
    def person(self) -> bool:
        return self.score >= PERSON_SCORE


class PersonClassifier:
    """One per analysis thread: a HOGDescriptor is not safe to share between threads."""

    def __init__(self) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(
            np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32)
        )
        self.looks = 0

    def look(self, image: Image, box: Box) -> Look:
        """Search the box (fractions of `image`, grey or BGR) for a person."""
        grey: Image = (
            image
            if image.ndim == 2
            else np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)
        )
        crop = _crop(grey, box)
        if crop is None:
            return Look(-np.inf)
        self.looks += 1
        # groupThreshold=0: every window with its own score, not clusters of them.
        windows, weights = self._hog.detectMultiScale(
            crop, hitThreshold=0.0, winStride=(4, 4), padding=(16, 16), scale=1.05, groupThreshold=0
        )
        tall = CROP_HEIGHT * MIN_FILL
        scores = [
            float(score)
            for (_, _, _, height), score in zip(
                np.asarray(windows).reshape(-1, 4), np.ravel(weights), strict=True
            )
            if height >= tall
        ]
        return Look(max(scores, default=-np.inf))


def _crop(image: Image, box: Box) -> Image | None:
    h, w = image.shape[:2]
    x, y, bw, bh = box
    if bw <= 0 or bh <= 0:
        return None
    mx, my = bw * MARGIN, bh * MARGIN
    x0, x1 = max(0, round((x - mx) * w)), min(w, round((x + bw + mx) * w))
    y0, y1 = max(0, round((y - my) * h)), min(h, round((y + bh + my) * h))
    if y1 - y0 < 16 or x1 - x0 < 8:
        return None
    scale = CROP_HEIGHT / (y1 - y0)
    width = round((x1 - x0) * scale)
    if width < WINDOW[0]:
        # Widen around the box's centre, within the picture, rather than stretch the person.
        need = WINDOW[0] / scale
        centre = (x0 + x1) / 2
        x0 = max(0, round(centre - need / 2))
        x1 = min(w, max(x0 + round(need), x1))
        width = max(WINDOW[0], round((x1 - x0) * scale))
    crop = image[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized: Image = np.asarray(
        cv2.resize(crop, (width, CROP_HEIGHT), interpolation=interpolation), np.uint8
    )
    return resized
