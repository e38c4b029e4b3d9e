"""H.264 encoding, for the two sources that cannot pass through, once per source: pictures ECC
makes itself (the demo clock scene) and cameras whose codec browsers lack (MJPEG, H.265).

Constrained Baseline, no B-frames, zero-latency tuning, SPS/PPS before every keyframe and a
keyframe every second: what every WebRTC browser decodes and what keeps a new viewer's first
picture near.
"""

from __future__ import annotations

import fractions
import time
from collections.abc import Iterator

import av
from av.video.frame import VideoFrame

from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.media.h264 import is_keyframe, split_annexb

TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
_created = [0]


def encoders_created() -> int:
    """H.264 encoders made in this process (a center makes none: playback, clips and the hub
    pass encoded video through)."""
    return _created[0]


class H264Encoder:
    def __init__(self, width: int, height: int, fps: float, bitrate: int) -> None:
        self.width = width
        self.height = height
        self.fps = fps
        self.bitrate = bitrate
        self._codec = av.CodecContext.create("libx264", "w")
        _created[0] += 1
        c = self._codec
        c.width = width
        c.height = height
        c.pix_fmt = "yuv420p"
        c.time_base = TIME_BASE
        c.framerate = fractions.Fraction(round(fps * 1000), 1000)
        c.bit_rate = bitrate
        gop = max(1, round(fps))
        c.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "profile": "baseline",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1"
            f":vbv-maxrate={bitrate // 1000}:vbv-bufsize={bitrate // 1000}",
        }
        self._keyframe_every = 1.0
        self._last_keyframe = -1e9

    def encode(self, frame: VideoFrame, pts: int) -> Iterator[AccessUnit]:
        """Encode one picture timed at `pts` (90 kHz); yields what the encoder gives back."""
        if (
            frame.width != self.width
            or frame.height != self.height
            or frame.format.name != "yuv420p"
        ):
            frame = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        frame.pts = pts
        frame.time_base = TIME_BASE
        now = time.monotonic()
        # A source with an uneven frame rate (MJPEG over HTTP) would stretch the GOP counted in
        # frames; keyframes by time keep a new viewer's wait under a second.
        if now - self._last_keyframe >= self._keyframe_every:
            frame.pict_type = av.video.frame.PictureType.I
            self._last_keyframe = now
        else:
            frame.pict_type = av.video.frame.PictureType.NONE
        for packet in self._codec.encode(frame):
            units = split_annexb(bytes(packet))
            if units:
                yield AccessUnit(
                    units, int(packet.pts or pts), is_keyframe(units), captured=time.monotonic()
                )

    def close(self) -> None:
        try:
            for _ in self._codec.encode(None):
                pass
        except av.FFmpegError:
            pass
