"""Process settings: embedded defaults from default.toml, overridden by ECC_* variables.

Precedence, lowest first: `config/default.toml`, the file named by ECC_CONFIG (a deployment's own
overrides), then environment variables (`ECC_HTTP_PORT`, and `ECC_INGEST__BATCH_SIZE` for keys
inside a section).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ecc.config.errors import ConfigError, describe
from ecc.config.notify import Webhook
from ecc.config.site import EXAMPLE_SITE, Severity, read_toml

DEFAULT_TOML = Path(__file__).parent / "default.toml"
ENV_PREFIX = "ECC_"
# Variables that carry the prefix but are not settings.
ENV_NOT_SETTINGS = ("ECC_CONFIG",)
ENV_NOT_SETTINGS_PREFIXES = ("ECC_TEST_",)


def _shared_video() -> Path:
    """The real clips of ../shared/data/video beside the checkout, wherever it was cloned."""
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "data" / "video"
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "shared" / "data" / "video"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSettings(Section):
    token_ttl_s: int = Field(12 * 3600, ge=60, le=30 * 86400, description="token lifetime")
    login_max_failures: int = Field(
        5, ge=1, le=1000, description="failed logins per user or address before a lockout"
    )
    login_window_s: int = Field(300, ge=10, le=86400, description="window of the lockout")
    admin_user: str = Field("admin", min_length=1, description="admin created on first run")


class IngestSettings(Section):
    batch_size: int = Field(1000, ge=1, le=50_000, description="readings per store commit")
    batch_interval_ms: int = Field(
        10,
        ge=1,
        le=10_000,
        description="longest wait before a partial batch is committed; under load batches "
        "fill to batch_size first, so this bounds the latency at low rates",
    )
    max_pending: int = Field(
        20_000, ge=100, le=1_000_000, description="received but uncommitted readings held at most"
    )
    session_expiry_s: int = Field(
        86400, ge=0, description="how long the broker keeps the worker's session while away"
    )
    max_payload_bytes: int = Field(16 * 1024, ge=256, le=1024 * 1024)
    max_future_s: float = Field(300, ge=0, description="newest accepted reading time ahead of now")


class EventSettings(Section):
    reading_interval_s: float = Field(
        1.0, ge=0, le=60, description="at most one reading event per station per this interval"
    )
    client_queue: int = Field(
        1000, ge=10, le=100_000, description="events queued per WebSocket client before it is cut"
    )


class NotifySettings(Section):
    webhooks: list[Webhook] = Field(default_factory=list, description="see ecc/config/notify.py")
    max_attempts: int = Field(8, ge=1, le=100, description="attempts per webhook and alert change")
    first_retry_s: float = Field(
        2.0, gt=0, le=3600, description="wait before the first retry; doubles after each"
    )
    max_retry_s: float = Field(600.0, gt=0, le=86400, description="longest wait between attempts")
    max_pending: int = Field(
        1000, ge=1, le=100_000, description="alert changes being delivered at once, at most"
    )


class VideoSettings(Section):
    """Live video: the center's media hub (WHIP/WHEP) and the camera workers that push to it."""

    ice_hosts: list[str] | None = Field(
        None, description="addresses offered as ICE host candidates; unset: the machine's own"
    )
    ice_loopback: bool = Field(
        True, description="also offer 127.0.0.1, for a browser on the same machine"
    )
    ice_servers: list[str] = Field(
        default_factory=list, description="STUN/TURN URLs; none on a closed network"
    )
    viewer_queue_frames: int = Field(
        30, ge=2, le=600, description="frames queued per viewer before it skips to a keyframe"
    )
    gop_cache_bytes: int = Field(
        8 * 1024 * 1024, ge=0, le=256 * 1024 * 1024, description="GOP cache per source, at most"
    )
    whep_wait_s: float = Field(
        8.0, gt=0, le=60, description="a new viewer's wait for an idle camera to start pushing"
    )
    connect_timeout_s: float = Field(
        20.0, gt=0, le=120, description="a WHIP/WHEP session that has not connected by then ends"
    )
    public_viewers_per_camera: int = Field(
        20, ge=0, le=10_000, description="anonymous viewers of one public camera, at most"
    )
    linger_s: float = Field(
        30.0, ge=0, le=3600, description="a camera keeps pushing this long after its last viewer"
    )
    offline_alert_s: float = Field(
        60.0, ge=1, le=86400, description="a camera offline this long raises an alert"
    )
    stall_s: float = Field(
        10.0, ge=1, le=600, description="a stream that delivers no frame this long is restarted"
    )
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="first wait before reconnecting")
    reconnect_max_s: float = Field(30.0, gt=0, le=3600, description="longest wait between tries")
    open_timeout_s: float = Field(10.0, gt=0, le=120, description="opening a camera stream")
    read_timeout_s: float = Field(5.0, gt=0, le=120, description="a read from a camera stream")
    status_interval_s: float = Field(
        5.0, ge=0.2, le=600, description="how often camera health is published"
    )
    encoder_keyframe_s: float = Field(
        4.0,
        ge=0.5,
        le=600,
        description="a publisher that encodes (a vehicle) is asked for a keyframe when its last "
        "is older than this: browsers send one only when asked, and a new viewer or the "
        "recorder starts at a keyframe",
    )
    transcode_bitrate: int = Field(
        2_000_000, ge=100_000, le=50_000_000, description="H.264 bitrate of transcoded sources"
    )
    demo_dir: Path = Field(
        default_factory=_shared_video,
        description="folder of the clips that cameras' `demo` names (`ecc run`)",
    )


