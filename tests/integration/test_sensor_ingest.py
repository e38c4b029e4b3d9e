"""`ecc ingest sensors` against a real Mosquitto: what is stored, what is refused, what is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import orjson
import pytest
from websockets.sync.client import connect

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.storage import Store, open_store
from tests.support.center import RunningCenter
from tests.support.ingest import Publisher, RunningIngest, wait_for

NOW = time.time()
T0 = float(int(NOW) - 86400)
READINGS = "ecc/v1/stations/{}/readings"


@pytest.fixture
def ingest_settings(settings: Settings, broker: PrivateBroker) -> Settings:
    return settings.model_copy(update={"mqtt_url": broker.url})


@pytest.fixture
def ingest(ingest_settings: Settings, site: Site, store: Store) -> Iterator[RunningIngest]:
    worker = RunningIngest(ingest_settings, site, store).start()
    yield worker
    worker.stop()


def reading(ts: float, **values: float) -> bytes:
    return orjson.dumps({"ts": ts, "values": values})


def test_good_duplicate_and_malformed_interleaved(
    ingest: RunningIngest, broker: PrivateBroker, store: Store
) -> None:
    bad = {
        b"{not json": "bad json",
        b'{"ts": 1, "values": {"ph": 7.1}}': "unknown metric",
        b'{"ts": 1, "values": {"water_level": 400}}': "out of range",
        b'{"values": {"water_level": 1}}': "bad ts",
        orjson.dumps({"ts": NOW + 3600, "values": {"water_level": 1}}): "future",
        b"[" + b"1," * 9000 + b"1]": "too large",
    }
    expected: set[tuple[str, float]] = set()
    with Publisher(broker.port) as pub:
        bad_payloads = list(bad)
        for i in range(300):
            station = ("lujiang-daqi", "zhonghe-xinqi", "dapu-chaiqiao")[i % 3]
            ts = T0 + i * 60
            pub.publish(READINGS.format(station), reading(ts, water_level=2.0 + (i % 7) / 100))
            expected.add((station, ts))
            if i % 10 == 0:  # the same reading again: a duplicate
                pub.publish(READINGS.format(station), reading(ts, water_level=2.0))
            if i % 50 == 7:
                pub.publish(READINGS.format(station), bad_payloads[(i // 50) % len(bad)])
        pub.publish(READINGS.format("atlantis"), reading(T0, water_level=1))
        pub.publish("ecc/v1/stations/dapu-chaiqiao/status", b'{"online": "yes"}')
        pub.wait_acked()
    wait_for(lambda: store.readings.count() == 300, what="300 stored readings")
    wait_for(lambda: store.dead_letters.count() == 8, what="8 dead letters")
    stored = {
        (s, p.ts)
        for s in ("lujiang-daqi", "zhonghe-xinqi", "dapu-chaiqiao")
        for p in store.readings.range(s, "water_level", T0 - 1, NOW)
    }
    assert stored == expected
    letters = store.dead_letters.list()
    reasons = {d.raw: d.reason for d in letters}
    for payload, category in bad.items():
        assert reasons[payload].startswith(category + ": "), reasons[payload]
    atlantis = next(d for d in letters if d.topic.endswith("atlantis/readings"))
    assert atlantis.reason == "unknown station: 'atlantis' is not a station of this site"
    assert store.dead_letters.count_by_reason() == {
        **dict.fromkeys(bad.values(), 1),
        "unknown station": 1,
        "bad payload": 1,
    }
    assert ingest.worker is not None and ingest.error is None
    counts = ingest.worker.counts
    assert (counts.stored, counts.duplicates, counts.rejected) == (300, 30, 8)
    # The worker acknowledged all of it: nothing is held back.
    assert ingest.worker.session is not None
    wait_for(lambda: ingest.worker.session.inbox.held == 0)  # type: ignore[union-attr]


def test_an_alert_and_its_resolution_go_out_on_the_bus(
    ingest: RunningIngest, broker: PrivateBroker, store: Store
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    got: list[dict[str, object]] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(client: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        got.append(orjson.loads(m.payload))

    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("ecc/v1/alerts", qos=1)
    sub.loop_start()
    try:
        with Publisher(broker.port) as pub:
            for i, level in enumerate([2.0, 2.7, 2.0]):
                pub.publish(
                    READINGS.format("dapu-chaiqiao"), reading(T0 + i * 300, water_level=level)
                )
                pub.wait_acked()
                wait_for(partial(lambda n: store.readings.count() == n, i + 1))
        wait_for(lambda: len([a for a in got if a["kind"] == "level"]) == 2, what="two changes")
    finally:
        sub.loop_stop()
        sub.disconnect()
    raised, resolved = [a for a in got if a["kind"] == "level"]
    assert raised["state"] == "active" and raised["severity"] == "warning"
    assert raised["source"] == {"type": "station", "id": "dapu-chaiqiao"}
    assert resolved["state"] == "resolved" and resolved["id"] == raised["id"]
    assert resolved["resolved_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + 600))


def _env(tmp_path: Path, broker: PrivateBroker) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update(
        ECC_DATABASE_URL=f"sqlite:///{tmp_path}/ecc.db",
        ECC_DATA_DIR=str(tmp_path / "var"),
        ECC_MQTT_URL=broker.url,
        ECC_LOG_LEVEL="WARNING",
    )
    return env


def _worker(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    with (tmp_path / "ingest.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ecc", "ingest", "sensors", "--client-id", "ecc-ingest-kill"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
def test_kill_9_during_a_burst_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, broker: PrivateBroker
) -> None:
    env = _env(tmp_path, broker)
    store = open_store(env["ECC_DATABASE_URL"])
    stations = ["lujiang-daqi", "zhonghe-xinqi", "dapu-chaiqiao", "xiaojia-xiaogang"]
    total = 20_000
    worker = _worker(env, tmp_path)
    try:
        with Publisher(broker.port) as pub:
            # The worker's subscription exists once a first reading is stored; until then the
            # broker has nobody to give it to, so it is sent again (a duplicate once stored).
            def probe() -> bool:
                pub.publish(READINGS.format(stations[0]), reading(T0 - 1, water_level=2.0))
                pub.wait_acked()
                return store.readings.count() == 1

            wait_for(probe, timeout=30, what="the worker")
            killed_at = None
            for i in range(total - 1):
                pub.publish(READINGS.format(stations[i % 4]), reading(T0 + i, water_level=2.0))
                if killed_at is None and i % 100 == 0 and store.readings.count() > total // 10:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
                    killed_at = store.readings.count()
            pub.wait_acked(timeout=60)
        assert killed_at is not None and total // 10 < killed_at < total
        # While it is dead, its persistent session collects the rest at the broker.
        worker = _worker(env, tmp_path)
        wait_for(lambda: store.readings.count() >= total, timeout=90, what=f"{total} readings")
        assert store.readings.count() == total
        per_station = [store.readings.count(s) for s in stations]
        assert per_station == [5001, 5000, 5000, 4999]  # the probe, then 19,999 in turn
        conn = store.db.conn()  # type: ignore[attr-defined]
        distinct = conn.execute("SELECT count(DISTINCT station_id || ts) FROM readings").fetchone()
        assert distinct[0] == total
        assert store.dead_letters.count() == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        store.close()


def test_alert_raised_by_a_reading_reaches_a_websocket_client(
    center_on_broker: RunningCenter, broker: PrivateBroker, site: Site, store: Store
) -> None:
    center = center_on_broker
    ingest = RunningIngest(center.settings, site, store).start()
    try:
        wait_for(lambda: center.app.state.bus.connected, what="the center's bus")
        with (
            connect(f"{center.ws_url}/api/events?token={center.token('crew')}") as ws,
            Publisher(broker.port) as pub,
        ):
            ts = time.time() - 1
            pub.publish(READINGS.format("zhonghe-xinqi"), reading(ts, water_level=3.4))
            deadline = time.monotonic() + 15
            while True:
                msg = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
                if msg["type"] == "alert" and msg["data"]["kind"] == "level":
                    break
        alert = msg["data"]
        assert alert["severity"] == "danger" and alert["state"] == "active"
        assert alert["source"] == {"type": "station", "id": "zhonghe-xinqi"}
        assert alert["value"] == 3.4 and alert["threshold"] == 3.0
        listed = center.get("/api/alerts", "crew", params={"state": "active"}).json()
        assert alert["id"] in [a["id"] for a in listed]
    finally:
        ingest.stop()


def test_a_full_inbox_pushes_back_and_loses_nothing(
    ingest_settings: Settings, site: Site, store: Store, broker: PrivateBroker
) -> None:
    """Far more readings than the worker may hold: it stops reading until it has room."""
    cfg = ingest_settings.ingest.model_copy(update={"max_pending": 100, "batch_size": 10})
    small = ingest_settings.model_copy(update={"ingest": cfg})
    worker = RunningIngest(small, site, store, client_id="ecc-ingest-small").start()
    try:
        with Publisher(broker.port) as pub:
            for i in range(3000):
                pub.publish(READINGS.format("lujiang-daqi"), reading(T0 + i, water_level=2.0))
            pub.wait_acked()
        wait_for(lambda: store.readings.count() == 3000, timeout=60, what="3000 readings")
        assert worker.worker is not None and worker.worker.session is not None
        assert worker.worker.session.inbox.held <= 100
    finally:
        worker.stop()
