"""Motion detection on decoded frames: a background model, zones, and events with a thumbnail.

Fed frames (grey or BGR, any size) with their times, the detector analyses at most
`CameraMotion.fps` of them, shrunk to `CameraMotion.height` pixels, and reports when movement in a
zone starts (after it has lasted the zone's minimum duration) and when it ends.

How a frame is judged:

1. Brightness is normalised first: the frame is scaled so that its median grey level matches the
   background's. A camera's auto exposure, a cloud over the sun or dusk change the whole picture
   at once; after the scaling they leave (almost) no difference. The median, not the mean, so
   that one bright car does not darken everything else.
2. The background is a running average (time constant `adapt_s`) of the frames, updated ten times
   slower where something moves.
3. Pixels that differ from the background by more than their zone's threshold are candidates; if
   more than `global_change` of the analysed picture changed at once, it is a change of light
   (headlights over the whole scene, a camera switching to night mode): the frame counts as no
   movement and the background restarts from it.
4. Candidate blobs whose texture matches the background's (normalised cross-correlation) are
   lighting on a surface, not a thing: a shadow or a beam keeps the pattern of the ground it
   falls on; a person or a car replaces it.
5. A blob is a thing moving only while it changes from one analysed frame to the next (within
   `HOLD_S`); one that has not changed for `STILL_S` (a person who stopped, a parked car, the
   ghost a leaver leaves in the background) is taken into the background at once.
6. What is left, per zone: movement when its area reaches the zone's `min_area`; its score is the
   moving fraction of the zone.
7. Where `people` is on, the moving region of an event is searched for a person (ecc.media.people)
   when the event starts and then once a second while it lasts, at most `MAX_LOOKS` times; an
   event where `PERSON_LOOKS` looks find one says so (`label = "person"`) from then on.

Blocking (OpenCV): run it in a worker thread, never on the event loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from ecc.config.motion import CameraMotion, MotionZone
from ecc.media.people import PersonClassifier
from ecc.media.zones import ZoneLayout, ZoneMask

Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]
"""x, y, width, height as fractions of the picture."""

THUMBNAIL_HEIGHT = 360
# Texture of the background patch below which the correlation test says nothing useful.
TEXTURE_MIN_STD = 2.0
# A blob this correlated with the background is a change of light on it.
LIGHT_NCC = 0.8
# Blobs tested for being light, largest first; the rest are kept (a cap on the cost per frame).
MAX_BLOBS = 24
# Brightness normalisation up to this factor; beyond it the background starts again.
MAX_GAIN = 4.0
# A blob counts as moving while some of it changed between analysed frames this recently...
HOLD_S = 1.0
# ... and is taken into the background once none of it has changed for this long.
STILL_S = 5.0
# Looks for a person in an event's moving region: one at its start, then one a second; two
# that find one make it a person (one alone is too easily fooled, see ecc.media.people).
LOOK_EVERY_S = 1.0
MAX_LOOKS = 6
PERSON_LOOKS = 2
_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
Label = Literal["person"]


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image
    """Grey (H x W) or BGR (H x W x 3), any size: the detector shrinks it."""
    ts: float
    """When the frame was taken, epoch seconds."""
    still: Callable[[], Image] | None = None
    """A colour picture of the frame, larger than the analysed one, for thumbnails. Called only
    for frames that become a thumbnail, so the caller can convert lazily. None: `image`."""


@dataclass(frozen=True, slots=True)
class DetectedMotion:
    id: str
    zone: str
    start: float
    end: float | None
    """None while the movement goes on."""
    peak_score: float
    """Largest moving fraction of the zone, 0..1."""
    box: Box
    """Where it moved, at the peak."""
    thumbnail: bytes | None
    """JPEG of the peak frame with the box drawn."""
    label: Label | None = None
    """What moved, where the detector could tell (a person); None: not known."""


@dataclass(frozen=True, slots=True)
class MotionChange:
    kind: Literal["start", "update", "end"]
    """`update`: an event going on has learnt what moves in it (its label)."""
    motion: DetectedMotion
    zone: MotionZone


@dataclass(slots=True)
class _Track:
    """Movement in one zone, from its first frame until it has been quiet for end_after_s."""

    first: float
    last: float
    """The last frame in which it changed: the end of the event if nothing follows."""
    peak: float
    box: Box
    frame: Frame
    started: DetectedMotion | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    looks: int = 0
    looked_at: float = -np.inf
    found: int = 0
    label: Label | None = None


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What one analysed frame showed: for tests, tuning and the benchmark."""

    ts: float
    global_change: bool
    changed: float
    """Fraction of the analysed picture that differed from the background."""
    scores: dict[str, float]
    """Moving fraction per zone (0 where under the zone's minimum area)."""


