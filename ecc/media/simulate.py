"""`ecc simulate cameras`: the site's cameras as real RTSP cameras on this machine.

Each camera gets two mounts, `/{id}/main` and `/{id}/sub`, served by GStreamer's RTSP server
(ecc.media.rtsp_server, under Debian's Python): a camera whose `demo` names a clip streams that
clip as it is (a Main-profile clip stays Main); `clock` cameras stream the generated scene with a
burned-in clock (x264, Constrained Baseline). `--write-site FILE` writes a copy of the site file
whose camera URLs point at these mounts, for `ECC_SITE=FILE ecc ingest cameras`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ecc
from ecc.bus.broker import _die_with_parent

SYSTEM_PYTHON = "/usr/bin/python3"
PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly gstreamer1.0-plugins-good"
)
MAIN_SCENE = "clock:1280x720@25:2000"
SUB_SCENE = "clock:640x360@15:500"


class SimulatorError(Exception):
    pass


@dataclass
class RtspCameras:
    """A GStreamer RTSP server child process with the given mounts (path -> source)."""

    mounts: dict[str, str]
    port: int
    host: str = "127.0.0.1"
    clients: list[str] = field(default_factory=list)
    """Mount paths of every session that started playing, in order (for tests and benchmarks)."""
    _proc: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"rtsp://{self.host}:{self.port}{path}"

    def start(self, timeout: float = 20.0) -> RtspCameras:
        if not Path(SYSTEM_PYTHON).exists():
            raise SimulatorError(f"{SYSTEM_PYTHON} is missing: install Debian's {PACKAGES}")
        args = [SYSTEM_PYTHON, "-m", "ecc.media.rtsp_server", "--host", self.host]
        args += ["--port", str(self.port)]
        for path, source in self.mounts.items():
            args += ["--mount", f"{path}={source}"]
        env = dict(os.environ)
        # Debian's Python finds ECC's pure-Python modules next to the installed package, and
        # nothing of the virtualenv.
        env["PYTHONPATH"] = str(Path(ecc.__file__).resolve().parent.parent)
        env.pop("PYTHONHOME", None)
        self._ready.clear()
        self._proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
            # Its own session (a terminal's Ctrl-C is for its parent), but it dies with it.
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - one prctl call, no lock taken
        )
        self._reader = threading.Thread(target=self._read, name="rtsp-cameras", daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise SimulatorError(
                f"the RTSP server did not start within {timeout:.0f} s (needs Debian's {PACKAGES})"
            )
        if self._proc.poll() is not None:
            raise SimulatorError("the RTSP server exited at start")
        return self

    def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if line.startswith("ready "):
                self._ready.set()
            elif line.startswith("client "):
                with self._lock:
                    self.clients.append(line.removeprefix("client "))
            elif line:
                sys.stderr.write(f"rtsp-server: {line}\n")
        self._ready.set()

    def sessions(self, path: str) -> int:
        with self._lock:
            return self.clients.count(path)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()

    def kill(self) -> None:
        """Die like a camera losing power: no goodbye to its clients."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def site_mounts(site_cameras: Sequence[tuple[str, str | None]], demo_dir: Path) -> dict[str, str]:
    """Mounts for (camera id, demo) pairs: a clip when the demo names one that exists."""
    mounts: dict[str, str] = {}
    for camera_id, demo in site_cameras:
        clip = demo_dir / demo if demo and demo != "clock" else None
        if clip is not None and clip.is_file():
            mounts[f"/{camera_id}/main"] = f"clip:{clip}"
            mounts[f"/{camera_id}/sub"] = f"clip:{clip}"
        else:
            mounts[f"/{camera_id}/main"] = MAIN_SCENE
            mounts[f"/{camera_id}/sub"] = SUB_SCENE
    return mounts


def rewrite_site(text: str, url_of: dict[str, tuple[str, str]]) -> str:
    """The site file's text with each camera's main/sub URLs replaced (comments kept)."""
    out: list[str] = []
    camera: str | None = None
    for original in text.splitlines():
        line = original
        stripped = line.strip()
        if stripped.startswith("[["):
            camera = None
        m = re.match(r'^id\s*=\s*"([^"]+)"', stripped)
        if m and m.group(1) in url_of:
            camera = m.group(1)
        if camera is not None:
            key = re.match(r"^(main|sub)\s*=", stripped)
            if key:
                line = f'{key.group(1)} = "{url_of[camera][0 if key.group(1) == "main" else 1]}"'
        out.append(line)
    return "\n".join(out) + "\n"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
