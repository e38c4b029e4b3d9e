"""An aiortc track of encoded H.264: what a camera pushes over WHIP without being decoded.

aiortc's sender accepts `av.Packet` from a track and only packetizes it (its encoder's
`pack()`, which expects Annex-B). This track feeds it access units from a camera pipeline.
"""

from __future__ import annotations

import asyncio
import fractions
from collections import deque
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet

from ecc.media.frames import VIDEO_CLOCK, AccessUnit, Timeline
from ecc.media.h264 import join_annexb

TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)


class PacketTrack(MediaStreamTrack):
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
        self._queue: deque[tuple[AccessUnit, int]] = deque()
        self._wake = asyncio.Event()
        self._waiting_keyframe = True
        self._timeline = Timeline(VIDEO_CLOCK)

    def prime(self, units: list[AccessUnit], now: float) -> None:
        """Start from a cached GOP, its frames one tick apart so the far end shows the newest
        at once instead of replaying the GOP at its pace (which would hold it that far behind)."""
        if not units:
            return
        newest = self._timeline.map(units[-1].pts, now)
        for i, unit in enumerate(units):
            self._queue.append((unit, newest - (len(units) - 1 - i)))
        self._waiting_keyframe = False
        self._wake.set()

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
        self._queue.append((unit, self._timeline.map(unit.pts, now)))
        self._wake.set()

    async def recv(self) -> Packet[Any]:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._wake.clear()
            await self._wake.wait()
        if self.readyState != "live":
            raise MediaStreamError
        unit, pts = self._queue.popleft()
        packet = Packet(join_annexb(unit.units))
        packet.pts = pts
        packet.time_base = TIME_BASE
        self.sent += 1
        return packet

    def stop(self) -> None:
        super().stop()
        self._wake.set()
