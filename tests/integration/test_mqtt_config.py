"""`ecc mqtt-config` against a real Mosquitto: stations speak only for themselves, anonymous
clients are refused, only ECC publishes alerts."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ecc.bus.acl import password_hash
from ecc.bus.broker import free_port
from tests.support.ingest import wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
ECC = [sys.executable, "-m", "ecc"]
HASHED = (  # `mosquitto_passwd -b pw alice secret123`
    "alice:$7$101$VgilmkRMzFoKBVt6$/216OkK9TdyVRDGHWOEsgQ0eZyOZiJE1uYKDmHaAripwvJn6Nzv7TyoxeL"
    "inMN2l7E9+enFYafN6cLFViYOBCw=="
)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    out = tmp_path / "mqtt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env["ECC_DATA_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [*ECC, "mqtt-config", "--out", str(out), "--port", str(port), "--bind", "127.0.0.1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    users = tomllib.loads((out / "credentials.toml").read_text())["users"]
    assert (out / "credentials.toml").stat().st_mode & 0o077 == 0
    # Run as root, Mosquitto drops to the `mosquitto` user before it reads the password file,
    # which a test's private temporary folder keeps from it; a deployment gives the files to
    # that user's group instead.
    conf = out / "mosquitto.conf"
    conf.write_text(conf.read_text() + "user root\n")
    with (tmp_path / "mosquitto.log").open("wb") as log:
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    try:
        wait_for(lambda: _listening(port), what="mosquitto")
        yield port, users
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Client:
    """A v5 client that records what its connection and subscriptions got."""

    def __init__(self, port: int, user: str | None = None, password: str | None = None) -> None:
        self.connack: ReasonCode | None = None
        self.got: list[tuple[str, bytes]] = []
        self.granted: list[int] = []
        self.acked: list[int] = []
        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if user is not None:
            c.username_pw_set(user, password)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_publish = lambda cl, u, mid, reason, props: self.acked.append(reason.value)
        self.client = c
        c.connect("127.0.0.1", port)
        c.loop_start()
        wait_for(lambda: self.connack is not None, what="CONNACK")

    def _on_connect(self, c: Any, u: Any, f: Any, reason: ReasonCode, p: Properties | None) -> None:
        self.connack = reason

    def _on_message(self, c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
        self.got.append((m.topic, bytes(m.payload)))

    def _on_subscribe(self, c: Any, u: Any, mid: int, codes: list[ReasonCode], p: Any) -> None:
        self.granted.extend(code.value for code in codes)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_password_hash_is_mosquittos() -> None:
    salt = base64.b64decode("VgilmkRMzFoKBVt6")
    assert "alice:" + password_hash("secret123", salt) == HASHED


def test_stations_publish_only_as_themselves(secured: tuple[int, dict[str, str]]) -> None:
    port, users = secured
    anonymous = Client(port)
    assert anonymous.connack is not None and anonymous.connack.is_failure
    anonymous.close()
    wrong = Client(port, "lujiang-daqi", "not-the-password")
    assert wrong.connack is not None and wrong.connack.is_failure
    wrong.close()

    ingest = Client(port, "ecc-ingest", users["ecc-ingest"])
    assert ingest.connack is not None and not ingest.connack.is_failure
    ingest.client.subscribe("$share/ecc-ingest/ecc/v1/stations/+/readings", qos=1)
    ingest.client.subscribe("ecc/v1/alerts", qos=1)
    ingest.client.subscribe("ecc/v1/cameras/+/demand", qos=1)
    wait_for(lambda: len(ingest.granted) == 3)
    assert ingest.granted == [1, 1, 1]

    a = Client(port, "lujiang-daqi", users["lujiang-daqi"])
    assert a.connack is not None and not a.connack.is_failure
    a.publish("ecc/v1/stations/lujiang-daqi/readings", b'{"ts": 1, "values": {"water_level": 1}}')
    a.publish("ecc/v1/stations/zhonghe-xinqi/readings", b'{"ts": 1, "values": {"water_level": 9}}')
    a.publish("ecc/v1/alerts", b'{"id": "forged"}')
    a.publish("ecc/v1/stations/lujiang-daqi/readings", b'{"ts": 2, "values": {"water_level": 2}}')
    wait_for(lambda: len(ingest.got) >= 2, what="the two own readings")
    # MQTT v5: a refused publish is acknowledged with "not authorized" (135), never delivered.
    assert a.acked == [0, 135, 135, 0]
    assert [t for t, _ in ingest.got] == ["ecc/v1/stations/lujiang-daqi/readings"] * 2

    # A station may not read, not even alerts: Mosquitto grants the subscription and then
    # delivers nothing on it.
    a.client.subscribe("ecc/v1/#", qos=1)
    wait_for(lambda: len(a.granted) == 1)

    center = Client(port, "ecc-center", users["ecc-center"])
    center.publish("ecc/v1/alerts", b'{"id": "ack"}')
    # The center tells the camera workers which streams are watched.
    center.publish("ecc/v1/cameras/dam-dongao/demand", b'{"main": 0, "sub": 1}')
    wait_for(lambda: any(t == "ecc/v1/alerts" for t, _ in ingest.got), what="the center's alert")
    wait_for(lambda: any(t.endswith("/demand") for t, _ in ingest.got), what="the demand")
    assert center.acked == [0, 0]
    # The center's alert went out after the station subscribed: it reached ingest, not `a`.
    assert a.got == []
    for c in (a, ingest, center):
        c.close()
