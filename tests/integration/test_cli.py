"""The `ecc` command as a user runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ecc.bus.broker import free_port

ECC = [sys.executable, "-m", "ecc"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update(
        ECC_DATABASE_URL=f"sqlite:///{tmp_path}/ecc.db",
        ECC_DATA_DIR=str(tmp_path / "var"),
        ECC_HTTP_PORT=str(free_port()),
    )
    env.update(extra)
    return env


def test_run_starts_everything_prints_a_login_and_stops_cleanly(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    proc = subprocess.Popen(
        [*ECC, "run", "--no-simulation"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        password = None
        assert proc.stdout is not None
        while password is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            m = re.search(r"Log in as admin with password (\S+)", line)
            if m:
                password = m.group(1)
        assert password, "".join(lines)
        url = f"http://127.0.0.1:{env['ECC_HTTP_PORT']}"
        assert any(url in line for line in lines)
        for _ in range(100):
            try:
                health = httpx.get(f"{url}/healthz").json()
                if health["status"] == "ok":
                    break
            except httpx.ConnectError:
                pass
            time.sleep(0.1)
        assert health == health | {"status": "ok", "bus": {"ok": True}}
        r = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": password})
        assert r.status_code == 200
        assert (tmp_path / "var" / "mosquitto" / "mosquitto.conf").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    # The private broker went with it.
    assert (
        subprocess.run(["pgrep", "-f", f"{tmp_path}/var/mosquitto"], capture_output=True).returncode
        == 1
    )


def test_second_run_does_not_print_a_new_password(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    subprocess.run(
        [*ECC, "user", "add", "zhang", "--role", "operator", "--password-stdin"],
        env=env,
        cwd=tmp_path,
        input="longpassword\n",
        text=True,
        check=True,
        capture_output=True,
    )
    listed = subprocess.run(
        [*ECC, "user", "list"], env=env, cwd=tmp_path, text=True, capture_output=True, check=True
    )
    assert "zhang\toperator\tactive" in listed.stdout
    again = subprocess.run(
        [*ECC, "user", "add", "zhang", "--role", "operator", "--password-stdin"],
        env=env,
        cwd=tmp_path,
        input="longpassword\n",
        text=True,
        capture_output=True,
    )
    assert again.returncode == 1 and "exists" in again.stderr
    short = subprocess.run(
        [*ECC, "user", "add", "li", "--role", "crew", "--password-stdin"],
        env=env,
        cwd=tmp_path,
        input="short\n",
        text=True,
        capture_output=True,
    )
    assert short.returncode != 0 and "at least 8" in short.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ECC_HTTP_PORT": "none"}, "environment variable ECC_HTTP_PORT: http_port"),
        ({"ECC_SITE": "/nonexistent/site.toml"}, "/nonexistent/site.toml: file not found"),
        ({"ECC_DATABSE_URL": "x"}, "ECC_DATABSE_URL: not an ECC setting"),
    ],
)
def test_bad_config_stops_start_up_with_a_clear_message(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    env = env_for(tmp_path)
    env.update(extra)
    r = subprocess.run(
        [*ECC, "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        env = env_for(tmp_path, ECC_HTTP_PORT=str(s.getsockname()[1]))
        r = subprocess.run(
            [*ECC, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    assert r.returncode == 2
    assert "set ECC_HTTP_PORT to a free port" in r.stderr
