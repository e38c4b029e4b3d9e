"""WS /api/events: authenticated, and relays what crosses the bus to every client."""

from __future__ import annotations

import json
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ecc.bus.broker import PrivateBroker
from ecc.storage.models import NewAlert
from tests.support.center import RunningCenter


def events(center: RunningCenter, role: str = "operator") -> ClientConnection:
    return connect(f"{center.ws_url}/api/events?token={center.token(role)}", open_timeout=10)


def next_of(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if msg["type"] == kind:
            data: dict[str, Any] = msg["data"]
            return data


@pytest.mark.parametrize(("query", "status"), [("", 401), ("?token=", 401), ("?token=v1.a.b", 401)])
def test_websocket_refuses_without_a_valid_token(
    center: RunningCenter, query: str, status: int
) -> None:
    with pytest.raises(InvalidStatus) as err:
        connect(f"{center.ws_url}/api/events{query}", open_timeout=5)
    assert err.value.response.status_code == status


def test_acknowledged_alert_reaches_every_client(center: RunningCenter) -> None:
    alert = center.store.alerts.insert(
        NewAlert(
            "level",
            "danger",
            "station",
            "lujiang-daqi",
            "water_level",
            3.2,
            3.0,
            "above",
            time.time(),
        )
    )
    with events(center, "leader") as a, events(center, "crew") as b:
        assert center.post(f"/api/alerts/{alert.id}/ack", "operator").status_code == 200
        for ws in (a, b):
            data = next_of(ws, "alert")
            assert data["id"] == alert.id and data["state"] == "acknowledged"
    assert center.app.state.hub.count == 0 or _eventually(lambda: center.app.state.hub.count == 0)


def _eventually(check: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())


def _publisher(broker: PrivateBroker) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def test_bus_alerts_and_throttled_readings_reach_clients(
    center_on_broker: RunningCenter, broker: PrivateBroker
) -> None:
    center = center_on_broker
    assert _eventually(lambda: center.app.state.bus.connected)
    pub = _publisher(broker)
    try:
        with events(center) as ws:
            alert = {"id": "a1", "kind": "level", "severity": "danger", "state": "active"}
            pub.publish("ecc/v1/alerts", json.dumps(alert), qos=1).wait_for_publish(5)
            assert next_of(ws, "alert")["id"] == "a1"
            t0 = 1_780_000_000
            started = time.monotonic()
            for i in range(20):
                payload = {"ts": t0 + i, "values": {"water_level": 2.0 + i / 100}}
                pub.publish("ecc/v1/stations/lujiang-daqi/readings", json.dumps(payload), qos=1)
            # Malformed and unknown-station readings are not relayed.
            pub.publish("ecc/v1/stations/lujiang-daqi/readings", b"{not json", qos=1)
            pub.publish("ecc/v1/stations/atlantis/readings", json.dumps(payload), qos=1)
            first = next_of(ws, "reading")
            last = next_of(ws, "reading", timeout=3)
            assert first["station_id"] == last["station_id"] == "lujiang-daqi"
            # At most one per second, and the newest value of the burst is the one kept.
            assert last["values"]["water_level"] == pytest.approx(2.19)
            assert time.monotonic() - started >= 0.9
            with pytest.raises(TimeoutError):
                next_of(ws, "reading", timeout=1.2)
            pub.publish(
                "ecc/v1/cameras/dam-dongao/status",
                json.dumps({"online": False, "fps": 0}),
                qos=1,
                retain=True,
            )
            cam = next_of(ws, "camera")
            assert cam == {"id": "dam-dongao", "online": False, "fps": 0}
        assert center.get("/api/cameras/dam-dongao").json()["status"]["online"] is False
    finally:
        pub.loop_stop()
        pub.disconnect()
