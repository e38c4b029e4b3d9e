"""Live video test rig: real RTSP cameras, a real camera worker process, a center on a broker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecc.bus.broker import free_port
from ecc.config import Settings, Site
from ecc.media.simulate import RtspCameras
from tests.support.data import VIDEO
from tests.support.process import Process, clean_env

MAIN_PROFILE_CLIP = VIDEO / "one-by-one-person-detection.mp4"


def video_site(cameras: list[dict[str, Any]]) -> Site:
    return Site.model_validate(
        {
            "name": "测试区",
            "map": {"center_lat": 29.9, "center_lon": 121.8},
            "cameras": [
                {"name": c["id"], "lat": 29.9, "lon": 121.8, "record": False, **c} for c in cameras
            ],
        }
    )


def site_toml(site: Site) -> str:
    """The site as TOML, for the worker process (only what these tests use)."""
    lines = [f'name = "{site.name}"', "[map]", "center_lat = 29.9", "center_lon = 121.8"]
    for c in site.cameras:
        lines += ["[[cameras]]", f'id = "{c.id}"', f'name = "{c.name}"', "lat = 29.9"]
        lines += [
            "lon = 121.8",
            f'main = "{c.main}"',
            f"record = {'true' if c.record else 'false'}",
        ]
        if c.sub:
            lines.append(f'sub = "{c.sub}"')
        lines.append(f"public = {'true' if c.public else 'false'}")
        lines.append(f"preload = {'true' if c.preload else 'false'}")
    return "\n".join(lines) + "\n"


def video_settings(settings: Settings, **video: Any) -> Settings:
    """Loopback-only ICE (no other address of the machine is offered) and quick timers."""
    values = {"ice_hosts": [], "ice_loopback": True, "linger_s": 2.0, **video}
    return settings.model_copy(update={"video": settings.video.model_copy(update=values)})


@dataclass
class WorkerProcess:
    """`ecc ingest cameras` as its own process, as deployed."""

    settings: Settings
    site: Site
    folder: Path
    center_url: str
    process: Process | None = None

    def start(self) -> WorkerProcess:
        site_file = self.folder / "site.toml"
        site_file.write_text(site_toml(self.site), encoding="utf-8")
        env = clean_env()
        s = self.settings
        assert s.secret is not None and s.mqtt_url is not None
        env.update(
            ECC_SITE=str(site_file),
            ECC_DATABASE_URL=s.database_url,
            ECC_DATA_DIR=str(s.data_dir),
            ECC_MQTT_URL=s.mqtt_url,
            ECC_SECRET=s.secret.get_secret_value(),
            ECC_CENTER_URL=self.center_url,
            ECC_LOG_LEVEL="INFO",
        )
        for section in ("video", "recording"):
            for key, value in getattr(s, section).model_dump(mode="json").items():
                if value is not None:
                    env[f"ECC_{section.upper()}__{key.upper()}"] = (
                        json.dumps(value) if not isinstance(value, str) else value
                    )
        self.process = Process(["ingest", "cameras"], env).start()
        return self

    @property
    def lines(self) -> list[str]:
        return [] if self.process is None else self.process.lines

    def stop(self) -> str:
        return "" if self.process is None else self.process.stop()

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-write, as in a power cut of its process."""
        if self.process is not None:
            self.process.kill()


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; the polling interval is not a sleep
    that a test relies on, only the deadline is."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def rtsp_cameras(mounts: dict[str, str]) -> RtspCameras:
    return RtspCameras(mounts, free_port()).start()
