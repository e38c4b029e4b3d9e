"""The center records the vehicles: their video reaches only the media hub, so it is recorded
here, from the frames a vehicle's publisher forwards (nothing is decoded; ecc.media.recorder).

The hub tells this part of each new publisher (`MediaHub.on_publish`); for a recorded vehicle's
main stream, a tap on the publisher turns each forwarded frame back into an access unit (RFC
6184 depacketization of the payloads the hub made once for its viewers), unwraps the 32-bit RTP
timestamp and hands it to the vehicle's recorder. A new publisher (the vehicle reconnected)
starts a new segment; the recorder asks the publisher for a keyframe when a segment is due,
since a browser's encoder makes one only when asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from ecc.bus.alerter import Alerter
from ecc.command_center.mediahub import SourceKey
from ecc.command_center.mediahub.publisher import Publisher
from ecc.config import Settings, Site
from ecc.media.frames import AccessUnit, RtpFrame
from ecc.media.h264 import depacketize
from ecc.media.recorder import Recorder
from ecc.media.recordings import Recordings
from ecc.storage import Store

log = logging.getLogger(__name__)

RTP_WRAP = 1 << 32


def vehicle_recordings(
    settings: Settings, site: Site, store: Store, alerter: Alerter
) -> Recordings:
    sources = {f"vehicle:{v.id}": v.retention_days for v in site.vehicles if v.record}
    return Recordings(store, Path(settings.data_dir), settings.recording, sources, alerter)


def tap(recordings: Recordings) -> Callable[[SourceKey, Publisher], None]:
    """The hub's on-publish hook: record a vehicle's main stream from this publisher on."""

    def on_publish(key: SourceKey, publisher: Publisher) -> None:
        if key.stream != "main":
            return
        recorder = recordings.recorder(key.source_id)
        if recorder is None:
            return
        recorder.restart()
        recorder.request_keyframe = publisher.request_keyframe
        publisher.video_taps.append(_feed(recorder))
        log.info("%s: recording from publisher %s", key, publisher.id[:6])

    return on_publish


def _feed(recorder: Recorder) -> Callable[[RtpFrame], None]:
    last: int | None = None
    cycles = 0

    def feed(frame: RtpFrame) -> None:
        nonlocal last, cycles
        ts = frame.timestamp
        # RTP time wraps every 13 h at 90 kHz: carry it on (forward steps under half the range).
        if last is not None and ts < last and last - ts > RTP_WRAP // 2:
            cycles += 1
        elif last is not None and ts > last and ts - last > RTP_WRAP // 2 and cycles:
            cycles -= 1
        last = ts
        units = depacketize(frame.payloads)
        if units:
            recorder.push(AccessUnit(units, ts + cycles * RTP_WRAP, frame.keyframe), time.time())

    return feed