class RecordingSettings(Section):
    """Recording (camera workers for cameras, the center for vehicles), retention, playback."""

    segment_s: float = Field(
        10.0, ge=1, le=120, description="length of a segment file; cut at the first keyframe after"
    )
    queue_fragments: int = Field(
        16, ge=2, le=600, description="GOPs per source waiting for the disk before new ones drop"
    )
    idle_close_s: float = Field(
        3.0, gt=0, le=600, description="a source silent this long has its segment closed"
    )
    disk_cap_bytes: int | None = Field(
        None, ge=0, description="all recordings together stay under this; none: no cap"
    )
    min_free_bytes: int = Field(
        2 * 1024**3, ge=0, description="free space kept on the recordings' disk (oldest go)"
    )
    retention_interval_s: float = Field(
        60.0, ge=1, le=86400, description="how often retention runs (and at once on a full disk)"
    )
    writers: int = Field(
        4, ge=1, le=64, description="threads writing segment files, shared by a process's sources"
    )
    playback_token_ttl_s: float = Field(
        3 * 3600,
        ge=60,
        le=86400,
        description="lifetime of the signed URLs of a playlist's segments and of clip links",
    )
    max_playlist_s: float = Field(
        86400, ge=60, le=7 * 86400, description="longest span one playlist covers"
    )
    max_clip_s: float = Field(
        4 * 3600, ge=1, le=86400, description="longest span one clip.mp4 export covers"
    )


class VehicleSettings(Section):
    """Field vehicles: positions and status on the center."""

    offline_after_s: float = Field(
        30.0,
        ge=2,
        le=3600,
        description="a vehicle not heard (position, telemetry) this long "
        "and not streaming is offline",
    )
    max_batch: int = Field(1000, ge=1, le=100_000, description="positions in one upload, at most")


class IncidentSettings(Section):
    """Incidents: when alerts open or join one, what recordings it keeps, how it is exported."""

    auto_open_severity: Severity | Literal["never"] = Field(
        "warning",
        description="an alert at or above this severity opens an incident, or joins one that is "
        "near and recent; never: incidents are opened only by hand",
    )
    join_distance_m: float = Field(
        3000, ge=0, le=100_000, description="an alert this close to an incident's area joins it"
    )
    join_window_s: float = Field(
        6 * 3600,
        ge=0,
        le=30 * 86400,
        description="an alert joins an incident whose linked alerts are still open or changed "
        "at most this long before it",
    )
    area_radius_m: float = Field(
        1000, gt=0, le=100_000, description="radius of the area of an incident opened by an alert"
    )
    ignore_kinds: list[str] = Field(
        default_factory=lambda: ["offline", "camera_offline", "motion_rate"],
        description="alert kinds that neither open nor join incidents (equipment health)",
    )
    pre_roll_s: float = Field(
        300, ge=0, le=86400, description="recordings kept and reviewed before the incident opens"
    )
    post_roll_s: float = Field(
        300, ge=0, le=86400, description="recordings kept and reviewed after the incident closes"
    )
    keep_recordings_days: float = Field(
        365,
        gt=0,
        le=36500,
        description="recordings of a closed incident's sources are kept this long after it "
        "closes (while it is open, they are all kept)",
    )
    exports_at_once: int = Field(2, ge=1, le=32, description="exports built at once per center")
    export_keep_s: float = Field(
        3600, ge=60, le=30 * 86400, description="a finished export file is kept this long"
    )


