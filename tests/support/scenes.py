"""Synthetic camera scenes with known movement and known changes of light, for motion tests.

A scene is a textured ground (like asphalt, grass or a concrete dam crest) seen by a camera with
sensor noise; things cross it at known times, and the light changes in the ways real cameras see:
dusk, a cloud's shadow sweeping over, headlights, auto exposure, a switch to night mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Float = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Mover:
    """A thing that crosses the picture from (x0, y0) to (x1, y1) between start and end.

    Positions and sizes are fractions of the picture; it is visible only in [start, end].
    """

    start: float
    end: float
    x0: float
    y0: float
    x1: float
    y1: float
    w: float = 0.05
    h: float = 0.2
    shade: int = 40

    def where(self, t: float) -> tuple[float, float] | None:
        if not self.start <= t <= self.end:
            return None
        k = (t - self.start) / max(self.end - self.start, 1e-9)
        return self.x0 + (self.x1 - self.x0) * k, self.y0 + (self.y1 - self.y0) * k


@dataclass(frozen=True)
class Light:
    """A change of light: `kind` is one of dusk, step, cloud, headlights, night."""

    kind: str
    start: float
    end: float
    strength: float = 0.5


@dataclass
class Scene:
    width: int = 640
    height: int = 360
    fps: float = 30.0
    duration: float = 8.0
    movers: list[Mover] = field(default_factory=list)
    lights: list[Light] = field(default_factory=list)
    noise: float = 2.0
    seed: int = 7

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        coarse = rng.normal(0, 1, (self.height // 8, self.width // 8)).astype(np.float32)
        fine = rng.normal(0, 1, (self.height, self.width)).astype(np.float32)
        texture = cv2.resize(coarse, (self.width, self.height), interpolation=cv2.INTER_CUBIC)
        ground = 110 + 18 * texture + 10 * cv2.GaussianBlur(fine, (3, 3), 0)
        # A little colour, so that the night-mode switch (to grey) is a real change.
        self._ground: Float = np.dstack([ground * 0.9, ground, ground * 1.1]).astype(np.float32)
        thing = rng.normal(0, 1, (64, 32)).astype(np.float32)
        self._thing = cv2.GaussianBlur(thing, (3, 3), 0) * 25
        self._noise = [
            rng.normal(0, self.noise, (self.height, self.width, 1)).astype(np.float32)
            for _ in range(7)
        ]
        yy, xx = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        self._x = xx / self.width
        self._y = yy / self.height

    @property
    def frame_count(self) -> int:
        return round(self.duration * self.fps)

    def frames(self) -> Iterator[tuple[float, Image]]:
        for i in range(self.frame_count):
            t = i / self.fps
            yield t, self.render(t, i)

    def render(self, t: float, index: int = 0) -> Image:
        image = self._ground.copy()
        for mover in self.movers:
            at = mover.where(t)
            if at is None:
                continue
            w, h = round(mover.w * self.width), round(mover.h * self.height)
            x, y = round(at[0] * self.width - w / 2), round(at[1] * self.height - h / 2)
            x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, self.width), min(y + h, self.height)
            if x1 <= x0 or y1 <= y0:
                continue
            pattern = cv2.resize(self._thing, (w, h))[y0 - y : y1 - y, x0 - x : x1 - x]
            image[y0:y1, x0:x1] = (mover.shade + pattern)[..., None]
        gain, grey = self._light(t)
        image = image * gain[..., None]
        if grey:
            image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
        image += self._noise[index % len(self._noise)]
        return np.clip(image, 0, 255).astype(np.uint8)

    def _light(self, t: float) -> tuple[Float, bool]:
        gain = np.ones((self.height, self.width), np.float32)
        grey = False
        for light in self.lights:
            k = min(max((t - light.start) / max(light.end - light.start, 1e-9), 0.0), 1.0)
            if light.kind == "dusk" and t >= light.start:
                gain *= 1 - light.strength * k
            elif light.kind == "step" and t >= light.start:
                gain *= 1 + light.strength
            elif light.kind == "night" and t >= light.start:
                gain *= 1 + light.strength
                grey = True
            elif light.kind == "cloud" and light.start <= t <= light.end:
                # A soft-edged shadow sweeping from left to right over most of the picture.
                edge = -0.6 + 1.6 * k
                cover = np.clip((edge - self._x) / 0.15 + 0.5, 0, 1) * np.clip(
                    (self._x - edge + 0.6) / 0.15 + 0.5, 0, 1
                )
                gain *= 1 - light.strength * cover
            elif light.kind == "headlights" and light.start <= t <= light.end:
                # A beam of light sweeping across the ground, like a car turning at night.
                cx = -0.2 + 1.4 * k
                beam = np.exp(-(((self._x - cx) / 0.18) ** 2 + ((self._y - 0.6) / 0.3) ** 2))
                gain *= 1 + light.strength * beam
        return gain, grey
