"""An `ecc` command as its own process in a test, its output collected line by line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field

ECC = [sys.executable, "-m", "ecc"]


@dataclass
class Process:
    """An `ecc` command as its own process, its output collected."""

    args: list[str]
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None

    def start(self) -> Process:
        self._proc = subprocess.Popen(
            [*ECC, *self.args],
            env=self.env,
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

    def kill(self) -> None:
        """SIGKILL: no goodbye to anyone (a crash, a power cut)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        self._close()

    def stop(self) -> str:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._close()
        return "\n".join(self.lines)

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
