"""Motion detection settings of one camera: analysis rate and size, zones, masks.

Polygons are in normalized picture coordinates: x from the left edge (0) to the right (1), y from
the top (0) to the bottom (1), so a zone keeps its place when the stream's resolution changes.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["info", "warning", "danger", "critical"]
Point = Annotated[
    tuple[
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
    ],
    Field(description="[x, y]: 0..1 from the left and from the top of the picture"),
]
ZoneId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
# The implicit zone of a camera that names none: the whole picture.
WHOLE_FRAME = "frame"


def polygon_area(polygon: list[tuple[float, float]]) -> float:
    """Shoelace area in normalized units (1.0 is the whole picture)."""
    twice = 0.0
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2


def _check_polygon(polygon: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if polygon_area(polygon) < 1e-4:
        raise ValueError("the polygon encloses no area (its corners are on one line or too close)")
    return polygon


Polygon = Annotated[
    list[Point],
    Field(min_length=3, max_length=64, description="corners in drawing order, at least three"),
    AfterValidator(_check_polygon),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionMask(_Strict):
    """A part of the picture never analysed: a clock overlay, trees in the wind, a flag."""

    name: str | None = Field(None, description="what the mask hides, for the people who edit it")
    polygon: Polygon


class MotionZone(_Strict):
    """A part of the picture where movement makes an event; it may raise an intrusion alert."""

    id: ZoneId = Field(description="unique within the camera; names the zone in events and alerts")
    name: str | None = Field(None, description="display name (e.g. 坝顶)")
    polygon: Polygon
    sensitivity: float | None = Field(
        None,
        ge=0,
        le=1,
        description="0 (only strong contrast counts) to 1 (faint changes count); "
        "default the camera's",
    )
    min_area: float | None = Field(
        None,
        gt=0,
        le=1,
        description="smallest moving area that counts, as a fraction of the whole picture; "
        "default the camera's",
    )
    min_duration_s: float | None = Field(
        None, ge=0, le=60, description="movement must last this long to make an event"
    )
    intrusion: Severity | None = Field(
        None, description="raise an intrusion alert of this severity on an event in this zone"
    )
    active_hours: list[str] = Field(
        default_factory=list,
        description='local times when the intrusion alert is armed, e.g. ["18:00-07:00"]; '
        "empty: always. Events are recorded at all hours.",
    )

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, ranges: list[str]) -> list[str]:
        for text in ranges:
            if not HOURS.match(text):
                raise ValueError(f"{text!r} is not a range of local times like 18:00-07:00")
            start, end = text.split("-")
            if start == end:
                raise ValueError(f"{text!r} is empty: start and end are the same")
        return ranges


class CameraMotion(_Strict):
    """Motion analysis of a camera (on its sub stream, or its main stream when it has none)."""

    enabled: bool = Field(True, description="analyse this camera for motion")
    fps: float = Field(5.0, ge=0.5, le=30, description="frames analysed per second")
    height: int = Field(
        160, ge=64, le=720, description="height of the analysed picture, pixels (width follows)"
    )
    sensitivity: float = Field(0.5, ge=0, le=1, description="default sensitivity of the zones")
    min_area: float = Field(
        0.001, gt=0, le=1, description="default smallest moving area, fraction of the picture"
    )
    min_duration_s: float = Field(
        1.0, ge=0, le=60, description="default time movement must last to make an event"
    )
    end_after_s: float = Field(
        2.0, ge=0.2, le=60, description="an event ends after this long without movement"
    )
    global_change: float = Field(
        0.5,
        gt=0.05,
        le=1,
        description="a change over more than this fraction of the picture at once is a change "
        "of light (clouds, headlights, night mode), not movement",
    )
    adapt_s: float = Field(
        10.0, ge=1, le=600, description="time the background takes to follow slow changes of light"
    )
    people: bool = Field(
        True,
        description="look for a person in each event's moving region (OpenCV's HOG people "
        "detector, a few milliseconds a second while an event lasts) and say so on the event",
    )
    max_events_per_hour: int = Field(
        60,
        ge=1,
        le=3600,
        description="above this the camera's events are stored but no longer announced, "
        "and an alert says so",
    )
    zones: list[MotionZone] = Field(
        default_factory=list, description="none: the whole picture is one zone named 'frame'"
    )
    masks: list[MotionMask] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_zones(self) -> Self:
        seen: set[str] = set()
        for zone in self.zones:
            if zone.id in seen:
                raise ValueError(f"zones: id {zone.id!r} is used twice")
            seen.add(zone.id)
        return self

    def effective_zones(self) -> list[MotionZone]:
        """The zones with the camera's defaults filled in; the whole picture if none is given."""
        zones = self.zones or [
            MotionZone(id=WHOLE_FRAME, polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
        ]
        return [
            z.model_copy(
                update={
                    "sensitivity": self.sensitivity if z.sensitivity is None else z.sensitivity,
                    "min_area": self.min_area if z.min_area is None else z.min_area,
                    "min_duration_s": (
                        self.min_duration_s if z.min_duration_s is None else z.min_duration_s
                    ),
                }
            )
            for z in zones
        ]