class Settings(BaseSettings):
    """Settings of every ECC process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    site: Path = Field(EXAMPLE_SITE, description="site file (stations, cameras, vehicles)")
    database_url: str = Field(
        "sqlite:///var/ecc.db", description="sqlite:///PATH or mongodb://HOST/DB"
    )
    mqtt_url: str | None = Field(
        None, description="mqtt://host:port of the broker; unset: `ecc run` starts a private one"
    )
    mqtt_prefix: str = Field("ecc/v1", pattern=r"^[^#+$][^#+]*[^/#+]$", description="topic prefix")
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    data_dir: Path = Field(Path("var"), description="recordings and other files")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)
    center_url: str | None = Field(
        None, description="where workers reach the center; default http://HTTP_HOST:HTTP_PORT"
    )
    secret: SecretStr | None = Field(
        None, description="token signing key; generated into DATA_DIR when unset"
    )
    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    auth: AuthSettings = AuthSettings()
    ingest: IngestSettings = IngestSettings()
    events: EventSettings = EventSettings()
    video: VideoSettings = VideoSettings()
    recording: RecordingSettings = RecordingSettings()
    vehicles: VehicleSettings = VehicleSettings()
    incidents: IncidentSettings = IncidentSettings()
    notify: NotifySettings = NotifySettings()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        if not v.startswith(("sqlite:///", "mongodb://", "mongodb+srv://", "mongomock://")):
            raise ValueError("must start with sqlite:///, mongodb:// or mongodb+srv://")
        return v

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        assert v is not None
        if not v.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must look like mqtt://host:port")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Files come in as init values, below the environment.
        return (env_settings, init_settings)

    @property
    def center(self) -> str:
        if self.center_url:
            return self.center_url.rstrip("/")
        host = "127.0.0.1" if self.http_host in ("0.0.0.0", "::") else self.http_host
        return f"http://{host}:{self.http_port}"

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _check_env_names(env: Mapping[str, str]) -> None:
    fields = Settings.model_fields
    for name in env:
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_SETTINGS:
            continue
        if name.startswith(ENV_NOT_SETTINGS_PREFIXES):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        top, _, sub = key.partition("__")
        if top not in fields:
            raise ConfigError(f"environment variable {name}: not an ECC setting")
        section = fields[top].annotation
        if sub and not (
            isinstance(section, type)
            and issubclass(section, Section)
            and sub in section.model_fields
        ):
            raise ConfigError(f"environment variable {name}: not an ECC setting")


def load_settings(**overrides: Any) -> Settings:
    """Settings from default.toml, ECC_CONFIG and the environment; ConfigError on any problem.

    `overrides` sit between the files and the environment (for tests and CLI options).
    """
    env = os.environ
    _check_env_names(env)
    files = [DEFAULT_TOML]
    if env.get("ECC_CONFIG"):
        files.append(Path(env["ECC_CONFIG"]))
    data: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path in files:
        layer = read_toml(path)
        data = _merge(data, layer)
        origin.update(dict.fromkeys(layer, path))
    data = _merge(data, overrides)

    def source_of(loc: tuple[int | str, ...]) -> str:
        top = str(loc[0]) if loc else ""
        var = ENV_PREFIX + top.upper()
        nested = ENV_PREFIX + "__".join(str(p).upper() for p in loc[:2])
        if nested in env:
            return f"environment variable {nested}"
        if var in env:
            return f"environment variable {var}"
        return str(origin.get(top, "settings"))

    try:
        return Settings(**data)
    except ValidationError as exc:
        lines = describe(exc, data, source_of)
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
