"""Live video test rig: real RTSP cameras, a real camera worker process, a center on a broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecc.bus.broker import free_port
from ecc.config import Settings, Site
from ecc.media.simulate import RtspCameras
from tests.support.data import VIDEO

MAIN_PROFILE_CLIP = VIDEO / "one-by-one-person-detection.mp4"
ECC = [sys.executable, "-m", "ecc"]


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
    lines: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None

    def start(self) -> WorkerProcess:
        site_file = self.folder / "site.toml"
        site_file.write_text(site_toml(self.site), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
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
        self._proc = subprocess.Popen(
            [*ECC, "ingest", "cameras"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line.rstrip())

    def stop(self) -> str:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        return "\n".join(self.lines)

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-write, as in a power cut of its process."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()


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
