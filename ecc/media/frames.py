"""What travels on the live path: encoded access units, and the same packetized for RTP."""

from __future__ import annotations

from dataclasses import dataclass, field

VIDEO_CLOCK = 90_000
OPUS_CLOCK = 48_000


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One encoded H.264 picture as NAL units (no start codes), timed on the 90 kHz clock."""

    units: list[bytes]
    pts: int
    keyframe: bool
    captured: float = 0.0
    """Monotonic time the unit was read from its source (for health and latency figures)."""

    @property
    def size(self) -> int:
        return sum(len(u) for u in self.units)


@dataclass(frozen=True, slots=True)
class RtpFrame:
    """One frame packetized once per source: the RTP payloads every viewer receives.

    Viewers get the same payload objects; each writes only its own 12-byte RTP header (SSRC,
    sequence number, timestamp) in front of them.
    """

    payloads: list[bytes]
    timestamp: int
    """On the codec's RTP clock, continuous for the source."""
    keyframe: bool
    size: int = field(default=0)
    arrived: float = 0.0
    """Monotonic time the hub received the frame."""


class Timeline:
    """Keeps a stream's RTP time continuous when its source restarts or jumps.

    Small steps back are kept (B-frames are sent before the pictures they precede); a step back
    of more than `max_back_s`, or a jump ahead of more than `max_gap_s`, is a new source timeline,
    and is rebased to continue from the previous time plus the wall time elapsed.
    """

    def __init__(self, clock_rate: int, max_back_s: float = 1.0, max_gap_s: float = 5.0) -> None:
        self.clock_rate = clock_rate
        self._max_back = int(max_back_s * clock_rate)
        self._max_gap = int(max_gap_s * clock_rate)
        self._offset: int | None = None
        self._last_in = 0
        self._last_out = 0
        self._last_wall = 0.0

    def map(self, ts: int, now: float) -> int:
        if self._offset is None:
            self._offset = -ts
        else:
            step = ts - self._last_in
            if step < -self._max_back or step > self._max_gap:
                elapsed = max(1, int((now - self._last_wall) * self.clock_rate))
                self._offset = self._last_out + elapsed - ts
        self._last_in = ts
        out = ts + self._offset
        if out > self._last_out or self._last_wall == 0.0:
            self._last_out = out
            self._last_wall = now
        return out
