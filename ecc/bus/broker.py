"""A private Mosquitto broker on loopback, started as a child process by `ecc run` and tests."""

from __future__ import annotations

import contextlib
import ctypes
import getpass
import logging
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)


class BrokerError(Exception):
    pass


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """Mosquitto on 127.0.0.1, persisting its sessions under `folder`.

    `max_queued_messages` is raised far above Debian's default of 1000: past it Mosquitto drops
    QoS 1 messages for a disconnected persistent session without a word, which would lose
    readings while an ingest worker restarts.
    """

    def __init__(self, folder: Path, port: int | None = None, extra_config: str = "") -> None:
        self.folder = folder
        self.port = port or free_port()
        self.extra_config = extra_config
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        # Started as root, Mosquitto switches to the `mosquitto` user unless told otherwise, and
        # then cannot write its persistence file under our data folder: stay who we are.
        return (
            f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.folder}/\n"
            "autosave_interval 5\n"
            "max_queued_messages 1000000\n"
            "max_inflight_messages 1000\n"
            "message_size_limit 1048576\n"
            "persistent_client_expiration 7d\n"
            f"{self.extra_config}"
        )

    def start(self, timeout: float = 10.0) -> None:
        exe = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if exe is None:
            raise BrokerError(
                "mosquitto is not installed: run `make run` (installs it as root) or "
                "`apt-get install mosquitto`, or set ECC_MQTT_URL to a broker"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        conf.write_text(self.config_text())
        log_path = self.folder / "mosquitto.log"
        with log_path.open("ab") as out:
            # Its own session, so Ctrl-C in a terminal reaches ECC, which then stops the broker
            # last, after the workers have flushed; and it dies with ECC if ECC is killed.
            self._proc = subprocess.Popen(
                [exe, "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (calls only prctl)
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(f"mosquitto exited at start; see {log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def stop(self, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None
