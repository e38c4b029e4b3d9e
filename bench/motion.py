"""Motion detection: CPU per 720p30 camera, event latency to the WebSocket, precision and recall.

Prints one JSON object. `--quick` runs in under a minute.

- cpu_per_camera_pct: CPU time of the analysis thread as `ecc ingest cameras` runs it: the
  access units of the stream the camera worker already pulls, fed through a UnitFeed (decode of
  every frame, luma of the analysed ones, detection, and the HOG looks for people while things
  move), over the stream's duration, for a 720p30 H.264 stream of 2 Mbit/s made from the person
  clip with sensor noise (so that every P frame carries residual, as a real camera's does; people
  walk through most of it, so the HOG looks are there too). Measured as thread CPU time, so other
  load on the machine does not count. Beside it: the same analysis opening the source itself
  (FrameSampler, which also demuxes), with the full decode, decode alone, a 360p sub stream, and
  the cost of one HOG look.
- event_latency_ms: a clip read at its own speed by the camera worker's reader, its access units
  fed to a motion worker as the camera worker's pipeline does; median time from the moment a
  thing appears in the source to the event on a WebSocket client of a real center over a real
  Mosquitto. Includes waiting for the next analysed frame (up to 1/fps); the zone's minimum
  duration is 0 here (any minimum duration adds itself on top).
- precision, recall: event level, on the labelled clips (tests/fixtures/motion_labels.toml).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import numpy as np  # noqa: E402

from ecc import times  # noqa: E402
from ecc.bus import BrokerAddress, MqttClient, Topics  # noqa: E402
from ecc.bus.broker import PrivateBroker  # noqa: E402
from ecc.config import EXAMPLE_SITE, load_settings, load_site  # noqa: E402
from ecc.config.motion import CameraMotion, MotionZone  # noqa: E402
from ecc.media import people  # noqa: E402
from ecc.media.motion import MotionDetector  # noqa: E402
from ecc.media.motion_worker import MotionContext, MotionWorker  # noqa: E402
from ecc.media.sampler import FrameSampler, SourceOptions, UnitFeed  # noqa: E402
from ecc.media.source import Reader, ReaderOptions, Stopped  # noqa: E402
from ecc.storage import open_store  # noqa: E402
from tests.support.center import RunningCenter  # noqa: E402
from tests.support.data import VIDEO  # noqa: E402
from tests.support.motion_clips import access_units, clips, detect, encode, score  # noqa: E402
from tests.support.scenes import Mover, Scene  # noqa: E402


def camera_stream(path: Path, seconds: float, width: int, height: int) -> Path:
    """The person clip at width x height, 30 fps, with sensor noise, as H.264 (no B frames)."""
    rng = np.random.default_rng(1)
    noise = [rng.normal(0, 2.0, (height * 3 // 2, width)).astype(np.int16) for _ in range(8)]
    with (
        av.open(str(VIDEO / "one-by-one-person-detection.mp4")) as src,
        av.open(str(path), "w") as out,
    ):
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 2_000_000 * width * height // (1280 * 720)
        stream.options = {"preset": "veryfast", "tune": "zerolatency", "bf": "0", "g": "60"}
        n = 0
        # Start at 5 s so that the stream has people walking in it.
        src.seek(5 * 1_000_000)
        for frame in src.decode(video=0):
            if n >= seconds * 30:
                break
            planes = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            for _ in range(3):  # 10 fps -> 30 fps, each frame with fresh noise
                noisy = np.clip(planes.astype(np.int16) + noise[n % 8], 0, 255).astype(np.uint8)
                out_frame = av.VideoFrame.from_ndarray(noisy, format="yuv420p")
                out_frame.pts = n
                out_frame.time_base = Fraction(1, 30)
                for packet in stream.encode(out_frame):
                    out.mux(packet)
                n += 1
        for packet in stream.encode():
            out.mux(packet)
    return path


def stream_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        return float(stream.frames / stream.average_rate)


class TimedLooks(people.PersonClassifier):
    """The HOG classifier, timing each of its looks (thread CPU)."""

    spent = 0.0
    count = 0

    def look(self, image: people.Image, box: people.Box) -> people.Look:
        started = time.thread_time()
        try:
            return super().look(image, box)
        finally:
            TimedLooks.spent += time.thread_time() - started
            TimedLooks.count += 1


def fed_cpu(path: Path) -> dict[str, float]:
    """Thread CPU seconds to analyse the stream fed as access units, per second of stream."""
    units = access_units(path)
    feed = UnitFeed("bench", max_units=len(units) + 1, max_bytes=1 << 31, quiet_s=0.1)
    for unit in units:
        feed.push(unit)
    detector = MotionDetector(CameraMotion())
    detector.people = TimedLooks()
    result: dict[str, float] = {}

    def work() -> None:
        started = time.thread_time()
        for frame in feed.frames(detector.due, threading.Event()):
            detector.feed(frame)
        result["cpu_s"] = time.thread_time() - started

    thread = threading.Thread(target=work, name="bench-motion-fed")
    thread.start()
    thread.join()
    duration = stream_seconds(path)
    return {"cpu_pct": 100 * result["cpu_s"] / duration, "stream_s": duration}


def analysis_cpu(path: Path, cheap: bool, detect_motion: bool = True) -> dict[str, float]:
    """Thread CPU seconds to analyse the stream opened by the sampler, per second of stream."""
    detector = MotionDetector(CameraMotion())
    sampler = FrameSampler(SourceOptions(str(path), cheap=cheap), threading.Event())
    result: dict[str, float] = {}

    def work() -> None:
        started = time.thread_time()
        for frame in sampler.frames(detector.due if detect_motion else lambda ts: False):
            detector.feed(frame)
        result["cpu_s"] = time.thread_time() - started

    thread = threading.Thread(target=work, name="bench-motion")
    thread.start()
    thread.join()
    duration = stream_seconds(path)
    return {"cpu_pct": 100 * result["cpu_s"] / duration, "stream_s": duration}


def latency(tmp: Path, quick: bool) -> list[float]:
    """Seconds from a thing appearing in the source to its event on a WebSocket client."""
    from websockets.asyncio.client import connect

    starts = [1.53, 4.61, 7.67] if quick else [1.53, 4.61, 7.67, 10.71, 13.59, 16.63]
    movers = [Mover(s, s + 1.2, 0.1, 0.5, 0.6, 0.5) for s in starts]
    scene = Scene(duration=starts[-1] + 3, movers=movers)
    clip = encode(scene, tmp / "latency.mp4")
    broker = PrivateBroker(tmp / "mosquitto")
    broker.start()
    settings = load_settings(
        database_url=f"sqlite:///{tmp}/ecc.db",
        data_dir=str(tmp / "var"),
        http_port=0,
        secret="bench-secret-not-for-production",
        mqtt_url=broker.url,
    )
    site = load_site(EXAMPLE_SITE)
    store = open_store(settings.database_url)
    center = RunningCenter(settings, site, store).start()
    center.add_users()
    dam = site.camera("dam-dongao")
    assert dam is not None
    zone = MotionZone(id="crest", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)], min_duration_s=0)
    camera = dam.model_copy(update={"motion": CameraMotion(zones=[zone], end_after_s=0.6)})

    async def run() -> list[float]:
        bus = MqttClient(BrokerAddress.parse(broker.url))
        await bus.start()
        context = MotionContext(store, bus.publish, Topics(settings.mqtt_prefix), settings.data_dir)
        # As in the camera worker: its reader reads the clip at its own speed, and the pipeline
        # hands each access unit to the motion worker's feed.
        feed = UnitFeed("bench")
        worker = MotionWorker(camera, context, feed)
        stop = threading.Event()
        reader = Reader(str(clip), ReaderOptions(), stop)

        def read() -> None:
            try:
                for unit in reader.units():
                    feed.push(unit)
            except Stopped:
                pass

        received: list[tuple[float, dict[str, Any]]] = []
        url = f"{center.ws_url}/api/events?token={center.token('operator')}"
        try:
            async with connect(url) as ws:
                task = asyncio.create_task(worker.run(), name="bench-motion-worker")
                pull = threading.Thread(target=read, name="bench-reader")
                pull.start()
                try:
                    async with asyncio.timeout(scene.duration + 30):
                        while len(received) < len(starts):
                            msg = json.loads(await ws.recv())
                            if msg["type"] == "motion" and msg["data"]["state"] == "active":
                                received.append((time.time(), msg["data"]))
                finally:
                    stop.set()
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    await asyncio.to_thread(pull.join)
        finally:
            await bus.stop()
        # Analysed frames are at 0, 0.2, 0.4 ... s of the clip: the event's start is the time
        # of the first one showing the thing, so the clip's start in wall time follows.
        period = 1 / camera.motion.fps  # type: ignore[union-attr]
        out = []
        for (got, data), start in zip(received, starts, strict=True):
            first_frame = math.ceil(round(start / period, 6)) * period
            anchor = times.parse(data["start"]) - first_frame
            out.append(got - (anchor + start))
        return out

    try:
        return asyncio.run(run())
    finally:
        center.stop()
        store.close()
        broker.stop()


def quality() -> dict[str, float]:
    total_events = true_events = moves = found = 0
    for clip in clips().values():
        events, _ = detect(clip.path, CameraMotion())
        s = score(clip, events)
        total_events += s.events
        true_events += s.true_events
        moves += s.moves
        found += s.found_moves
    return {
        "precision": round(true_events / total_events, 3) if total_events else 1.0,
        "recall": round(found / moves, 3),
        "events": total_events,
        "labelled_moves": moves,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run, under a minute")
    args = parser.parse_args()
    seconds = 20 if args.quick else 60
    with tempfile.TemporaryDirectory(prefix="ecc-bench-motion-") as folder:
        tmp = Path(folder)
        hd = camera_stream(tmp / "720p30.mp4", seconds, 1280, 720)
        sub = camera_stream(tmp / "360p30.mp4", seconds, 640, 360)
        fed = fed_cpu(hd)
        cheap = analysis_cpu(hd, cheap=True)
        full = analysis_cpu(hd, cheap=False)
        decode_only = analysis_cpu(hd, cheap=True, detect_motion=False)
        sub_cheap = analysis_cpu(sub, cheap=True)
        lat = latency(tmp, args.quick)
        q = quality()
    pct = fed["cpu_pct"]
    print(
        json.dumps(
            {
                "cpu_per_camera_pct": round(pct, 2),
                "cameras_per_core": math.floor(100 / pct),
                "event_latency_ms": round(1000 * statistics.median(lat)),
                "precision": q["precision"],
                "recall": q["recall"],
                "detail": {
                    "stream": "H.264 1280x720 30 fps 2 Mbit/s, no B frames, GOP 60",
                    "stream_s": round(fed["stream_s"], 1),
                    "analysis": "5 fps at 160 px high (defaults), fed from the worker's pull",
                    "cpu_pct_own_connection": round(cheap["cpu_pct"], 2),
                    "cpu_pct_full_decode": round(full["cpu_pct"], 2),
                    "cpu_pct_decode_only_cheap": round(decode_only["cpu_pct"], 2),
                    "cpu_pct_360p_sub_stream": round(sub_cheap["cpu_pct"], 2),
                    "cameras_per_core_360p_sub_stream": math.floor(100 / sub_cheap["cpu_pct"]),
                    "hog_looks": TimedLooks.count,
                    "hog_ms_per_look": round(1000 * TimedLooks.spent / max(TimedLooks.count, 1), 2),
                    "event_latency_ms_all": [round(1000 * v) for v in lat],
                    "events": q["events"],
                    "labelled_moves": q["labelled_moves"],
                    "load_average_1m": round(os.getloadavg()[0], 2),
                    "cores": os.cpu_count(),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
