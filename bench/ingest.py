"""Sensor ingest benchmark: a real Mosquitto, `ecc ingest sensors` and `ecc serve` as processes.

Prints one JSON object:
- raw_ceiling_per_s: messages/s that the worker's own MQTT session code takes from the same
  broker and publishers with nothing behind it (acknowledged in batches, nothing stored);
- readings_per_s: readings/s stored and judged by the rules, from a backlog published as fast as
  the publishers go (C publishers, `mosquitto_pub -l`, one per station);
- stored_p50_ms, stored_p99_ms: publish -> committed, at a steady `--rate` (default 2,000/s);
- alert_p50_ms, alert_p99_ms: publish of a reading that crosses a threshold -> its alert on a
  WebSocket client of the center, during that steady load.
Figures are of this machine at this moment: on a shared machine, compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from websockets.sync.client import connect

from ecc.bus.broker import PrivateBroker, free_port
from ecc.bus.client import BrokerAddress
from ecc.command_center.auth import hash_password
from ecc.config.settings import IngestSettings
from ecc.ingest.session import DurableSession, Inbox, SessionConfig
from ecc.storage import open_store
from ecc.storage.models import User

STATIONS = [
    "xiaojia-xiaogang",
    "lujiang-daqi",
    "zhonghe-xinqi",
    "yongjiang-estuary",
    "ruiyansi-reservoir",
    "xinluao-reservoir",
    "dongao-reservoir",
]
ALERT_STATION = "dapu-chaiqiao"  # warning 2.6, danger 3.1: no rise rule
LEVEL = {"ruiyansi-reservoir": 30.0, "xinluao-reservoir": 45.0, "dongao-reservoir": 20.0}
PASSWORD = "bench-password-1"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def backlog_files(folder: Path, n: int, t0: float) -> list[tuple[str, Path]]:
    """One file of JSON lines per station; a station reports every 300 s of data time."""
    per = n // len(STATIONS)
    files = []
    for s in STATIONS:
        path = folder / f"{s}.jsonl"
        base = LEVEL.get(s, 2.0)
        with path.open("wb") as f:
            for k in range(per):
                payload = {"ts": t0 + k * 300, "values": {"water_level": base + (k % 11) / 100}}
                f.write(orjson.dumps(payload) + b"\n")
        files.append((s, path))
    return files


class Flood:
    """C publishers (`mosquitto_pub -l`), one per station, each sending its file's lines at QoS 1.

    mosquitto_pub drops what it still has queued when its input ends, so each one's input stays
    open until the receiving side has counted every message; only then is it closed.
    """

    def __init__(self, broker: PrivateBroker, files: list[tuple[str, Path]]) -> None:
        exe = shutil.which("mosquitto_pub")
        if exe is None:
            raise SystemExit("bench: mosquitto_pub is missing (Debian package mosquitto-clients)")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.feeders: list[threading.Thread] = []
        for station, path in files:
            proc = subprocess.Popen(
                [
                    *(exe, "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-V", "5"),
                    *("-t", f"ecc/v1/stations/{station}/readings", "-l"),
                    *("-i", f"pub-{station}"),
                ],
                stdin=subprocess.PIPE,
            )
            feeder = threading.Thread(
                target=_feed, args=(proc, path), name=f"bench-feed-{station}", daemon=True
            )
            feeder.start()
            self.procs.append(proc)
            self.feeders.append(feeder)

    def close(self) -> None:
        for feeder in self.feeders:
            feeder.join()
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)


def _feed(proc: subprocess.Popen[bytes], path: Path) -> None:
    assert proc.stdin is not None
    proc.stdin.write(path.read_bytes())
    proc.stdin.flush()


def raw_ceiling(broker: PrivateBroker, files: list[tuple[str, Path]], n: int) -> float:
    inbox = Inbox(20_000)
    session = DurableSession(
        SessionConfig(
            BrokerAddress.parse(broker.url),
            "bench-raw",
            ["$share/bench-raw/ecc/v1/stations/+/readings"],
            # Gone with its connection: a lingering member of a shared subscription would keep
            # getting its turn of the messages meant for the next phase.
            session_expiry_s=0,
        ),
        inbox,
    )
    session.start()
    session.wait_subscribed(10)
    received = 0
    started = time.monotonic()
    flood = Flood(broker, files)
    while received < n:
        batch = inbox.take(1000, 0.05, 30.0)
        if not batch:
            raise SystemExit(f"bench: the raw subscriber got {received} of {n} messages")
        session.ack(batch)
        inbox.done(len(batch))
        received += len(batch)
    elapsed = time.monotonic() - started
    flood.close()
    session.stop()
    return received / elapsed


def environment(folder: Path, broker: PrivateBroker, port: int, linger_ms: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update(
        ECC_DATABASE_URL=f"sqlite:///{folder}/ecc.db",
        ECC_DATA_DIR=str(folder / "var"),
        ECC_MQTT_URL=broker.url,
        ECC_HTTP_PORT=str(port),
        ECC_LOG_LEVEL="WARNING",
        ECC_SECRET="bench-secret",
        ECC_INGEST__BATCH_INTERVAL_MS=str(linger_ms),
    )
    return env


def start(args: list[str], env: dict[str, str], folder: Path, name: str) -> subprocess.Popen[bytes]:
    with (folder / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ecc", *args], env=env, cwd=folder, stdout=log, stderr=log
        )


def wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.05)


def count(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])


class Steady:
    """Readings at a steady rate, stamped with their publish time, plus threshold crossings."""

    def __init__(self, broker: PrivateBroker, rate: float, seconds: float) -> None:
        self.rate = rate
        self.seconds = seconds
        self.sent: dict[str, list[float]] = {s: [] for s in STATIONS}
        self.crossings: list[float] = []
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-steady", protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(1000)
        self.on_bus: list[tuple[float, Any]] = []
        c.on_message = lambda cl, u, m: self.on_bus.append((time.time(), orjson.loads(m.payload)))
        c.connect("127.0.0.1", broker.port)
        c.subscribe("ecc/v1/alerts", qos=1)
        c.loop_start()
        self.client = c

    def run(self) -> None:
        started = time.monotonic()
        i = 0
        high = False
        next_crossing = started + 0.5
        while True:
            now = time.monotonic()
            if now - started >= self.seconds:
                break
            due = started + i / self.rate
            if due > now:
                time.sleep(due - now)
            station = STATIONS[i % len(STATIONS)]
            ts = round(time.time(), 3)
            payload = {"ts": ts, "values": {"water_level": LEVEL.get(station, 2.0)}}
            self.client.publish(f"ecc/v1/stations/{station}/readings", orjson.dumps(payload), 1)
            self.sent[station].append(ts)
            i += 1
            if now >= next_crossing:
                high = not high
                ts = round(time.time(), 3)
                level = 3.5 if high else 2.0
                payload = {"ts": ts, "values": {"water_level": level}}
                self.client.publish(
                    f"ecc/v1/stations/{ALERT_STATION}/readings", orjson.dumps(payload), 1
                )
                self.crossings.append(ts)
                next_crossing = now + 0.25

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def watch_stored(
    db: Path, stop: threading.Event, seen: dict[str, list[tuple[float, float]]]
) -> None:
    """(newest stored ts, when seen) per station, polled from the `latest` table."""
    conn = sqlite3.connect(db, timeout=30)
    last: dict[str, float] = {}
    while not stop.is_set():
        now = time.time()
        for station, ts in conn.execute(
            "SELECT station_id, ts FROM latest WHERE metric = 'water_level'"
        ):
            if ts != last.get(station):
                last[station] = ts
                seen.setdefault(station, []).append((ts, now))
        time.sleep(0.002)
    conn.close()


def stored_latencies(steady: Steady, seen: dict[str, list[tuple[float, float]]]) -> list[float]:
    out = []
    for station, sent in steady.sent.items():
        marks = seen.get(station, [])
        j = 0
        for ts in sent:
            while j < len(marks) and marks[j][0] < ts:
                j += 1
            if j < len(marks):
                out.append((marks[j][1] - ts) * 1000)
    return out


def alert_watch(url: str, token: str, stop: threading.Event, got: list[tuple[float, Any]]) -> None:
    with connect(f"{url}/api/events?token={token}", open_timeout=10) as ws:
        while not stop.is_set():
            try:
                raw = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            received = time.time()
            msg = json.loads(raw)
            if msg["type"] == "alert" and msg["data"]["source"]["id"] == ALERT_STATION:
                got.append((received, msg["data"]))


def alert_latencies(got: list[tuple[float, Any]]) -> list[float]:
    out = []
    for received, data in got:
        at = data["resolved_at"] if data["state"] == "resolved" else data["raised_at"]
        out.append((received - parse_iso(at)) * 1000)
    return out


def parse_iso(text: str) -> float:
    from ecc import times

    return times.parse(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="under a minute")
    ap.add_argument("--readings", type=int, help="backlog size for the throughput figures")
    ap.add_argument("--rate", type=float, default=2000.0, help="steady readings/s for latencies")
    ap.add_argument("--seconds", type=float, help="length of the steady run")
    ap.add_argument(
        "--batch-interval-ms", type=int, default=None, help="the worker's ingest.batch_interval_ms"
    )
    args = ap.parse_args()
    # Stopped by a signal, still stop the broker and the ECC processes (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = args.readings or (28_000 if args.quick else 140_000)
    n -= n % len(STATIONS)
    seconds = args.seconds or (8.0 if args.quick else 30.0)

    with tempfile.TemporaryDirectory(prefix="ecc-bench-") as tmp:
        folder = Path(tmp)
        broker = PrivateBroker(folder / "mosquitto")
        broker.start()
        center = worker = None
        try:
            # Ends an hour ago: every reading is in the past, as the validation wants.
            files = backlog_files(folder, n, time.time() - 3600 - n // len(STATIONS) * 300)
            ceiling = raw_ceiling(broker, files, n)

            port = free_port()
            linger = args.batch_interval_ms or IngestSettings().batch_interval_ms
            env = environment(folder, broker, port, linger)
            store = open_store(env["ECC_DATABASE_URL"])
            store.users.add(User("bench", "admin", hash_password(PASSWORD), time.time()))
            store.close()
            db = folder / "ecc.db"
            center = start(["serve"], env, folder, "center")
            worker = start(["ingest", "sensors", "--client-id", "bench-ingest"], env, folder, "w")
            url = f"http://127.0.0.1:{port}"
            wait(lambda: _up(url), 30, "the center")
            # The worker's subscription exists once a probe is stored.
            probe = Steady(broker, 1, 0)
            wait(lambda: _probe(probe, db), 30, "the ingest worker")
            probe.stop()
            base = count(db)

            started = time.monotonic()
            flood = Flood(broker, files)
            wait(lambda: _progress(count(db) - base, n), 600, f"{n} stored readings")
            rate = n / (time.monotonic() - started)
            flood.close()

            token = httpx.post(
                f"{url}/api/auth/login", json={"username": "bench", "password": PASSWORD}
            ).json()["token"]
            # The center relays readings too; let it work off the backlog's before timing alerts.
            wait(lambda: _relayed(url, token) >= base + n, 300, "the center's relay")
            stop = threading.Event()
            seen: dict[str, list[tuple[float, float]]] = {}
            alerts: list[tuple[float, Any]] = []
            threads = [
                threading.Thread(target=watch_stored, args=(db, stop, seen), name="bench-stored"),
                threading.Thread(
                    target=alert_watch,
                    args=(f"ws://127.0.0.1:{port}", token, stop, alerts),
                    name="bench-alerts",
                ),
            ]
            for t in threads:
                t.start()
            time.sleep(0.5)  # the WebSocket client is connected
            steady = Steady(broker, args.rate, seconds)
            steady.run()
            time.sleep(1.0)  # the last readings and alerts come in
            stop.set()
            for t in threads:
                t.join()
            steady.stop()
        finally:
            for proc in (worker, center):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
            broker.stop()

    stored = stored_latencies(steady, seen)
    alert_ms = alert_latencies(alerts)
    bus_ms = alert_latencies(
        [(t, d) for t, d in steady.on_bus if d["source"]["id"] == ALERT_STATION]
    )
    print(
        json.dumps(
            {
                "readings_per_s": round(rate),
                "raw_ceiling_per_s": round(ceiling),
                "stored_p50_ms": round(percentile(stored, 50), 1),
                "stored_p99_ms": round(percentile(stored, 99), 1),
                "alert_p50_ms": round(percentile(alert_ms, 50), 1),
                "alert_p99_ms": round(percentile(alert_ms, 99), 1),
                "ratio_to_ceiling": round(rate / ceiling, 2),
                "backlog_readings": n,
                "steady_rate_per_s": args.rate,
                "steady_readings": sum(len(v) for v in steady.sent.values()),
                "alert_changes_measured": len(alert_ms),
                "alert_crossings_sent": len(steady.crossings),
                "stored_mean_ms": round(statistics.fmean(stored), 1) if stored else None,
                "alert_on_bus_p50_ms": round(percentile(bus_ms, 50), 1),
                "alert_on_bus_p99_ms": round(percentile(bus_ms, 99), 1),
            }
        )
    )


def _relayed(url: str, token: str) -> float:
    text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    for line in text.splitlines():
        if line.startswith('ecc_bus_messages_total{kind="reading"}'):
            return float(line.split()[-1])
    return 0.0


def _progress(done: int, n: int) -> bool:
    print(f"bench: {done}/{n} stored", file=sys.stderr, end="\r")
    return done >= n


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _probe(probe: Steady, db: Path) -> bool:
    payload = {"ts": time.time() - 3600, "values": {"water_level": 2.0}}
    probe.client.publish(f"ecc/v1/stations/{STATIONS[0]}/readings", orjson.dumps(payload), 1)
    time.sleep(0.2)
    return db.exists() and count(db) > 0


if __name__ == "__main__":
    main()
