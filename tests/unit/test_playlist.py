"""Spans, gaps and the HLS playlist over the recording index (RFC 8216)."""

from __future__ import annotations

import pytest

from ecc.media.playlist import Span, gaps, playlist, spans
from ecc.storage.models import Segment

T0 = 1_783_814_400.0  # 2026-07-12T00:00:00Z


def seg(start: float, end: float, init: str = "i1", i: int = 0) -> Segment:
    return Segment(
        "camera:quay",
        T0 + start,
        T0 + end,
        f"p{i}.mp4",
        100_000 + i,
        800,
        (0.0,),
        "avc1.42e01f",
        1280,
        720,
        init,
        id=f"s{i}",
    )


def test_segments_that_nearly_touch_join_into_one_span_and_gaps_are_the_rest() -> None:
    segments = [seg(0, 10), seg(10.02, 20), seg(19.9, 30), seg(45, 55)]
    covered = spans(segments)
    assert covered == [Span(T0, T0 + 30), Span(T0 + 45, T0 + 55)]
    assert gaps(covered, T0 - 5, T0 + 60) == [
        Span(T0 - 5, T0),
        Span(T0 + 30, T0 + 45),
        Span(T0 + 55, T0 + 60),
    ]
    assert gaps(covered, T0 + 2, T0 + 29) == []
    assert gaps([], T0, T0 + 1) == [Span(T0, T0 + 1)]


def test_the_playlist_addresses_init_and_fragments_by_byte_range() -> None:
    segments = [seg(0, 10, i=0), seg(10, 20, i=1), seg(35, 42.5, i=2), seg(42.5, 50, "i2", i=3)]
    text = playlist(segments, lambda s: f"segments/{s.id}?token=t")
    lines = text.splitlines()
    assert lines[:6] == [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        "#EXT-X-TARGETDURATION:10",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    assert lines[6:11] == [
        '#EXT-X-MAP:URI="segments/s0?token=t",BYTERANGE="800@0"',
        "#EXT-X-PROGRAM-DATE-TIME:2026-07-12T00:00:00.000Z",
        "#EXTINF:10.000,",
        "#EXT-X-BYTERANGE:99200@800",
        "segments/s0?token=t",
    ]
    # A gap: a discontinuity, the same init; new parameters: a discontinuity and a new map.
    assert text.count("#EXT-X-DISCONTINUITY") == 2
    assert text.count("#EXT-X-MAP:") == 2
    assert '#EXT-X-MAP:URI="segments/s3?token=t",BYTERANGE="800@0"' in lines
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-07-12T00:00:42.500Z" in lines
    assert lines[-1] == "#EXT-X-ENDLIST"
    with pytest.raises(ValueError):
        playlist([], str)
