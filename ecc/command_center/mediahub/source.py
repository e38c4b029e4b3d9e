"""A live source in the hub: one camera stream or vehicle, its publisher and its viewers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecc.config.settings import VideoSettings
from ecc.media.fanout import Fanout
from ecc.media.frames import OPUS_CLOCK, VIDEO_CLOCK, RtpFrame
from ecc.media.h264 import Profile

if TYPE_CHECKING:
    from ecc.command_center.mediahub.publisher import Publisher
    from ecc.command_center.mediahub.viewer import Viewer

STREAMS = ("main", "sub")
KEYFRAME_REQUEST_EVERY_S = 1.0


@dataclass(frozen=True, slots=True, order=True)
class SourceKey:
    source_id: str
    """`camera:{id}` or `vehicle:{id}` (DESIGN.md), or `talkback:{vehicle_id}`: the center's
    voice to a vehicle, audio only."""
    stream: str
    """main or sub: a camera's two streams are separate sources."""

    def __str__(self) -> str:
        return f"{self.source_id}/{self.stream}"

    @property
    def camera_id(self) -> str | None:
        kind, _, ident = self.source_id.partition(":")
        return ident if kind == "camera" else None

    @property
    def audio_only(self) -> bool:
        return self.source_id.startswith("talkback:")


class LiveSource:
    def __init__(self, key: SourceKey, settings: VideoSettings) -> None:
        self.key = key
        self.video = Fanout(video=True, gop_max_bytes=settings.gop_cache_bytes)
        self.audio = Fanout(video=False, gop_max_bytes=0)
        self.publisher: Publisher | None = None
        self.profile: Profile | None = None
        self.viewers: set[Viewer] = set()
        self.pending = 0
        """Viewers negotiating: they count as demand before they connect."""
        self.ready = asyncio.Event()
        """Set once the current publisher's first keyframe is cached: a viewer can start."""
        self.publishes = 0
        """Publisher sessions this source has had (the camera was pulled and pushed this often)."""
        self._keyframe_asked = 0.0

    @property
    def demand(self) -> int:
        return len(self.viewers) + self.pending

    @property
    def idle(self) -> bool:
        return self.publisher is None and not self.viewers and self.pending == 0

    def attach_publisher(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.profile = publisher.profile
        self.publishes += 1
        self.ready.clear()
        self.video.new_epoch()
        self.audio.new_epoch()

    def detach_publisher(self, publisher: Publisher) -> None:
        if self.publisher is publisher:
            self.publisher = None
            self.ready.clear()

    def went_dark(self) -> None:
        """The publisher is connected but its camera sends nothing: no picture to start from."""
        self.ready.clear()
        if self.video.gop is not None:
            self.video.gop.clear()

    def on_video(self, frame: RtpFrame) -> None:
        self.video.push(frame, VIDEO_CLOCK)
        if frame.keyframe:
            self.ready.set()

    def on_audio(self, frame: RtpFrame) -> None:
        self.audio.push(frame, OPUS_CLOCK)
        if self.key.audio_only:
            # No picture to wait for: a listener can start with the first packet.
            self.ready.set()

    def request_keyframe(self) -> None:
        """A viewer lost a picture; ask the publisher, at most once a second for all viewers."""
        now = time.monotonic()
        if self.publisher is None or now - self._keyframe_asked < KEYFRAME_REQUEST_EVERY_S:
            return
        self._keyframe_asked = now
        self.publisher.request_keyframe()
