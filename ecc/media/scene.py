"""The demo 'clock' camera: a generated scene with the camera's name, a running clock, motion,
and the machine-readable timecode, encoded to H.264 once (the source has no encoder of its own).
"""

from __future__ import annotations

import time
from datetime import datetime

import cv2
import numpy as np
from av.video.frame import VideoFrame

from ecc.media import timecode


class ClockScene:
    def __init__(self, width: int, height: int, label: str) -> None:
        self.width = width
        self.height = height
        self.label = label
        y, x = np.mgrid[0:height, 0:width]
        base = np.empty((height, width, 3), np.uint8)
        base[..., 0] = 90 + (60 * x / width).astype(np.uint8)
        base[..., 1] = 50 + (40 * y / height).astype(np.uint8)
        base[..., 2] = 30
        base[::40, :] = (120, 120, 120)
        base[:, ::40] = (120, 120, 120)
        self._base = base
        self._scale = height / 720

    def render(self, now: float | None = None) -> VideoFrame:
        """The picture at wall time `now` (seconds), as a yuv420p frame."""
        now = time.time() if now is None else now
        img = self._base.copy()
        w, h, s = self.width, self.height, self._scale
        # A sweeping bar: motion, so the encoder has something to send every frame.
        x = int((now * 0.25 % 1.0) * w)
        cv2.rectangle(
            img, (x, int(h * 0.55)), (min(w - 1, x + w // 16), int(h * 0.8)), (40, 180, 240), -1
        )
        stamp = datetime.fromtimestamp(now).strftime("%H:%M:%S.") + f"{int(now * 1000) % 1000:03d}"
        font = cv2.FONT_HERSHEY_SIMPLEX
        cv2.putText(
            img,
            stamp,
            (int(40 * s), int(h * 0.42)),
            font,
            2.2 * s,
            (255, 255, 255),
            max(1, int(4 * s)),
            cv2.LINE_AA,
        )
        cv2.putText(
            img,
            self.label,
            (int(40 * s), int(h * 0.92)),
            font,
            1.0 * s,
            (230, 230, 230),
            max(1, int(2 * s)),
            cv2.LINE_AA,
        )
        c = timecode.cell_size(w)
        x0, y0 = timecode.origin(w)
        for i, bit in enumerate(timecode.encode(int(now * 1000))):
            img[y0 : y0 + c, x0 + i * c : x0 + (i + 1) * c] = (
                timecode.LIGHT if bit else timecode.DARK
            )
        return VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
