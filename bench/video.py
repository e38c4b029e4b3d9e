"""Live video benchmark: ECC's camera worker and media hub beside Janus (a relay written in C).

Both are fed the same real RTSP camera (GStreamer, 720p30 H.264 at about 2 Mbit/s, its wall
clock burned into each picture as a timecode) and measured in one run:

- first_frame_ms / janus_first_frame_ms: a new Chromium viewer, from the start of its signalling
  to its first decoded frame (the camera already pushed: the hub's GOP cache vs Janus's
  `videobufferkf`);
- latency_p50_ms / janus_latency_p50_ms: glass to glass, the timecode read back from a canvas in
  Chromium against the same clock;
- cpu_per_source_pct: the center process with the camera pushed and no viewer;
- cpu_per_viewer_pct / janus_cpu_per_viewer_pct: the slope of process CPU over 1, 4, 8, 16
  viewers (1, 4 with --quick). The viewers are WebRTC clients in a separate process that receive
  and reassemble but do not decode, so the two-core machine is not saturated by decoders;
- peak_rss_mb and rss_growth_pct: the center's peak resident memory, and its growth over viewers
  joining and leaving, after a warm-up.

Everything runs inside a network namespace of its own (root; `unshare --net`), on loopback and a
veth carrying 127.0.0.2/32: Janus leaves loopback interfaces out when it gathers ICE candidates.
Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ecc.bus.broker import PrivateBroker, _die_with_parent, free_port  # noqa: E402
from ecc.media.simulate import RtspCameras  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
JANUS = "/usr/bin/janus"
JANUS_HOST = "127.0.0.2"
VETH = "eccb0"
SECRET = "bench-secret-not-for-production"
CAMERA = "clock:1280x720@30:2000"


def say(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# -- process CPU and memory -------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_percent(pid: int, seconds: float) -> float:
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def slope(points: list[tuple[int, float]]) -> float:
    xs = [float(x) for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


# -- the rig ----------------------------------------------------------------------------------


def network_namespace() -> None:
    """Loopback up, and a veth with 127.0.0.2/32 for Janus's ICE candidates."""
    for cmd in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "add", VETH, "type", "veth", "peer", "name", f"{VETH}p"],
        ["ip", "addr", "add", f"{JANUS_HOST}/32", "dev", VETH],
        ["ip", "link", "set", VETH, "up"],
        ["ip", "link", "set", f"{VETH}p", "up"],
    ):
        subprocess.run(cmd, check=True)


def site_file(folder: Path, rtsp: str) -> Path:
    path = folder / "site.toml"
    path.write_text(
        'name = "基准"\n[map]\ncenter_lat = 29.9\ncenter_lon = 121.8\n'
        f'[[cameras]]\nid = "bench"\nname = "bench"\nlat = 29.9\nlon = 121.8\nmain = "{rtsp}"\n'
        "record = false\npreload = true\n",
        encoding="utf-8",
    )
    return path


