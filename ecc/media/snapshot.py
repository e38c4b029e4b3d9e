"""A still of a camera for people who set it up (the zone editor): its newest keyframe as JPEG.

The camera worker already holds each stream's newest keyframe (the GOP cache a push starts
from), so a still costs one keyframe decode and no connection to the camera. The worker writes
it under DATA_DIR, where the center, which shares that folder as it does for motion thumbnails
and recordings, serves it.

Blocking (decoding, encoding, writing): run in a worker thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np

from ecc.media.frames import AccessUnit

SNAPSHOTS = "snapshots"
MAX_HEIGHT = 720
START_CODE = b"\x00\x00\x00\x01"


def snapshot_path(data_dir: Path, camera_id: str) -> Path:
    """DATA_DIR/snapshots/<camera>.jpg (camera ids are [a-z0-9-], so the name is safe)."""
    return data_dir / SNAPSHOTS / f"{camera_id}.jpg"


def keyframe_jpeg(gop: Sequence[AccessUnit], quality: int = 85) -> bytes | None:
    """The first keyframe of `gop` as a JPEG at most MAX_HEIGHT pixels high; None if there is
    none or it does not decode."""
    key = next((u for u in gop if u.keyframe), None)
    if key is None:
        return None
    codec = av.CodecContext.create("h264", "r")
    codec.thread_type = "NONE"
    try:
        frames = list(codec.decode(av.Packet(b"".join(START_CODE + nal for nal in key.units))))
        # A decoder may hold a picture back until it sees the next; the end of input frees it.
        frames += codec.decode(None)
    except av.error.FFmpegError:
        return None
    if not frames:
        return None
    frame = frames[0]
    height = min(frame.height, MAX_HEIGHT)
    width = max(2, round(frame.width * height / frame.height) // 2 * 2)
    image = np.asarray(
        frame.reformat(width=width, height=height, format="bgr24").to_ndarray(), np.uint8
    )
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return jpeg.tobytes() if ok else None


def write_snapshot(data_dir: Path, camera_id: str, jpeg: bytes) -> Path:
    """Whole or not at all: the center never serves half a JPEG."""
    path = snapshot_path(data_dir, camera_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(jpeg)
    with contextlib.suppress(FileNotFoundError):
        partial.replace(path)
    return path
