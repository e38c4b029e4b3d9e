"""Vehicle benchmark: a vehicle's stream relayed by the center, and its recovery after an outage.

A real `ecc serve` and a real `ecc vehicle` (its camera the generated clock scene at 720p25,
1.5 Mbit/s, the page's "high" cap, its wall clock burned into each picture as a timecode; its
microphone a tone; a fixed position), each a process of its own:

- cpu_1_viewer_pct / cpu_8_viewers_pct: the center process's CPU with 1 and with 8 viewers of
  the vehicle. The viewers are WebRTC clients in another process that receive and reassemble but
  do not decode (bench/video.py's), so the two-core machine is not taken by decoders;
- latency_p50_ms: glass to glass, vehicle to dashboard: the timecode the agent burned in when it
  drew the picture, read back from a canvas in Chromium against the same clock (capture, encode,
  WHIP, the hub, WHEP, decode, paint);
- reconnect_s: the center is killed (SIGKILL: no goodbye, as in a crash or a cut link) and started
  again; from the moment it answers again until the vehicle's stream is in the hub with a
  keyframe (a viewer starts at once), with no action on the vehicle.

Prints one JSON object on stdout; progress goes to stderr. `--quick` runs in under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from video import CHROMIUM, cpu_percent, process, say, viewers, wait_until  # noqa: E402

from ecc.bus.broker import free_port  # noqa: E402

SECRET = "bench-secret-not-for-production"
CAMERA = "clock:1280x720@25"
BITRATE_KBPS = 1500
BROWSER_JS = REPO / "bench" / "video-browser.js"


def center_env(folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECC_")}
    env.update(
        ECC_DATABASE_URL=f"sqlite:///{folder}/ecc.db",
        ECC_DATA_DIR=str(folder / "var"),
        ECC_SECRET=SECRET,
        ECC_HTTP_PORT=str(port),
        ECC_LOG_LEVEL=os.environ.get("ECC_BENCH_LOG_LEVEL", "WARNING"),
        ECC_VIDEO__ICE_HOSTS="[]",
    )
    return env


def crew_token(folder: Path) -> str:
    """A crew member in the bench's database, and a token of theirs."""
    from ecc.command_center.auth import hash_password
    from ecc.storage import open_store
    from ecc.storage.models import User
    from ecc.tokens import Tokens

    store = open_store(f"sqlite:///{folder}/ecc.db")
    try:
        store.users.add(User("crew", "crew", hash_password("bench crew password"), time.time()))
    finally:
        store.close()
    return Tokens(SECRET.encode(), 3600).issue("crew", "crew")[0]


def tone(path: Path) -> Path:
    import array
    import math
    import wave

    rate = 16_000
    samples = array.array(
        "h", (int(6000 * math.sin(i * 2 * math.pi * 440 / rate)) for i in range(rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.loads(r.read())


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2):
            return True
    except (OSError, urllib.error.HTTPError):
        return False


def streaming(url: str, token: str) -> bool:
    try:
        sources = get(f"{url}/api/video/sources", token)["sources"]
    except OSError:
        return False
    return any(
        s["source_id"] == "vehicle:cmd-1" and s["publishing"] and s["keyframe_age_s"] is not None
        for s in sources
    )


@contextmanager
def center(folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    with process([sys.executable, "-m", "ecc", "serve"], center_env(folder, port), "center") as p:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), 30, "the center")
        yield p


def latency(url: str, token: str, seconds: float) -> list[float]:
    """Ages of the pictures Chromium paints: now minus the timecode the vehicle burned in."""
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
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page()
        page.goto(f"{url}/healthz")
        page.add_script_tag(content=BROWSER_JS.read_text())
        r = page.evaluate(
            "async ([url, token]) => bench.whep(url, token)",
            [f"{url}/api/whep/vehicle:cmd-1", token],
        )
        ages: list[float] = page.evaluate(
            "async ([id, s]) => bench.watch(bench.kept[id].video, s)", [r["id"], seconds]
        )
        page.evaluate("async ([id, token]) => bench.close(id, token)", [r["id"], token])
        browser.close()
    return ages


def run(quick: bool) -> dict[str, Any]:
    window = 5.0 if quick else 15.0
    watch_s = 5.0 if quick else 15.0
    outages = 1 if quick else 3
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ecc-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        token = crew_token(folder)
        first = stack.enter_context(center(folder, port))
        agent = [
            *(sys.executable, "-m", "ecc", "vehicle", "--server", url, "--token", token),
            *("--vehicle", "cmd-1", "--video", CAMERA, "--bitrate", str(BITRATE_KBPS)),
            *("--audio", str(tone(folder / "tone.wav")), "--gps", "fixed:29.9012,121.8452"),
            *("--data-dir", str(folder / "agent"), "--log-level", "WARNING"),
        ]
        stack.enter_context(process(agent, None, "agent"))
        wait_until(lambda: streaming(url, token), 60, "the vehicle's stream")
        time.sleep(2)  # past the start-up bursts of both
        say("vehicle streaming to the center")

        figures: dict[str, Any] = {}
        whep = f"{url}/api/whep/vehicle:cmd-1"
        for n, key in ((1, "cpu_1_viewer_pct"), (8, "cpu_8_viewers_pct")):
            with viewers("ecc", n, whep, token):
                time.sleep(1.0)
                figures[key] = round(cpu_percent(first.pid, window), 2)
            say(f"{n} viewers: center CPU {figures[key]} %")

        ages = latency(url, token, watch_s)
        figures["latency_p50_ms"] = round(statistics.median(ages), 1) if ages else None
        say(f"glass to glass p50 {figures['latency_p50_ms']} ms over {len(ages)} frames")

        # Outages: kill the center, wait as a cellular gap would, start it again.
        times: list[float] = []
        current = first
        for outage in range(outages):
            current.kill()
            current.wait()
            time.sleep(4.0)
            current = stack.enter_context(center(folder, port))
            restored = time.monotonic()
            wait_until(lambda: streaming(url, token), 60, "the stream to come back")
            times.append(time.monotonic() - restored)
            say(f"outage {outage + 1}: video again {times[-1]:.2f} s after the center")
        figures["reconnect_s"] = round(statistics.median(times), 2)
        figures["quick"] = quick
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description="ECC vehicle stream benchmark")
    parser.add_argument("--quick", action="store_true", help="a shorter run (under a minute)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        say(f"{CHROMIUM} is missing: `make bench` installs it")
        return 2
    figures = run(args.quick)
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
