"""Recording of the worker's cameras that have `record = true`, from the pulls it already has.

A camera's main stream is recorded (full resolution): its pipeline's listener hands each access
unit to the camera's recorder (ecc.media.recorder), which only queues it; writing, indexing,
the reconcile at start and retention run in the worker's `Recordings` (ecc.media.recordings).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ecc.bus.alerter import Alerter
from ecc.config import Camera, Settings
from ecc.ingest.cameras.analysis import Spawn
from ecc.ingest.cameras.pipeline import Listener, StreamPipeline
from ecc.media.frames import AccessUnit
from ecc.media.recorder import Recorder
from ecc.media.recordings import Recordings
from ecc.storage import Store


class CameraRecording:
    def __init__(self, settings: Settings, store: Store, alerter: Alerter) -> None:
        data_dir = Path(settings.data_dir)
        self.recordings = Recordings(store, data_dir, settings.recording, {}, alerter)

    def add(
        self,
        camera: Camera,
        pipelines: Mapping[str, StreamPipeline],
        motion_seen: Callable[[float, float], bool | None],
    ) -> None:
        """`motion_seen(start, end)`: what its motion analysis saw then (Segment.motion)."""
        if not camera.record:
            return
        recorder = self.recordings.add(f"camera:{camera.id}", camera.retention_days)
        recorder.motion_seen = motion_seen
        pipelines["main"].listen(_listener(recorder))

    def state(self, camera_id: str) -> bool | None:
        """Whether the camera is being recorded now; None for a camera that is not recorded."""
        recorder = self.recordings.recorder(f"camera:{camera_id}")
        return None if recorder is None else recorder.recording

    def start(self, spawn: Spawn) -> None:
        if self.recordings.recorders:
            spawn(self.recordings.run(), "recordings")


def _listener(recorder: Recorder) -> Listener:
    def listen(unit: AccessUnit, now: float) -> None:
        recorder.push(unit, time.time())

    return listen
