"""Zones and masks of a camera as pixel masks of the analysed picture."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ecc.config.motion import CameraMotion, MotionZone

Mask = npt.NDArray[np.uint8]


def polygon_mask(polygon: list[tuple[float, float]], width: int, height: int) -> Mask:
    """255 inside the normalized polygon, 0 outside, at width x height pixels."""
    mask = np.zeros((height, width), np.uint8)
    # Corners at pixel centres: x = 1.0 is the last column, not one past it.
    points = np.array([(x * (width - 1), y * (height - 1)) for x, y in polygon], np.float32)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return mask


@dataclass(frozen=True, slots=True)
class ZoneMask:
    zone: MotionZone
    """With the camera's defaults filled in (CameraMotion.effective_zones)."""
    mask: Mask
    pixels: int
    """Analysed pixels of the zone (masked parts left out)."""
    threshold: float
    """Grey levels of change that count in this zone, from its sensitivity."""
    min_pixels: int


def threshold_of(sensitivity: float) -> float:
    """Sensitivity 0..1 as a change of grey levels: 0 -> 50, 0.5 -> 30, 1 -> 10.

    Below about 10 levels the noise of a camera sensor after the blur starts to count.
    """
    return 50.0 - 40.0 * sensitivity


@dataclass(frozen=True, slots=True)
class ZoneLayout:
    """Everything about the zones that depends only on the picture size: built once per size."""

    width: int
    height: int
    analysed: Mask
    """Union of the zones less the masks: the only pixels looked at."""
    analysed_pixels: int
    zones: tuple[ZoneMask, ...]
    thresholds: npt.NDArray[np.float32]
    """Per pixel, the lowest threshold of the zones that cover it."""
    min_blob: int
    """Smallest blob worth keeping: the smallest min_area of the zones."""

    @classmethod
    def build(cls, config: CameraMotion, width: int, height: int) -> ZoneLayout:
        excluded = np.zeros((height, width), np.uint8)
        for m in config.masks:
            excluded |= polygon_mask(m.polygon, width, height)
        keep: Mask = np.where(excluded > 0, 0, 255).astype(np.uint8)
        frame_pixels = width * height
        zones = []
        union = np.zeros((height, width), np.uint8)
        thresholds = np.full((height, width), 255.0, np.float32)
        for zone in config.effective_zones():
            mask = polygon_mask(zone.polygon, width, height) & keep
            union |= mask
            assert zone.sensitivity is not None and zone.min_area is not None
            threshold = threshold_of(zone.sensitivity)
            thresholds[mask > 0] = np.minimum(thresholds[mask > 0], threshold)
            zones.append(
                ZoneMask(
                    zone=zone,
                    mask=mask,
                    pixels=int(cv2.countNonZero(mask)),
                    threshold=threshold,
                    min_pixels=max(1, round(zone.min_area * frame_pixels)),
                )
            )
        return cls(
            width=width,
            height=height,
            analysed=union,
            analysed_pixels=int(cv2.countNonZero(union)),
            zones=tuple(zones),
            thresholds=thresholds,
            min_blob=max(1, min(z.min_pixels for z in zones) // 2),
        )