class MotionDetector:
    def __init__(self, config: CameraMotion) -> None:
        self.config = config
        self.period = 1.0 / config.fps
        self._alpha = min(1.0, self.period / config.adapt_s)
        self._layout: ZoneLayout | None = None
        self._background: npt.NDArray[np.float32] | None = None
        self._sample: npt.NDArray[np.intp] | None = None
        self._previous: npt.NDArray[np.float32] | None = None
        self._moved_at: npt.NDArray[np.float64] | None = None
        self._next_due: float | None = None
        self._tracks: dict[str, _Track] = {}
        self.last: FrameResult | None = None
        self.analysed = 0
        self.global_changes = 0
        self.people = PersonClassifier() if config.people else None

    def due(self, ts: float) -> bool:
        """Whether a frame at `ts` would be analysed: lets the caller skip converting the rest."""
        return self._next_due is None or ts >= self._next_due - 1e-3

    def feed(self, frame: Frame) -> list[MotionChange]:
        """Analyse the frame if it is due; returns the events it starts and ends."""
        if not self.due(frame.ts):
            return []
        if self._next_due is None or frame.ts - self._next_due >= self.period:
            # First frame, or the source paused: restart the rhythm from here.
            self._next_due = frame.ts + self.period
        else:
            self._next_due += self.period
        grey = self._prepare(frame.image)
        self.analysed += 1
        if self._background is None or self._layout is None:
            self._start(grey)
            return []
        scores, boxes, stepping = self._analyse(grey, frame.ts)
        return self._track(frame, scores, boxes, stepping)

    def flush(self, ts: float) -> list[MotionChange]:
        """The source ended: end every movement in progress."""
        changes = []
        for zone_id, track in list(self._tracks.items()):
            del self._tracks[zone_id]
            if track.started is not None:
                changes.append(self._ended(track))
        return changes

    # --- analysis --------------------------------------------------------------------------

    def _prepare(self, image: Image) -> Image:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        height = self.config.height
        h, w = grey.shape
        width = max(1, round(w * height / h))
        # Halve with a Gaussian first (cheap, and no aliasing of sensor noise), then resize the
        # rest of the way; INTER_AREA straight from 720p costs eight times as much.
        while h >= 2 * height:
            grey = np.asarray(cv2.pyrDown(grey), np.uint8)
            h, w = grey.shape
        if (w, h) != (width, height):
            grey = np.asarray(
                cv2.resize(grey, (width, height), interpolation=cv2.INTER_LINEAR), np.uint8
            )
        blurred: Image = np.asarray(cv2.GaussianBlur(grey, (5, 5), 0), np.uint8)
        return blurred

    def _start(self, grey: Image) -> None:
        h, w = grey.shape
        if self._layout is None or (self._layout.width, self._layout.height) != (w, h):
            self._layout = ZoneLayout.build(self.config, w, h)
            # Every third analysed pixel: enough for a stable median at a third of the cost.
            self._sample = np.flatnonzero(self._layout.analysed.ravel())[::3]
        self._background = grey.astype(np.float32)
        self._previous = self._background
        self._moved_at = np.full(grey.shape, -np.inf)

    def _median(self, image: npt.NDArray[np.float32] | Image) -> float:
        assert self._sample is not None
        if self._sample.size == 0:
            return 0.0
        return float(np.median(image.ravel()[self._sample]))

    def _analyse(self, grey: Image, ts: float) -> tuple[dict[str, float], dict[str, Box], set[str]]:
        """Per zone, its moving fraction and where it moves, and which zones changed since the
        previous frame."""
        layout, background = self._layout, self._background
        assert layout is not None and background is not None
        if grey.shape != background.shape:
            self._start(grey)
            return {}, {}, set()
        gain = self._median(background) / max(self._median(grey), 1.0)
        if not 1 / MAX_GAIN <= gain <= MAX_GAIN:
            # Far more light or far less than the background was made in: start again.
            self.global_changes += 1
            self._start(grey)
            self.last = FrameResult(ts, True, 1.0, {})
            return {}, {}, set()
        normalised = grey.astype(np.float32) * np.float32(gain)
        diff = cv2.absdiff(normalised, background)
        changed = ((diff > layout.thresholds) & (layout.analysed > 0)).astype(np.uint8)
        fraction = cv2.countNonZero(changed) / max(layout.analysed_pixels, 1)
        if fraction > self.config.global_change:
            self.global_changes += 1
            self._start(grey)
            self.last = FrameResult(ts, True, fraction, {})
            return {}, {}, set()
        assert self._previous is not None and self._moved_at is not None
        stepped = cv2.absdiff(normalised, self._previous) > layout.thresholds
        self._moved_at[stepped] = ts
        stepped_u8 = stepped.astype(np.uint8) * np.uint8(255)
        self._previous = normalised
        blobs = self._things(changed, normalised, background, layout.min_blob)
        found = blobs > 0
        alive = np.unique(blobs[found & (self._moved_at >= ts - max(HOLD_S, 2 * self.period))])
        moving = np.isin(blobs, alive).astype(np.uint8) * np.uint8(255)
        astir = np.unique(blobs[found & (self._moved_at >= ts - STILL_S)])
        stopped = found & ~np.isin(blobs, astir)
        scores: dict[str, float] = {}
        boxes: dict[str, Box] = {}
        stepping: set[str] = set()
        h, w = grey.shape
        for zm in layout.zones:
            inside = moving & zm.mask
            count = cv2.countNonZero(inside)
            if count >= zm.min_pixels and zm.pixels > 0:
                x, y, bw, bh = cv2.boundingRect(inside)
                scores[zm.zone.id] = count / zm.pixels
                boxes[zm.zone.id] = (x / w, y / h, bw / w, bh / h)
                if cv2.countNonZero(inside & stepped_u8):
                    stepping.add(zm.zone.id)
        self._adapt(normalised, moving, stopped)
        self.last = FrameResult(ts, False, fraction, scores)
        return scores, boxes, stepping

    def _things(
        self,
        changed: Image,
        frame: npt.NDArray[np.float32],
        background: npt.NDArray[np.float32],
        min_blob: int,
    ) -> npt.NDArray[np.int32]:
        """Labels of the blobs of changed pixels that are things, not noise or light on a
        surface (0 elsewhere)."""
        opened = cv2.morphologyEx(changed, cv2.MORPH_OPEN, _KERNEL)
        joined = cv2.dilate(opened, _KERNEL, iterations=2)
        count, found, found_stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        labels = np.asarray(found, np.int32)
        stats = np.asarray(found_stats, np.int32)
        keep = np.zeros(count, np.int32)
        areas = stats[:, cv2.CC_STAT_AREA]
        order = [i for i in np.argsort(-areas) if i != 0 and areas[i] >= min_blob]
        for rank, i in enumerate(order):
            if rank >= MAX_BLOBS or not self._is_light(i, labels, stats, frame, background):
                keep[i] = i
        kept: npt.NDArray[np.int32] = keep[labels]
        return kept

    @staticmethod
    def _is_light(
        label: int,
        labels: npt.NDArray[np.int32],
        stats: npt.NDArray[np.int32],
        frame: npt.NDArray[np.float32],
        background: npt.NDArray[np.float32],
    ) -> bool:
        x, y, w, h = stats[label, :4]
        window = np.s_[y : y + h, x : x + w]
        inside = labels[window] == label
        # Light varies smoothly over a surface, so compare only the fine texture: what is left
        # after taking away the local mean.
        f = _fine(frame[window])[inside]
        b = _fine(background[window])[inside]
        fs, bs = float(f.std()), float(b.std())
        if bs < TEXTURE_MIN_STD or fs < TEXTURE_MIN_STD:
            return False
        ncc = float(np.mean((f - f.mean()) * (b - b.mean()))) / (fs * bs)
        return ncc > LIGHT_NCC

    def _adapt(
        self, frame: npt.NDArray[np.float32], moving: Image, stopped: npt.NDArray[np.bool_]
    ) -> None:
        """Follow slow changes; where things move, ten times slower; take in at once the blobs
        that stopped moving, or never moved (they came too slowly to be a thing).

        `frame` is the brightness-normalised frame: the background keeps its own brightness,
        and a change of light large enough to push the gain to its limit restarts it.
        Whole blobs are taken in, never single pixels: pixels picked one by one along a soft
        shadow would leave a speckle in the background that looks like texture.
        """
        background = self._background
        assert background is not None
        cv2.accumulateWeighted(frame, background, self._alpha, mask=cv2.bitwise_not(moving))
        cv2.accumulateWeighted(frame, background, self._alpha / 10, mask=moving)
        background[stopped] = frame[stopped]

    # --- events ----------------------------------------------------------------------------

    def _track(
        self, frame: Frame, scores: dict[str, float], boxes: dict[str, Box], stepping: set[str]
    ) -> list[MotionChange]:
        assert self._layout is not None
        changes: list[MotionChange] = []
        ts = frame.ts
        for zm in self._layout.zones:
            zone_id = zm.zone.id
            track = self._tracks.get(zone_id)
            score = scores.get(zone_id)
            if score is not None:
                if track is None:
                    track = _Track(ts, ts, score, boxes[zone_id], frame)
                    self._tracks[zone_id] = track
                else:
                    if zone_id in stepping:
                        track.last = ts
                    if score > track.peak:
                        track.peak, track.box, track.frame = score, boxes[zone_id], frame
                if track.started is None and ts - track.first >= self._min_duration(zm):
                    self._look(track, frame, boxes[zone_id])
                    track.started = self._motion(track, zm, end=None)
                    changes.append(MotionChange("start", track.started, zm.zone))
                elif track.started is not None and self._look(track, frame, boxes[zone_id]):
                    motion = replace(track.started, label=track.label, thumbnail=None)
                    changes.append(MotionChange("update", motion, zm.zone))
            elif track is not None:
                quiet = ts - track.last
                if track.started is None and quiet > 2.5 * self.period:
                    # Did not last: a flicker, not an event.
                    del self._tracks[zone_id]
                elif track.started is not None and quiet >= self.config.end_after_s:
                    del self._tracks[zone_id]
                    changes.append(self._ended(track))
        return changes

    def _look(self, track: _Track, frame: Frame, box: Box) -> bool:
        """Search the moving region for a person when it is time to; whether one was found
        now for the first time."""
        if self.people is None or track.label is not None or track.looks >= MAX_LOOKS:
            return False
        if frame.ts - track.looked_at < LOOK_EVERY_S:
            return False
        track.looks += 1
        track.looked_at = frame.ts
        image = frame.still() if frame.still is not None else frame.image
        if self.people.look(image, box).person:
            track.found += 1
            if track.found >= PERSON_LOOKS:
                track.label = "person"
                return True
        return False

    @staticmethod
    def _min_duration(zm: ZoneMask) -> float:
        assert zm.zone.min_duration_s is not None
        return zm.zone.min_duration_s

    def _motion(self, track: _Track, zm: ZoneMask, end: float | None) -> DetectedMotion:
        return DetectedMotion(
            id=track.id,
            zone=zm.zone.id,
            start=track.first,
            end=end,
            peak_score=round(track.peak, 4),
            box=tuple(round(v, 4) for v in track.box),  # type: ignore[arg-type]
            thumbnail=thumbnail(track.frame, track.box),
            label=track.label,
        )

    def _ended(self, track: _Track) -> MotionChange:
        assert track.started is not None and self._layout is not None
        zm = next(z for z in self._layout.zones if z.zone.id == track.started.zone)
        motion = self._motion(track, zm, end=track.last)
        # The start's thumbnail stays if the peak did not move on since.
        if track.frame.ts <= track.started.start or motion.thumbnail is None:
            motion = replace(motion, thumbnail=track.started.thumbnail)
        return MotionChange("end", motion, zm.zone)


def _fine(image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    fine: npt.NDArray[np.float32] = image - cv2.blur(image, (7, 7))
    return fine


def thumbnail(frame: Frame, box: Box, height: int = THUMBNAIL_HEIGHT) -> bytes | None:
    """JPEG of the frame, at most `height` pixels high, with the box drawn."""
    image = frame.still() if frame.still is not None else frame.image
    if image.ndim == 2:
        image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), np.uint8)
    h, w = image.shape[:2]
    if h > height:
        size = (round(w * height / h), height)
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        h, w = image.shape[:2]
    else:
        image = image.copy()
    x, y, bw, bh = box
    thickness = max(1, h // 180)
    cv2.rectangle(
        image,
        (round(x * w), round(y * h)),
        (round((x + bw) * w), round((y + bh) * h)),
        (0, 0, 255),
        thickness,
    )
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return jpeg.tobytes() if ok else None
