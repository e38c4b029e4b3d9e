"""The site file: stations, cameras and vehicles of one district, with their alert thresholds.

Every model forbids unknown keys, so a typo in a site file is an error that names the key,
not a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ecc.config.errors import ConfigError, describe
from ecc.config.motion import CameraMotion
from ecc.config.sidecar import with_sidecar

EXAMPLE_SITE = Path(__file__).parent / "sites" / "beilun.toml"

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$"),
    Field(description="lowercase letters, digits and '-'; used in MQTT topics and URLs"),
]
Metric = Literal[
    "water_level",
    "rainfall",
    "flow",
    "pm25",
    "pm10",
    "aqi",
    "temperature",
    "humidity",
    "wind_speed",
    "noise",
]
StationKind = Literal["water_level", "rain", "air", "weather"]
Severity = Literal["info", "warning", "danger", "critical"]
Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84 latitude, degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84 longitude, degrees")]

DEFAULT_METRICS: dict[str, list[Metric]] = {
    "water_level": ["water_level"],
    "rain": ["rainfall"],
    "air": ["pm25", "pm10", "aqi"],
    "weather": ["temperature", "humidity", "wind_speed", "rainfall"],
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelThreshold(Strict):
    """Levels that raise an alert when a metric reaches them (警戒 warning, 保证 danger)."""

    warning: float | None = Field(None, description="warning level (e.g. 警戒水位)")
    danger: float | None = Field(None, description="danger level (e.g. 保证水位)")
    critical: float | None = Field(None, description="critical level, above danger")
    deadband: float = Field(0.0, ge=0, description="clear only below level - deadband")
    min_duration_s: float = Field(
        0.0, ge=0, le=86400, description="the level must hold this long before the alert is raised"
    )
    rise_per_hour: float | None = Field(
        None, gt=0, description="alert when the metric rises faster than this per hour"
    )
    rise_window_s: float = Field(3600.0, ge=60, le=86400, description="window of the rate of rise")
    require_ack: bool = Field(
        False, description="an alert stays until acknowledged even after its condition clears"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        levels = [(n, getattr(self, n)) for n in ("warning", "danger", "critical")]
        given = [(n, v) for n, v in levels if v is not None]
        if not given and self.rise_per_hour is None:
            raise ValueError("give at least one of warning, danger, critical or rise_per_hour")
        for (lo_name, lo), (hi_name, hi) in pairwise(given):
            if not lo < hi:
                raise ValueError(f"{hi_name} ({hi}) must be above {lo_name} ({lo})")
        return self


class Station(Strict):
    id: Id
    name: str = Field(min_length=1, description="display name (Chinese)")
    name_en: str | None = Field(None, description="display name in English")
    kind: StationKind
    lat: Latitude
    lon: Longitude
    interval_s: float = Field(300, ge=1, le=86400, description="expected reporting interval")
    metrics: list[Metric] | None = Field(
        None, description="metrics the station reports; default from its kind"
    )
    cameras: list[Id] = Field(default_factory=list, description="ids of linked cameras")
    thresholds: dict[Metric, LevelThreshold] = Field(default_factory=dict)
    offline_after_s: float | None = Field(
        None, gt=0, description="offline when silent this long; default a multiple of interval_s"
    )
    river: str | None = Field(None, description="river or reservoir the station watches")

    @property
    def reported_metrics(self) -> list[Metric]:
        return list(self.metrics) if self.metrics is not None else DEFAULT_METRICS[self.kind]


class Camera(Strict):
    id: Id
    name: str = Field(min_length=1)
    name_en: str | None = None
    kind: Literal["port", "bridge", "dam", "town", "road", "river", "other"] = "other"
    lat: Latitude
    lon: Longitude
    main: str = Field(min_length=1, description="main stream URL: rtsp://, http(s):// or a file")
    sub: str | None = Field(None, description="sub stream URL (lower resolution), optional")
    record: bool = True
    public: bool = Field(False, description="watchable without login on /live (sub stream)")
    preload: bool = Field(False, description="keep pushed to the center even with no viewer")
    retention_days: float = Field(30, gt=0, le=3650, description="days of recordings to keep")
    demo: str | None = Field(
        None,
        description="what `ecc run` streams for this camera: a video file, or 'clock' for a "
        "generated scene with a burned-in clock",
    )
    motion: CameraMotion | None = Field(
        None, description="motion and intrusion detection; none: the camera is not analysed"
    )


class Vehicle(Strict):
    id: Id
    name: str = Field(min_length=1)
    name_en: str | None = None
    plate: str | None = None
    home_lat: Latitude | None = Field(None, description="depot position")
    home_lon: Longitude | None = None
    record: bool = Field(True, description="record the vehicle's video at the center")
    retention_days: float = Field(30, gt=0, le=3650, description="days of recordings to keep")


class CameraGroup(Strict):
    """A named set of cameras the wall shows together, and cycles through on a timer."""

    id: Id
    name: str = Field(min_length=1, description="display name (Chinese)")
    name_en: str | None = Field(None, description="display name in English")
    cameras: list[Id] = Field(min_length=1, max_length=16, description="ids of the cameras")
    dwell_s: float | None = Field(
        None, ge=5, le=3600, description="seconds on the wall when cycling; none: the user's"
    )


class MapSettings(Strict):
    center_lat: Latitude
    center_lon: Longitude
    zoom: int = Field(11, ge=1, le=19)
    tile_url: str | None = Field(
        None, description="XYZ tile URL template; none uses only the offline base layer"
    )
    base_layer: str | None = Field(
        None, description="GeoJSON file with outline, rivers and roads, relative to the site file"
    )


class Site(Strict):
    name: str = Field(min_length=1)
    name_en: str | None = None
    timezone: str = "Asia/Shanghai"
    map: MapSettings
    offline_after_intervals: float = Field(
        3.0, ge=1, le=100, description="a station is offline after this many silent intervals"
    )
    stations: list[Station] = Field(default_factory=list)
    cameras: list[Camera] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    groups: list[CameraGroup] = Field(default_factory=list, description="camera groups")
    linked_camera_radius_m: float = Field(
        5000,
        ge=0,
        le=100_000,
        description="a station with no linked cameras brings the nearest cameras within this "
        "distance onto the wall when it alerts",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        for label, items in (
            ("stations", self.stations),
            ("cameras", self.cameras),
            ("vehicles", self.vehicles),
            ("groups", self.groups),
        ):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"{label}: id {item.id!r} is used twice")
                seen.add(item.id)
        cameras = {c.id for c in self.cameras}
        for st in self.stations:
            for cam in st.cameras:
                if cam not in cameras:
                    raise ValueError(f'stations (id "{st.id}").cameras: no camera has id {cam!r}')
            for metric in st.thresholds:
                if metric not in st.reported_metrics:
                    raise ValueError(
                        f'stations (id "{st.id}").thresholds.{metric}: '
                        f"the station does not report {metric}"
                    )
        for group in self.groups:
            for cam in group.cameras:
                if cam not in cameras:
                    raise ValueError(f'groups (id "{group.id}").cameras: no camera has id {cam!r}')
        return self

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)

    def camera(self, camera_id: str) -> Camera | None:
        return next((c for c in self.cameras if c.id == camera_id), None)

    def vehicle(self, vehicle_id: str) -> Vehicle | None:
        return next((v for v in self.vehicles if v.id == vehicle_id), None)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def load_site(path: Path) -> Site:
    """Read and check a site file, with the motion settings saved from the dashboard beside it
    (ecc.config.sidecar); ConfigError names the file, the key and the problem."""
    data = with_sidecar(path, read_toml(path))
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        problems = "\n  ".join(describe(exc, data))
        raise ConfigError(f"{path}: invalid site file:\n  {problems}") from None
    if site.map.base_layer is not None and not (path.parent / site.map.base_layer).is_file():
        raise ConfigError(f"{path}: map.base_layer: file {site.map.base_layer!r} not found")
    return site


def base_layer_path(site_path: Path, site: Site) -> Path | None:
    return None if site.map.base_layer is None else site_path.parent / site.map.base_layer
