"""Sensor ingest benchmark: a real Mosquitto, `ecc ingest sensors` and `ecc serve` as processes.

Prints one JSON object:
- raw_ceiling_per_s: messages/s that the worker's own MQTT session code takes from the same
  broker and publishers with nothing behind it (acknowledged in batches, nothing stored);
- readings_per_s: readings/s stored and judged by the rules, from a backlog published as fast as
  the publishers go (C publishers, `mosquitto_pub -l`, one per station);
- stored_p50_ms, stored_p99_ms: publish -> committed, at a steady `--rate` (default 2,000/s);
- alert_p50_ms, alert_p99_ms: publish of a reading that crosses a threshold -> its alert on a
  WebSocket client of the center, during that steady load.

The steady load runs twice, on a site file generated for the run (the example site's stations
and `--stations` more):
- spread (the top-level figures): the rate spread over hundreds of stations, each a few
  readings a second (water levels with level and rise rules, rain gauges with the rainstorm
  signals, air quality), whose windows hold history stored before the worker started (an hour
  of levels, twelve hours of rain), as a worker that has been running finds them; some of the
  water-level stations cross their danger level and fall back every few seconds;
- dense (under "dense"): the example site's seven river and reservoir stations at ~285
  readings/s each, their windows growing by thousands of points, and one more station crossing
  its warning level every 0.25 s: the worst case for the rules' windows.
Figures are of this machine at this moment: on a shared machine, compare ratios (the load
average is printed beside them).
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
from dataclasses import dataclass
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
from ecc.config.site import EXAMPLE_SITE, load_site
from ecc.ingest.session import DurableSession, Inbox, SessionConfig
from ecc.storage import Store, open_store
from ecc.storage.models import Reading, User

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
# Generated stations: 70% water level, 20% rain gauges, 10% air quality.
KINDS = (("wl", "water_level", 0.7), ("rain", "rain", 0.2), ("air", "air", 0.1))
CROSSING_STATIONS = 8  # water-level stations of the spread load that cross their danger level
CROSSING_PERIOD_S = 2.0  # each one: high for this long, then low for this long
HISTORY = {"water_level": (3600.0, 10.0), "rain": (12 * 3600.0, 60.0)}  # span, one reading per


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def generated_stations(n: int) -> list[tuple[str, str]]:
    """(id, kind) of n stations, the kinds in the proportions of KINDS."""
    out: list[tuple[str, str]] = []
    for prefix, kind, share in KINDS:
        count = n - len(out) if prefix == KINDS[-1][0] else round(n * share)
        out.extend((f"gen-{prefix}-{k:03d}", kind) for k in range(count))
    return out


def write_site(folder: Path, generated: list[tuple[str, str]]) -> Path:
    """The example site's stations (without their cameras) and the generated ones."""
    example = load_site(EXAMPLE_SITE)
    lines = [
        f"name = {json.dumps(example.name)}",
        f"timezone = {json.dumps(example.timezone)}",
        f"offline_after_intervals = {example.offline_after_intervals}",
        "",
        "[map]",
        f"center_lat = {example.map.center_lat}",
        f"center_lon = {example.map.center_lon}",
        f"zoom = {example.map.zoom}",
    ]
    stations = [st.model_dump(exclude_none=True, exclude={"cameras"}) for st in example.stations]
    for k, (station, kind) in enumerate(generated):
        st: dict[str, Any] = {
            "id": station,
            "name": f"生成站 {k}",
            "kind": kind,
            "lat": example.map.center_lat + (k % 25) * 0.002,
            "lon": example.map.center_lon + (k // 25) * 0.002,
            "interval_s": 1,
            # Silent through the other phases: not an outage that the bench should announce.
            "offline_after_s": 3600,
        }
        if kind == "water_level":
            st["thresholds"] = {
                "water_level": {
                    "warning": 2.6,
                    "danger": 3.1,
                    "deadband": 0.05,
                    "rise_per_hour": 0.3,
                }
            }
        stations.append(st)
    for st in stations:
        thresholds = st.pop("thresholds", {})
        lines += ["", "[[stations]]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in st.items()]
        for metric, t in thresholds.items():
            lines += ["", f"[stations.thresholds.{metric}]"]
            lines += [f"{key} = {json.dumps(value)}" for key, value in t.items()]
    path = folder / "site.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def values(kind: str, i: int, high: bool = False) -> dict[str, float]:
    """What a generated station reports, quietly: no alert unless `high`."""
    if kind == "water_level":
        return {"water_level": 3.5 if high else 2.0 + (i % 5) / 100}
    if kind == "rain":
        return {"rainfall": 0.02 if i % 7 == 0 else 0.0}
    return {"pm25": 30.0 + i % 9, "pm10": 50.0, "aqi": 45.0}


def prefill(store: Store, generated: list[tuple[str, str]], end: float) -> int:
    """History up to `end` for the generated stations, what their rules' windows hold."""
    total = 0
    for station, kind in generated:
        span, every = HISTORY.get(kind, (60.0, 60.0))
        n = int(span / every)
        batch = [Reading(station, end - (n - k) * every, values(kind, k)) for k in range(n)]
        total += len(store.readings.insert(batch))
    return total


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


@dataclass(frozen=True)
class Load:
    """Who reports during a steady phase, and which stations' alerts are timed."""

    name: str
    stations: list[tuple[str, str]]
    """(id, kind), reporting in turn."""
    crossing: list[str]
    """Stations among them that cross their danger level and fall back, in turn."""
    extra: str | None = None
    """A station beside them whose level crosses its warning level every 0.25 s."""

    def watched(self) -> set[str]:
        return {*self.crossing, *([self.extra] if self.extra else [])}


def dense_load() -> Load:
    return Load("dense", [(s, "water_level") for s in STATIONS], [], extra=ALERT_STATION)


def spread_load(generated: list[tuple[str, str]]) -> Load:
    levels = [s for s, kind in generated if kind == "water_level"]
    return Load("spread", generated, levels[:CROSSING_STATIONS])


class Steady:
    """Readings at a steady rate, stamped with their publish time, plus threshold crossings."""

    def __init__(self, broker: PrivateBroker, load: Load, rate: float, seconds: float) -> None:
        self.load = load
        self.rate = rate
        self.seconds = seconds
        self.sent: dict[str, list[float]] = {s: [] for s, _ in load.stations}
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
        stations = self.load.stations
        crossing = {s: k for k, s in enumerate(self.load.crossing)}
        high: dict[str, bool] = dict.fromkeys(crossing, False)
        started = time.monotonic()
        i = 0
        extra_high = False
        next_crossing = started + 0.5
        while True:
            now = time.monotonic()
            if now - started >= self.seconds:
                break
            due = started + i / self.rate
            if due > now:
                time.sleep(due - now)
            station, kind = stations[i % len(stations)]
            n = i // len(stations)
            ts = round(time.time(), 3)
            if station in crossing:
                # High for a period, low for a period, the stations a share of it apart.
                phase = (now - started) / CROSSING_PERIOD_S + crossing[station] / len(crossing)
                up = now - started > 0.5 and int(phase) % 2 == 1
                if up != high[station]:
                    high[station] = up
                    self.crossings.append(ts)
                payload = {"ts": ts, "values": values(kind, n, up)}
            elif self.load.extra is None:
                payload = {"ts": ts, "values": values(kind, n)}
            else:
                payload = {"ts": ts, "values": {"water_level": LEVEL.get(station, 2.0)}}
            self.client.publish(f"ecc/v1/stations/{station}/readings", orjson.dumps(payload), 1)
            self.sent[station].append(ts)
            i += 1
            if self.load.extra is not None and now >= next_crossing:
                extra_high = not extra_high
                ts = round(time.time(), 3)
                level = 3.5 if extra_high else 2.0
                payload = {"ts": ts, "values": {"water_level": level}}
                self.client.publish(
                    f"ecc/v1/stations/{self.load.extra}/readings", orjson.dumps(payload), 1
                )
                self.crossings.append(ts)
                next_crossing = now + 0.25

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def watch_stored(
    db: Path, stations: list[str], stop: threading.Event, seen: dict[str, list[tuple[float, float]]]
) -> None:
    """(newest stored ts, when seen) per station, polled from the `latest` table."""
    conn = sqlite3.connect(db, timeout=30)
    query = (
        "SELECT station_id, max(ts) FROM latest WHERE station_id IN "
        f"({','.join('?' * len(stations))}) GROUP BY station_id"
    )
    last: dict[str, float] = {}
    while not stop.is_set():
        now = time.time()
        for station, ts in conn.execute(query, stations):
            if ts != last.get(station):
                last[station] = ts
                seen.setdefault(station, []).append((ts, now))
        time.sleep(0.002)
    conn.close()


def stored_latencies(steady: Steady, seen: dict[str, list[tuple[float, float]]]) -> list[float]:
    out = []
    for station, marks in seen.items():
        j = 0
        for ts in steady.sent[station]:
            while j < len(marks) and marks[j][0] < ts:
                j += 1
            if j < len(marks):
                out.append((marks[j][1] - ts) * 1000)
    return out


def alert_watch(
    url: str, token: str, watched: set[str], stop: threading.Event, got: list[tuple[float, Any]]
) -> None:
    with connect(f"{url}/api/events?token={token}", open_timeout=10) as ws:
        while not stop.is_set():
            try:
                raw = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            received = time.time()
            msg = json.loads(raw)
            if msg["type"] == "alert" and msg["data"]["source"]["id"] in watched:
                got.append((received, msg["data"]))


def alert_latencies(got: list[tuple[float, Any]]) -> list[float]:
    out = []
    for received, data in got:
        at = data["resolved_at"] if data["state"] == "resolved" else data["updated_at"]
        out.append((received - parse_iso(at)) * 1000)
    return out


def parse_iso(text: str) -> float:
    from ecc import times

    return times.parse(text)


@dataclass
class Phase:
    """A steady phase's figures."""

    steady: Steady
    stored: list[float]
    alerts: list[float]
    bus: list[float]
    load_average: tuple[float, float, float]

    def figures(self) -> dict[str, Any]:
        return {
            "stored_p50_ms": round(percentile(self.stored, 50), 1),
            "stored_p99_ms": round(percentile(self.stored, 99), 1),
            "alert_p50_ms": round(percentile(self.alerts, 50), 1),
            "alert_p99_ms": round(percentile(self.alerts, 99), 1),
            "steady_stations": len(self.steady.load.stations),
            "steady_rate_per_s": self.steady.rate,
            "steady_readings": sum(len(v) for v in self.steady.sent.values()),
            "stored_sampled": len(self.stored),
            "stored_mean_ms": round(statistics.fmean(self.stored), 1) if self.stored else None,
            "alert_crossings_sent": len(self.steady.crossings),
            "alert_changes_measured": len(self.alerts),
            "alert_on_bus_p50_ms": round(percentile(self.bus, 50), 1),
            "alert_on_bus_p99_ms": round(percentile(self.bus, 99), 1),
            "load_average_1m": self.load_average[0],
        }


def steady_phase(
    broker: PrivateBroker, load: Load, args: argparse.Namespace, db: Path, url: str, token: str
) -> Phase:
    ids = [s for s, _ in load.stations]
    # publish -> stored, on a sample of the stations (polling all of them would load the
    # machine more than the worker does): every station of a small load, 1 in 20 otherwise.
    sample = ids if len(ids) <= 20 else ids[:: max(1, len(ids) // 25)]
    stop = threading.Event()
    seen: dict[str, list[tuple[float, float]]] = {}
    alerts: list[tuple[float, Any]] = []
    threads = [
        threading.Thread(target=watch_stored, args=(db, sample, stop, seen), name="bench-stored"),
        threading.Thread(
            target=alert_watch,
            args=(f"ws://{url.removeprefix('http://')}", token, load.watched(), stop, alerts),
            name="bench-alerts",
        ),
    ]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the WebSocket client is connected
    steady = Steady(broker, load, args.rate, args.seconds)
    steady.run()
    time.sleep(1.0)  # the last readings and alerts come in
    stop.set()
    for t in threads:
        t.join()
    steady.stop()
    watched = load.watched()
    return Phase(
        steady,
        stored_latencies(steady, seen),
        alert_latencies(alerts),
        alert_latencies([(t, d) for t, d in steady.on_bus if d["source"]["id"] in watched]),
        os.getloadavg(),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="under a minute and a half")
    ap.add_argument("--readings", type=int, help="backlog size for the throughput figures")
    ap.add_argument("--rate", type=float, default=2000.0, help="steady readings/s for latencies")
    ap.add_argument("--seconds", type=float, help="length of each steady phase")
    ap.add_argument(
        "--stations", type=int, default=500, help="generated stations of the spread load"
    )
    ap.add_argument(
        "--steady", choices=["both", "spread", "dense"], default="both", help="steady phases"
    )
    ap.add_argument(
        "--batch-interval-ms", type=int, default=None, help="the worker's ingest.batch_interval_ms"
    )
    args = ap.parse_args()
    # Stopped by a signal, still stop the broker and the ECC processes (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = args.readings or (28_000 if args.quick else 140_000)
    n -= n % len(STATIONS)
    args.seconds = args.seconds or (8.0 if args.quick else 30.0)
    generated = generated_stations(args.stations)
    phases: dict[str, Phase] = {}

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
            env["ECC_SITE"] = str(write_site(folder, generated))
            store = open_store(env["ECC_DATABASE_URL"])
            store.users.add(User("bench", "admin", hash_password(PASSWORD), time.time()))
            # Stored before the worker starts, which loads these windows as it catches up.
            prefilled = prefill(store, generated, time.time() - 5) if args.steady != "dense" else 0
            store.close()
            db = folder / "ecc.db"
            center = start(["serve"], env, folder, "center")
            worker = start(["ingest", "sensors", "--client-id", "bench-ingest"], env, folder, "w")
            url = f"http://127.0.0.1:{port}"
            wait(lambda: _up(url), 30, "the center")
            # The worker's subscription exists once a probe is stored.
            base = count(db)
            probe = Steady(broker, dense_load(), 1, 0)
            wait(lambda: _probe(probe, db, base), 60, "the ingest worker")
            probe.stop()
            base = count(db)
            token = httpx.post(
                f"{url}/api/auth/login", json={"username": "bench", "password": PASSWORD}
            ).json()["token"]
            relayed = _relayed(url, token)

            started = time.monotonic()
            flood = Flood(broker, files)
            wait(lambda: _progress(count(db) - base, n), 600, f"{n} stored readings")
            rate = n / (time.monotonic() - started)
            flood.close()

            # The center relays readings too; let it work off the backlog's before timing alerts.
            wait(lambda: _relayed(url, token) >= relayed + n, 300, "the center's relay")
            if args.steady in ("both", "spread"):
                phases["spread"] = steady_phase(
                    broker, spread_load(generated), args, db, url, token
                )
            if args.steady in ("both", "dense"):
                phases["dense"] = steady_phase(broker, dense_load(), args, db, url, token)
        finally:
            for proc in (worker, center):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
            broker.stop()

    main_phase = phases.get("spread") or phases["dense"]
    out: dict[str, Any] = {
        "readings_per_s": round(rate),
        "raw_ceiling_per_s": round(ceiling),
        **main_phase.figures(),
        "ratio_to_ceiling": round(rate / ceiling, 2),
        "backlog_readings": n,
        "prefilled_readings": prefilled,
        "steady_load": main_phase.steady.load.name,
    }
    if "dense" in phases and main_phase is not phases["dense"]:
        out["dense"] = phases["dense"].figures()
    print(json.dumps(out))


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


def _probe(probe: Steady, db: Path, base: int) -> bool:
    payload = {"ts": time.time() - 3600, "values": {"water_level": 2.0}}
    probe.client.publish(f"ecc/v1/stations/{STATIONS[0]}/readings", orjson.dumps(payload), 1)
    time.sleep(0.2)
    return count(db) > base


if __name__ == "__main__":
    main()
