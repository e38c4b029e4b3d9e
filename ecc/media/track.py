"""aiortc tracks fed from a queue: encoded H.264 a camera pushes over WHIP without being
decoded, and the base the sound tracks share.

aiortc's sender accepts `av.Packet` from a track and only packetizes it (its encoder's
`pack()`, which expects Annex-B). PacketTrack feeds it access units from a camera pipeline.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from typing import Any, Generic, TypeVar

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet

from ecc.media.frames import VIDEO_CLOCK, AccessUnit, Timeline
from ecc.media.h264 import join_annexb

TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
_T = TypeVar("_T")


class QueuedTrack(MediaStreamTrack, Generic[_T]):
    """A queue in front of an aiortc sender: `_put` from the event loop, `_next` in `recv`.
    With `maxlen`, a full queue drops its oldest item (a listener hears the present)."""

    def __init__(self, maxlen: int | None = None) -> None:
        super().__init__()
        self._queue: deque[_T] = deque(maxlen=maxlen)
        self._wake = asyncio.Event()

    def _put(self, item: _T) -> None:
        self._queue.append(item)
        self._wake.set()

    async def _next(self) -> _T:
        """The oldest item, once there is one; MediaStreamError once the track is stopped."""
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._wake.clear()
            await self._wake.wait()
        if self.readyState != "live":
            raise MediaStreamError
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._wake.set()


class PacketTrack(QueuedTrack[tuple[AccessUnit, int]]):
    """A bounded queue of access units in front of an aiortc sender.

    Full, it drops what it holds and then every frame up to the next keyframe: a push that
    cannot keep up (a slow uplink) resumes with a decodable picture and never grows memory.
    """

    kind = "video"

    def __init__(self, queue_frames: int = 60) -> None:
        super().__init__()
        self.queue_frames = queue_frames
        self.dropped = 0
        self.sent = 0
        self._waiting_keyframe = True
        self._timeline = Timeline(VIDEO_CLOCK)

    def prime(self, units: list[AccessUnit], now: float) -> None:
        """Start from a cached GOP, its frames one tick apart so the far end shows the newest
        at once instead of replaying the GOP at its pace (which would hold it that far behind)."""
        if not units:
            return
        newest = self._timeline.map(units[-1].pts, now)
        for i, unit in enumerate(units):
            self._put((unit, newest - (len(units) - 1 - i)))
        self._waiting_keyframe = False

    def push(self, unit: AccessUnit, now: float) -> None:
        if self._waiting_keyframe:
            if not unit.keyframe:
                self.dropped += 1
                return
            self._waiting_keyframe = False
        if len(self._queue) >= self.queue_frames:
            self.dropped += len(self._queue)
            self._queue.clear()
            if not unit.keyframe:
                self._waiting_keyframe = True
                self.dropped += 1
                return
        self._put((unit, self._timeline.map(unit.pts, now)))

    async def recv(self) -> Packet[Any]:
        unit, pts = await self._next()
        packet = Packet(join_annexb(unit.units))
        packet.pts = pts
        packet.time_base = TIME_BASE
        self.sent += 1
        return packet
