"""Labelled clips for motion detection (tests/fixtures/motion_labels.toml) and their scoring,
shared by the tests and bench/motion.py."""

from __future__ import annotations

import threading
import time
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from ecc.config.motion import CameraMotion
from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.media.h264 import ParameterSets, is_keyframe, parameter_sets_of, split_annexb
from ecc.media.motion import MotionChange, MotionDetector
from ecc.media.sampler import FrameSampler, SourceOptions
from tests.support.data import VIDEO
from tests.support.scenes import Scene

LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "motion_labels.toml"
Interval = tuple[float, float]


@dataclass(frozen=True)
class Clip:
    file: str
    moves: list[Interval]
    present: list[Interval]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return VIDEO / self.file


def clips() -> dict[str, Clip]:
    with LABELS.open("rb") as f:
        data = tomllib.load(f)
    out = {}
    for c in data["clips"]:
        extra = {k: v for k, v in c.items() if k not in ("file", "moves", "present")}
        out[c["file"]] = Clip(
            c["file"], [tuple(m) for m in c["moves"]], [tuple(p) for p in c["present"]], extra
        )
    return out


@dataclass(frozen=True)
class Score:
    events: int
    true_events: int
    moves: int
    found_moves: int

    @property
    def precision(self) -> float:
        return self.true_events / self.events if self.events else 1.0

    @property
    def recall(self) -> float:
        return self.found_moves / self.moves if self.moves else 1.0


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def score(clip: Clip, events: list[Interval]) -> Score:
    """Event level: an event is true if it overlaps a time someone is in view; a labelled
    movement is found if an event overlaps it."""
    return Score(
        events=len(events),
        true_events=sum(any(overlaps(e, p) for p in clip.present) for e in events),
        moves=len(clip.moves),
        found_moves=sum(any(overlaps(m, e) for e in events) for m in clip.moves),
    )


def detect(
    path: Path, config: CameraMotion, cheap: bool = True
) -> tuple[list[Interval], list[MotionChange]]:
    """Run a clip through the sampler and the detector; event intervals in clip seconds."""
    detector = MotionDetector(config)
    sampler = FrameSampler(SourceOptions(str(path), cheap=cheap), threading.Event())
    changes: list[MotionChange] = []
    t0: float | None = None
    last = 0.0
    for frame in sampler.frames(detector.due):
        t0 = frame.ts if t0 is None else t0
        last = frame.ts
        changes += detector.feed(frame)
    changes += detector.flush(last)
    assert t0 is not None, f"{path}: no frames"
    ends = [c.motion for c in changes if c.kind == "end"]
    return [(m.start - t0, (m.end or last) - t0) for m in ends], changes


def encode(scene: Scene, path: Path, width: int | None = None, gop: int = 60) -> Path:
    """The scene as an H.264 file, as a camera would send it (no B frames)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(scene.fps).limit_denominator(1000))
        stream.width = width or scene.width
        stream.height = round(stream.width * scene.height / scene.width) // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 2_000_000 * stream.width * stream.height // (1280 * 720)
        stream.options = {"preset": "veryfast", "tune": "zerolatency", "bf": "0", "g": str(gop)}
        for i, (_, image) in enumerate(scene.frames()):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if width is not None:
                frame = frame.reformat(width=stream.width, height=stream.height)
            frame.pts = i
            frame.time_base = Fraction(1) / Fraction(scene.fps).limit_denominator(1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def access_units(path: Path) -> list[AccessUnit]:
    """An H.264 file as a camera worker's pipeline hands it on: Annex-B access units, SPS/PPS
    before each keyframe, each `captured` as if read live at its own time from now on."""
    units: list[AccessUnit] = []
    base = time.monotonic()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        bsf = av.BitStreamFilterContext("h264_mp4toannexb", stream)
        parameter_sets = ParameterSets(parameter_sets_of(stream.codec_context.extradata))
        for packet in container.demux(stream):
            for out in bsf.filter(packet):
                nals = parameter_sets.complete(split_annexb(bytes(out)))
                if not nals or out.pts is None or out.time_base is None:
                    continue
                pts = int(out.pts * out.time_base * VIDEO_CLOCK)
                units.append(
                    AccessUnit(nals, pts, is_keyframe(nals), captured=base + pts / VIDEO_CLOCK)
                )
    return units
