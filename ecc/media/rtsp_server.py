"""Real RTSP test cameras from GStreamer's RTSP server (the one many camera firmwares embed).

Runs under Debian's Python (`/usr/bin/python3`, with python3-gi and gir1.2-gst-rtsp-server-1.0),
not in ECC's virtualenv: it imports only the standard library, GObject introspection and
`ecc.media.timecode`. `ecc simulate cameras` and the tests start it; see ecc.media.simulate.

    /usr/bin/python3 -m ecc.media.rtsp_server --port 8554 \\
        --mount /dam/main=clock:1280x720@30:2000 --mount /port/main=clip:/path/clip.mp4

Mounts:

- `clip:FILE` - an H.264 MP4 passed through as it is (its own profile and rate), to its end;
  each client gets its own pass from the start.
- `clip+aac:FILE`, `clip+pcma:FILE` - the same with the clip's sound: its AAC passed through
  (MPEG4-GENERIC, as Dahua and Hikvision send it), or decoded and sent as G.711 A-law at 8 kHz,
  the default sound of most IP cameras.
- `clock:WxH@FPS[:KBPS]` - a generated scene: a moving bar, a noisy band (so the encoder has a
  camera-like bitrate to spend), GStreamer's clock overlay and the machine-readable timecode
  (ecc.media.timecode) of the moment each picture is made, encoded by x264 (Constrained
  Baseline, zero latency, a keyframe every second, SPS/PPS before each). Shared: every client
  of a mount sees the same pictures, as with a real camera.

It prints `ready URL` when it listens and `client PATH` for each session that starts playing.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

from ecc.media import timecode  # noqa: E402

CLOCK = re.compile(r"^clock:(\d+)x(\d+)@(\d+)(?::(\d+))?$")
CLIP = re.compile(r"^clip(?:\+(aac|pcma))?:(.+)$")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Scene:
    """I420 pictures made in Python: precomputed frames, the timecode painted in at push time."""

    CYCLE = 30

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        luma = width * height
        chroma = (width // 2) * (height // 2)
        self.size = luma + 2 * chroma
        gradient = bytes(40 + (140 * x) // width for x in range(width))
        band = (height * 3 // 5, height * 4 // 5)
        bar = max(8, width // 16)
        squeeze = bytes(16 + b % 200 for b in range(256))
        frames: list[bytes] = []
        for k in range(self.CYCLE):
            y = bytearray(gradient * height)
            noise = os.urandom(width * (band[1] - band[0]))
            y[band[0] * width : band[1] * width] = noise.translate(squeeze)
            x0 = (k * width) // self.CYCLE
            x1 = min(width, x0 + bar)
            row = bytes([200]) * (x1 - x0)
            for r in range(height // 5, band[0]):
                y[r * width + x0 : r * width + x1] = row
            frames.append(bytes(y) + bytes([110]) * chroma + bytes([150]) * chroma)
        self.frames = frames

    def picture(self, n: int, ms: int) -> bytes:
        frame = bytearray(self.frames[n % self.CYCLE])
        timecode.paint_luma(frame, self.width, ms)
        return bytes(frame)


class ClockFeeder:
    """Pushes a scene into one media's appsrc at the mount's frame rate, from its own thread."""

    def __init__(self, appsrc: Any, scene: Scene, fps: int) -> None:
        self.appsrc = appsrc
        self.scene = scene
        self.fps = fps
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        period = 1.0 / self.fps
        start = time.monotonic()
        n = 0
        while not self.stop.is_set():
            due = start + n * period
            delay = due - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                return
            if delay < -1.0:
                start, n = time.monotonic(), 0
            data = self.scene.picture(n, int(time.time() * 1000))
            buf = Gst.Buffer.new_wrapped(data)
            buf.duration = Gst.SECOND // self.fps
            if self.appsrc.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                return
            n += 1


def clock_factory(width: int, height: int, fps: int, kbps: int) -> Any:
    scene = Scene(width, height)
    caps = f"video/x-raw,format=I420,width={width},height={height},framerate={fps}/1"
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} "
        "! queue max-size-buffers=2 leaky=downstream "
        '! clockoverlay halignment=right valignment=bottom font-desc="Sans 24" '
        f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} "
        f'vbv-buf-capacity=1000 key-int-max={fps} option-string="repeat-headers=1" '
        "! video/x-h264,profile=constrained-baseline "
        # x264 repeats SPS/PPS before each keyframe itself; h264parse's config-interval
        # would put them before every slice of a keyframe (x264 cuts a picture into one
        # slice per thread), and demuxers would take each slice for a picture of its own.
        "! h264parse config-interval=0 ! rtph264pay name=pay0 pt=96 )"
    )
    factory.set_shared(True)

    def configure(_factory: Any, media: Any) -> None:
        feeder = ClockFeeder(media.get_element().get_child_by_name("src"), scene, fps)
        media.connect("unprepared", lambda _m: feeder.stop.set())

    factory.connect("media-configure", configure)
    return factory


SOUND = {
    "": "",
    "aac": "d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97",
    "pcma": (
        "d.audio_0 ! queue ! decodebin ! audioconvert ! audioresample "
        "! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8"
    ),
}


def clip_factory(path: str, sound: str = "") -> Any:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( filesrc location="{path}" ! qtdemux name=d d.video_0 ! queue '
        "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 "
        f"{SOUND[sound]} )"
    )
    return factory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", default=[], metavar="PATH=SOURCE")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for spec in args.mount:
        path, _, source = spec.partition("=")
        match = CLOCK.match(source)
        if match:
            w, h, fps, kbps = match.groups()
            factory = clock_factory(int(w), int(h), int(fps), int(kbps or 2000))
        elif (clip := CLIP.match(source)) is not None:
            factory = clip_factory(clip.group(2), clip.group(1) or "")
        else:
            parser.error(f"--mount {spec}: the source is neither clock:... nor clip:...")
        mounts.add_factory(path, factory)

    def client_connected(
        _server: GstRtspServer.RTSPServer, client: GstRtspServer.RTSPClient
    ) -> None:
        def play(_client: GstRtspServer.RTSPClient, context: GstRtspServer.RTSPContext) -> None:
            say(f"client {context.uri.abspath}")

        client.connect("play-request", play)

    server.connect("client-connected", client_connected)
    if server.attach(None) == 0:
        say(f"cannot listen on {args.host}:{args.port}")
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    say(f"ready rtsp://{args.host}:{args.port}")
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
