"""What the recording index says about time, for people and for players.

`coverage` turns segments into the spans they cover and the gaps between them (the playback
timeline); `playlist` writes an HLS VOD media playlist (RFC 8216) over them: each segment file's
init section by EXT-X-MAP with BYTERANGE, its fragments by EXT-X-BYTERANGE, its wall time by
EXT-X-PROGRAM-DATE-TIME (the player maps a chosen time of day to its media time with it), and a
discontinuity wherever the recording has a gap or its parameters change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ecc import times
from ecc.storage.models import Segment

GAP_S = 0.5
"""Segments further apart than this leave a gap; nearer, they join (clock corrections)."""


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float


def spans(segments: Sequence[Segment], tolerance: float = GAP_S) -> list[Span]:
    """The spans `segments` cover (sorted by start), joining those that nearly touch."""
    out: list[Span] = []
    for s in segments:
        if out and s.start - out[-1].end <= tolerance:
            if s.end > out[-1].end:
                out[-1] = Span(out[-1].start, s.end)
        else:
            out.append(Span(s.start, s.end))
    return out


def gaps(covered: Sequence[Span], start: float, end: float) -> list[Span]:
    """What [start, end] has that `covered` does not."""
    out: list[Span] = []
    at = start
    for span in covered:
        if span.start > at:
            out.append(Span(at, min(span.start, end)))
        at = max(at, span.end)
        if at >= end:
            break
    if at < end:
        out.append(Span(at, end))
    return [g for g in out if g.end > g.start]


def playlist(segments: Sequence[Segment], uri: Callable[[Segment], str]) -> str:
    """An HLS VOD playlist of `segments` (sorted by start); `uri` names a segment's file."""
    if not segments:
        raise ValueError("a playlist needs segments")
    target = max(1, math.ceil(max(s.duration for s in segments)))
    lines = [
        "#EXTM3U",
        # 6 for EXT-X-MAP in a media playlist, 7 for nothing more than that.
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    previous: Segment | None = None
    for s in segments:
        link = uri(s)
        if previous is not None and (
            abs(s.start - previous.end) > GAP_S or s.init_id != previous.init_id
        ):
            lines.append("#EXT-X-DISCONTINUITY")
        if previous is None or s.init_id != previous.init_id:
            lines.append(f'#EXT-X-MAP:URI="{link}",BYTERANGE="{s.init_bytes}@0"')
        lines += [
            f"#EXT-X-PROGRAM-DATE-TIME:{_iso_ms(s.start)}",
            f"#EXTINF:{s.duration:.3f},",
            f"#EXT-X-BYTERANGE:{s.bytes - s.init_bytes}@{s.init_bytes}",
            link,
        ]
        previous = s
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _iso_ms(ts: float) -> str:
    """RFC 3339 with milliseconds always (EXT-X-PROGRAM-DATE-TIME, RFC 8216 4.3.2.6)."""
    text = times.iso(round(ts, 3))
    return text if "." in text else text[:-1] + ".000Z"
