"""Recording and playback: recorder CPU, disk overhead, playlist answer time, first frame.

Prints one JSON object. `--quick` runs in under a minute.

- recorder_cpu_pct: CPU of one recorder, in per cent of a core, recording a 720p30 2 Mbit/s
  H.264 camera (x264, a keyframe a second, sensor noise so that every frame carries residual):
  several recorders at once are fed the stream in real time on one event loop, as the camera
  worker feeds them, writing through their thread pool into segment files indexed in SQLite;
  the process's CPU time over the run, divided by the recorders.
- disk_overhead_pct: bytes of the segment files against the bytes of H.264 they hold (the
  camera's elementary stream, start codes included). `mpegts_overhead_pct` is the same stream
  remuxed into MPEG-TS by FFmpeg, for comparison.
- seek_ms: median time for the center to answer a playback request (the playlist the dashboard
  asks for when a seek leaves its loaded window: 30 min either side) into the middle of 24 h of
  index of every camera of the example site, measured at the client over loopback.
- playback_first_frame_ms: in Chromium, from typing a time on /playback (outside the loaded
  playlist: a new playlist, its segments fetched and decoded) to that picture painted; median.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402

from ecc.config import EXAMPLE_SITE, load_settings, load_site  # noqa: E402
from ecc.media.frames import VIDEO_CLOCK, AccessUnit  # noqa: E402
from ecc.media.h264 import is_keyframe, split_annexb  # noqa: E402
from ecc.media.recorder import Recorder, RecorderOptions, segment_name  # noqa: E402
from ecc.storage import open_store  # noqa: E402
from ecc.storage.sqlite import SQLiteStore  # noqa: E402
from tests.support.center import PASSWORD, RunningCenter  # noqa: E402

WIDTH, HEIGHT, FPS, BITRATE = 1280, 720, 30, 2_000_000


def camera_stream(seconds: int) -> list[tuple[list[bytes], int, bool]]:
    """A 720p30 2 Mbit/s camera: x264, a keyframe a second, no B-frames, a noisy scene."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = fractions.Fraction(1, VIDEO_CLOCK)
    codec.framerate = fractions.Fraction(FPS)
    codec.bit_rate = BITRATE
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:repeat-headers=1"
        f":vbv-maxrate={BITRATE // 1000}:vbv-bufsize={BITRATE // 1000}",
    }
    rng = np.random.default_rng(7)
    base = np.tile(np.linspace(30, 200, WIDTH, dtype=np.uint8), (HEIGHT, 1))
    out: list[tuple[list[bytes], int, bool]] = []
    for i in range(seconds * FPS):
        y = base.copy()
        y[:, (i * 8) % WIDTH : (i * 8) % WIDTH + 40] = 235
        y = np.clip(y.astype(np.int16) + rng.integers(-6, 7, y.shape), 0, 255).astype(np.uint8)
        yuv = np.concatenate([y, np.full((HEIGHT // 2, WIDTH), 128, np.uint8)])
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i * VIDEO_CLOCK // FPS
        frame.time_base = codec.time_base
        for p in codec.encode(frame):
            units = split_annexb(bytes(p))
            out.append((units, int(p.pts), is_keyframe(units)))
    for p in codec.encode(None):
        units = split_annexb(bytes(p))
        out.append((units, int(p.pts), is_keyframe(units)))
    return out


async def feed_in_real_time(
    recorders: list[Recorder], stream: list[tuple[list[bytes], int, bool]], seconds: float
) -> int:
    """Every recorder gets the stream, looped, at 30 frames a second of wall time; returns the
    bytes of H.264 (Annex-B) each was given."""
    loop = asyncio.get_running_loop()
    period = len(stream) * VIDEO_CLOCK // FPS
    start = loop.time()
    n = 0
    total = int(seconds * FPS)
    fed = 0
    while n < total:
        units, pts, key = stream[n % len(stream)]
        unit = AccessUnit(units, pts + (n // len(stream)) * period, key)
        fed += sum(4 + len(u) for u in units)
        now = time.time()
        for r in recorders:
            r.push(unit, now)
        n += 1
        delay = start + n / FPS - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    return fed


def recorder_figures(
    stream: list[tuple[list[bytes], int, bool]], cameras: int, seconds: float
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        store = open_store(f"sqlite:///{data / 'ecc.db'}")

        async def run() -> tuple[list[Recorder], float, int]:
            pool = ThreadPoolExecutor(4, thread_name_prefix="recorder")
            recorders = [
                Recorder(f"camera:bench-{i}", store, data, pool, RecorderOptions())
                for i in range(cameras)
            ]
            tasks = [asyncio.create_task(r.run()) for r in recorders]
            cpu0, wall0 = time.process_time(), time.monotonic()
            fed = await feed_in_real_time(recorders, stream, seconds)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for r in recorders:
                await r.close()
            cpu = time.process_time() - cpu0
            wall = time.monotonic() - wall0
            pool.shutdown()
            return recorders, 100 * cpu / wall / cameras, fed * cameras

        recorders, cpu_pct, fed = asyncio.run(run())
        segments = [
            s for i in range(cameras) for s in store.recordings.range(f"camera:bench-{i}", 0, 4e9)
        ]
        on_disk = sum(s.bytes for s in segments)
        one = segments[0]
        ts = data / "remux.ts"
        with av.open(str(data / one.path)) as src, av.open(str(ts), "w", format="mpegts") as dst:
            out = dst.add_stream_from_template(src.streams.video[0])
            payload = 0
            for packet in src.demux(src.streams.video[0]):
                if packet.dts is None:
                    continue
                payload += packet.size
                packet.stream = out
                dst.mux(packet)
        store.close()
        dropped = sum(r.counts.dropped_frames for r in recorders)
        return {
            "recorder_cpu_pct": round(cpu_pct, 2),
            "disk_overhead_pct": round(100 * (on_disk / fed - 1), 2),
            "mpegts_overhead_pct": round(100 * (ts.stat().st_size / payload - 1), 2),
            "recorder_cameras": cameras,
            "recorder_dropped_frames": dropped,
        }


def index_day(store: SQLiteStore, sources: list[str], day_start: float) -> int:
    """24 h of 10 s segments per source, straight into the index (no files: a playlist reads
    only the index)."""
    rows = []
    for source in sources:
        for k in range(8640):
            start = day_start + 10 * k
            rows.append(
                (
                    uuid.uuid4().hex,
                    source,
                    start,
                    start + 10,
                    segment_name(source, start),
                    2_500_000,
                    900,
                    "[0,1,2,3,4,5,6,7,8,9]",
                    "avc1.42e01f",
                    1280,
                    720,
                    "abc",
                    None,
                )
            )
    with store.db.write() as conn:
        conn.executemany(
            'INSERT INTO recordings (id, source, start, "end", path, bytes, init_bytes, keyframes,'
            " codec, width, height, init_id, motion) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    return len(rows)


def record_spans(
    store: Any,
    data: Path,
    source: str,
    stream: list[tuple[list[bytes], int, bool]],
    walls: list[float],
    seconds: float,
) -> None:
    async def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            for wall0 in walls:
                r = Recorder(source, store, data, pool, RecorderOptions(queue_fragments=10_000))
                task = asyncio.create_task(r.run())
                period = len(stream) * VIDEO_CLOCK // FPS
                for n in range(int(seconds * FPS)):
                    units, pts, key = stream[n % len(stream)]
                    r.push(
                        AccessUnit(units, pts + (n // len(stream)) * period, key), wall0 + n / FPS
                    )
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await r.close()

    asyncio.run(run())


def playback_figures(stream: list[tuple[list[bytes], int, bool]], quick: bool) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        site = load_site(EXAMPLE_SITE)
        settings = load_settings(
            database_url=f"sqlite:///{data / 'ecc.db'}",
            data_dir=str(data / "var"),
            secret="bench-secret",
        )
        store = open_store(settings.database_url)
        assert isinstance(store, SQLiteStore)
        now = time.time()
        day_start = now - 86400 - 3600
        sources = [f"camera:{c.id}" for c in site.cameras]
        rows = index_day(store, sources[1:], day_start)
        # The first camera has real files: two recorded stretches two hours apart.
        camera = site.cameras[0].id
        walls = [now - 3 * 3600, now - 3600]
        record_spans(store, data / "var", f"camera:{camera}", stream, walls, 40.0)
        center = RunningCenter(settings, site, store).start()
        center.add_users()
        try:
            token = center.token("leader")
            seeks: list[float] = []
            mid = day_start + 43200
            with httpx.Client(
                base_url=center.url, headers={"Authorization": f"Bearer {token}"}
            ) as c:
                for i in range(10 if quick else 40):
                    t = mid + 37 * i
                    q = {"start": t - 1800, "end": t + 1800}
                    began = time.perf_counter()
                    r = c.get(f"/api/cameras/{site.cameras[1].id}/playback.m3u8", params=q)
                    seeks.append((time.perf_counter() - began) * 1000)
                    assert r.status_code == 200 and r.text.count("#EXTINF") == 361, r.text[:200]
            first_frames = browser_first_frames(
                center, camera, walls, 4 if quick else 10, sync_playwright
            )
        finally:
            center.stop()
            store.close()
        return {
            "seek_ms": round(statistics.median(seeks[2:]), 1),
            "playback_first_frame_ms": round(statistics.median(first_frames), 1),
            "index_segments": rows,
        }


def browser_first_frames(
    center: RunningCenter, camera: str, walls: list[float], times: int, sync_playwright: Any
) -> list[float]:
    zone = ZoneInfo("Asia/Shanghai")
    out: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
            headless=True,
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.goto(f"{center.url}/login?next=/playback")
            page.fill("#username", "leader")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(f"{center.url}/playback")
            start = datetime.fromtimestamp(walls[1] + 5, tz=UTC).isoformat()
            page.goto(f"{center.url}/playback#source=camera:{camera}&t={start}")
            page.reload()
            page.wait_for_function(
                "document.querySelector('#pb-player')?.dataset.state === 'paused'", timeout=30_000
            )
            for i in range(times):
                # Alternate between the two stretches: each seek leaves the loaded playlist.
                wall = walls[i % 2] + 10 + 3 * i
                text = datetime.fromtimestamp(wall, tz=zone).strftime("%H:%M:%S")
                ms = page.evaluate(
                    """async (text) => {
                        const player = document.querySelector("#pb-player");
                        const input = document.querySelector("#pb-time");
                        input.value = text;
                        const t0 = performance.now();
                        let loading = false;
                        const done = new Promise((resolve) => {
                            new MutationObserver((_, obs) => {
                                if (player.dataset.state === "loading") loading = true;
                                if (loading && player.dataset.state === "paused") {
                                    obs.disconnect();
                                    resolve(performance.now() - t0);
                                }
                            }).observe(player, { attributeFilter: ["data-state"] });
                        });
                        document.querySelector("#pb-goto").requestSubmit();
                        return await done;
                    }""",
                    text,
                )
                out.append(float(ms))
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run in under a minute")
    args = parser.parse_args()
    stream = camera_stream(4 if args.quick else 10)
    figures = recorder_figures(
        stream, cameras=4 if args.quick else 8, seconds=15 if args.quick else 60
    )
    figures.update(playback_figures(stream, args.quick))
    keys = ["recorder_cpu_pct", "disk_overhead_pct", "seek_ms", "playback_first_frame_ms"]
    print(json.dumps({**{k: figures.pop(k) for k in keys}, **figures}))


if __name__ == "__main__":
    main()