def ecc_env(folder: Path, broker: PrivateBroker, port: int, site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update(
        ECC_SITE=str(site),
        ECC_DATABASE_URL=f"sqlite:///{folder}/ecc.db",
        ECC_DATA_DIR=str(folder / "var"),
        ECC_MQTT_URL=broker.url,
        ECC_SECRET=SECRET,
        ECC_HTTP_PORT=str(port),
        ECC_CENTER_URL=f"http://127.0.0.1:{port}",
        ECC_LOG_LEVEL=os.environ.get("ECC_BENCH_LOG_LEVEL", "WARNING"),
        ECC_VIDEO__ICE_HOSTS="[]",
    )
    return env


@contextmanager
def process(
    args: list[str], env: dict[str, str] | None = None, name: str = ""
) -> Iterator[subprocess.Popen[bytes]]:
    logs = Path(os.environ.get("ECC_BENCH_LOGS", os.devnull))
    log = (logs / f"{name}.log" if logs.is_dir() else logs).open("wb")
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - one prctl call, no lock taken
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if name != "janus" else signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def janus_config(folder: Path, rtsp: str, http_port: int) -> Path:
    cfg = folder / "janus"
    cfg.mkdir()
    plugins = "/usr/lib/x86_64-linux-gnu/janus/plugins"
    transports = "/usr/lib/x86_64-linux-gnu/janus/transports"
    others = [p.name for p in Path(plugins).glob("*.so") if p.name != "libjanus_streaming.so"]
    other_transports = [
        p.name for p in Path(transports).glob("*.so") if p.name != "libjanus_http.so"
    ]
    (cfg / "janus.jcfg").write_text(
        "general: {\n"
        f'  configs_folder = "{cfg}"\n  plugins_folder = "{plugins}"\n'
        f'  transports_folder = "{transports}"\n  debug_level = 2\n'
        '  events_folder = "/nonexistent"\n  loggers_folder = "/nonexistent"\n}\n'
        'media: { rtp_port_range = "30000-39999" }\n'
        f'nat: {{ nice_debug = false\n  ice_enforce_list = "{VETH}" }}\n'
        f'plugins: {{ disable = "{",".join(others)}" }}\n'
        f'transports: {{ disable = "{",".join(other_transports)}" }}\n'
    )
    (cfg / "janus.transport.http.jcfg").write_text(
        'general: {\n  json = "plain"\n  base_path = "/janus"\n  http = true\n'
        f'  port = {http_port}\n  ip = "127.0.0.1"\n  https = false\n}}\n'
        "admin: { admin_http = false }\n"
    )
    (cfg / "janus.plugin.streaming.jcfg").write_text(
        "general: { }\n"
        'bench: {\n  type = "rtsp"\n  id = 1\n  description = "bench"\n  audio = false\n'
        f'  video = true\n  url = "{rtsp}"\n  videobufferkf = true\n'
        "  rtsp_reconnect_delay = 5\n}\n"
    )
    return cfg


# -- WebRTC load viewers (a separate process; they reassemble frames but decode nothing) ------


async def viewers_main(target: str, count: int, url: str, token: str) -> None:
    """Run `count` viewers until stdin closes; print `ready` once each has frames."""
    import urllib.request

    from aiortc import RTCPeerConnection, RTCSessionDescription

    from ecc.media import rtc

    rtc.register_h264_profiles()
    rtc.install_decoder_seam()
    # Janus gathers only on the veth's 127.0.0.2; its viewers offer that address too.
    rtc.use_host_addresses([JANUS_HOST] if target == "janus" else [], loopback=target == "ecc")
    frames = [0] * count

    class Count:
        def __init__(self, i: int) -> None:
            self.i = i

        def decode(self, encoded_frame: Any) -> list[Any]:
            frames[self.i] += 1
            return []

    def http(
        method: str, address: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(address, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {}, e.read()

    pcs: list[Any] = []
    janus_keep: list[tuple[str, int]] = []

    async def whep(i: int) -> None:
        pc = RTCPeerConnection(rtc.configuration())
        pcs.append(pc)
        t = pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        status, _, body = await asyncio.to_thread(
            http,
            "POST",
            url,
            pc.localDescription.sdp.encode(),
            {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )
        if status != 201:
            raise RuntimeError(f"WHEP {status}: {body[:200]!r}")
        await pc.setRemoteDescription(RTCSessionDescription(body.decode(), "answer"))
        rtc.forward_codecs(t, lambda: Count(i))

    async def janus(i: int) -> None:
        def call(path: str, payload: dict[str, Any]) -> dict[str, Any]:
            payload = {**payload, "transaction": os.urandom(6).hex()}
            _, _, body = http(
                "POST",
                f"{url}{path}",
                json.dumps(payload).encode(),
                {"Content-Type": "application/json"},
            )
            answer: dict[str, Any] = json.loads(body)
            return answer

        session = (await asyncio.to_thread(call, "", {"janus": "create"}))["data"]["id"]
        handle = (
            await asyncio.to_thread(
                call, f"/{session}", {"janus": "attach", "plugin": "janus.plugin.streaming"}
            )
        )["data"]["id"]
        janus_keep.append((f"/{session}", handle))
        await asyncio.to_thread(
            call,
            f"/{session}/{handle}",
            {"janus": "message", "body": {"request": "watch", "id": 1}},
        )
        offer = None
        for _ in range(50):
            _, _, body = await asyncio.to_thread(http, "GET", f"{url}/{session}?maxev=1", None, {})
            event = json.loads(body)
            if event.get("jsep"):
                offer = event["jsep"]["sdp"]
                break
        if offer is None:
            raise RuntimeError("Janus sent no offer")
        pc = RTCPeerConnection(rtc.configuration())
        pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        for t in pc.getTransceivers():
            if t.kind == "video":
                rtc.forward_codecs(t, lambda: Count(i))
        await pc.setLocalDescription(await pc.createAnswer())
        await asyncio.to_thread(
            call,
            f"/{session}/{handle}",
            {
                "janus": "message",
                "body": {"request": "start"},
                "jsep": {"type": "answer", "sdp": pc.localDescription.sdp},
            },
        )

    start = whep if target == "ecc" else janus
    for i in range(count):
        await start(i)
    # Counted in aiortc's receiver threads; polled here, as nothing on the loop is told.
    deadline = time.monotonic() + 60
    while min(frames) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"viewers got no frames: {frames}")
        await asyncio.sleep(0.05)
    print("ready", flush=True)

    async def keepalive() -> None:
        while True:
            await asyncio.sleep(20)
            for path, _ in janus_keep:
                await asyncio.to_thread(
                    http,
                    "POST",
                    f"{url}{path}",
                    json.dumps({"janus": "keepalive", "transaction": "k"}).encode(),
                    {"Content-Type": "application/json"},
                )

    keeper = asyncio.create_task(keepalive())
    await asyncio.to_thread(sys.stdin.read)
    keeper.cancel()
    for pc in pcs:
        await pc.close()


@contextmanager
def viewers(target: str, count: int, url: str, token: str) -> Iterator[None]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--viewers", target, str(count), url, token],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{count} {target} viewers did not start")
        yield
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


# -- Chromium: first frame and glass-to-glass latency -----------------------------------------

# The page side: WHEP and Janus viewers, time to first frame, the timecode read from a canvas.
BROWSER_JS = Path(__file__).with_name("video-browser.js")


def browser_figures(
    center: str, janus: str, token: str, trials: int, watch_s: float
) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
    ]
    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page()
        page.goto(f"{center}/healthz")
        page.add_script_tag(content=BROWSER_JS.read_text())
        whep = f"{center}/api/whep/camera:bench"
        for name, call, arg in (
            ("", "bench.whep(url, token)", whep),
            ("janus_", "bench.janus(url)", janus),
        ):
            firsts: list[float] = []
            ages: list[float] = []
            for trial in range(trials):
                r = page.evaluate(f"async ([url, token]) => {call}", [arg, token])
                firsts.append(r["ms"])
                if trial == 0:
                    ages = page.evaluate(
                        "async ([id, s]) => bench.watch(bench.kept[id].video, s)",
                        [r["id"], watch_s],
                    )
                page.evaluate("async ([id, token]) => bench.close(id, token)", [r["id"], token])
                time.sleep(0.3)
            out[f"{name}first_frame_ms"] = round(statistics.median(firsts), 1)
            out[f"{name}latency_p50_ms"] = (
                round(statistics.median(ages), 1) if ages else float("nan")
            )
            p50 = out[f"{name}latency_p50_ms"]
            who = name.rstrip("_") or "ecc"
            shown = [round(f) for f in firsts]
            say(f"{who}: first frames {shown} ms; latency p50 {p50} ms over {len(ages)} frames")
        browser.close()
    return out


# -- the run ----------------------------------------------------------------------------------


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def run(quick: bool) -> dict[str, Any]:
    import urllib.request

    from ecc.tokens import Tokens

    window = 3.0 if quick else 10.0
    counts = [1, 4] if quick else [1, 4, 8, 16]
    trials = 3 if quick else 7
    churn = 6 if quick else 24
    network_namespace()
    token = Tokens(SECRET.encode(), 3600).issue("bench", "service")[0]
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ecc-bench-") as tmp:
        folder = Path(tmp)
        camera = RtspCameras({"/bench": CAMERA}, free_port()).start()
        stack.callback(camera.stop)
        rtsp = camera.url("/bench")
        broker = PrivateBroker(folder / "mosquitto")
        broker.start()
        stack.callback(broker.stop)
        port = free_port()
        env = ecc_env(folder, broker, port, site_file(folder, rtsp))
        center_url = f"http://127.0.0.1:{port}"
        ecc_cmd = [sys.executable, "-m", "ecc"]
        center = stack.enter_context(process([*ecc_cmd, "serve"], env, "center"))
        stack.enter_context(process([*ecc_cmd, "ingest", "cameras"], env, "worker"))
        janus_port = free_port()
        janus = stack.enter_context(
            process([JANUS, "-F", str(janus_config(folder, rtsp, janus_port)), "-N"], None, "janus")
        )
        janus_url = f"http://127.0.0.1:{janus_port}/janus"

        def pushed() -> bool:
            try:
                req = urllib.request.Request(
                    f"{center_url}/api/video/sources", headers={"Authorization": f"Bearer {token}"}
                )
                with urllib.request.urlopen(req, timeout=5) as r:
                    sources = json.loads(r.read())["sources"]
                return any(s["publishing"] and s["keyframe_age_s"] is not None for s in sources)
            except OSError:
                return False

        def janus_up() -> bool:
            try:
                with urllib.request.urlopen(f"{janus_url}/info", timeout=5):
                    return True
            except OSError:
                return False

        wait_until(pushed, 60, "the camera to be pushed to ECC")
        wait_until(janus_up, 30, "Janus")
        time.sleep(2)  # both sides past their start-up bursts
        say("camera pushed to ECC; Janus up")

        figures: dict[str, Any] = {}
        figures["cpu_per_source_pct"] = round(cpu_percent(center.pid, window), 2)
        say(f"center CPU, camera pushed, no viewer: {figures['cpu_per_source_pct']} %")

        ecc_points: list[tuple[int, float]] = [(0, figures["cpu_per_source_pct"])]
        janus_idle = cpu_percent(janus.pid, window)
        janus_points: list[tuple[int, float]] = [(0, janus_idle)]
        whep = f"{center_url}/api/whep/camera:bench"
        for n in counts:
            with viewers("ecc", n, whep, token):
                time.sleep(1.0)
                ecc_points.append((n, cpu_percent(center.pid, window)))
            with viewers("janus", n, janus_url, ""):
                time.sleep(1.0)
                janus_points.append((n, cpu_percent(janus.pid, window)))
            say(f"{n} viewers: ECC {ecc_points[-1][1]:.1f} %, Janus {janus_points[-1][1]:.1f} %")
        figures["cpu_per_viewer_pct"] = round(slope(ecc_points), 3)
        figures["janus_cpu_per_viewer_pct"] = round(slope(janus_points), 3)
        figures["cpu_per_viewer_ratio"] = (
            round(figures["cpu_per_viewer_pct"] / figures["janus_cpu_per_viewer_pct"], 2)
            if figures["janus_cpu_per_viewer_pct"] > 0
            else None
        )

        figures.update(browser_figures(center_url, janus_url, token, trials, 3.0 if quick else 8.0))

        # Memory: viewers joining and leaving; growth measured after a warm-up.
        warm = None
        for cycle in range(churn):
            with viewers("ecc", 4, whep, token):
                pass
            if cycle == max(1, churn // 4):
                time.sleep(1.0)
                warm = rss_mb(center.pid)
        time.sleep(1.0)
        end = rss_mb(center.pid)
        figures["peak_rss_mb"] = round(rss_mb(center.pid, "VmHWM"), 1)
        figures["rss_growth_pct"] = round(100 * (end - warm) / warm, 1) if warm else None
        figures["janus_rss_mb"] = round(rss_mb(janus.pid), 1)
        figures["ecc_cpu_points"] = [[n, round(c, 2)] for n, c in ecc_points]
        figures["janus_cpu_points"] = [[n, round(c, 2)] for n, c in janus_points]
        figures["quick"] = quick
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description="ECC live video benchmark beside Janus")
    parser.add_argument("--quick", action="store_true", help="a shorter run (under a minute)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--viewers", nargs=4, metavar=("TARGET", "N", "URL", "TOKEN"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.viewers:
        target, n, url, token = args.viewers
        asyncio.run(viewers_main(target, int(n), url, token))
        return 0
    for tool in (JANUS, CHROMIUM, "/usr/bin/python3"):
        if not Path(tool).exists():
            say(f"{tool} is missing: `make bench` installs it")
            return 2
    if not args.inside:
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            say("needs root and unshare(1): it runs in a network namespace of its own")
            return 2
        cmd = ["unshare", "--net", sys.executable, __file__, "--inside"]
        if args.quick:
            cmd.append("--quick")
        child = subprocess.Popen(cmd)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda s, _f: child.send_signal(s))
        return child.wait()
    # Stopped from outside: unwind, so every process of the rig is stopped.
    signal.signal(signal.SIGTERM, lambda _s, _f: sys.exit(143))
    figures = run(args.quick)
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
