"""The playback API on a real center over real segment files: spans and gaps, an HLS playlist
whose segments are fetched by byte range with the token it carries, clips that PyAV decodes
with the recorded bytes unchanged, the audit log, and who may do what."""

from __future__ import annotations

import asyncio
import io
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import httpx
import pytest

from ecc.media import mp4
from ecc.media.recorder import Recorder, RecorderOptions
from ecc.storage import Store
from ecc.storage.models import Segment
from tests.support.center import RunningCenter
from tests.support.recording import feed, stopped, units

CAMERA = "dam-dongao"
SOURCE = f"camera:{CAMERA}"


async def record(store: Store, data_dir: Path, wall0: float, seconds: float) -> list[Segment]:
    with ThreadPoolExecutor(1) as pool:
        options = RecorderOptions(segment_s=4.0, queue_fragments=1000, idle_close_s=60)
        r = Recorder(SOURCE, store, data_dir, pool, options)
        task = asyncio.create_task(r.run())
        feed(r, units(seconds), wall0)
        await stopped(r, task)
    return store.recordings.range(SOURCE, wall0 - 1, wall0 + seconds + 1)


@pytest.fixture
def recorded(center: RunningCenter) -> tuple[float, list[Segment]]:
    """12 s recorded, a 20 s gap, 8 s more; an hour ago."""
    t0 = round(time.time()) - 3600.0
    data = Path(center.settings.data_dir)
    first = asyncio.run(record(center.store, data, t0, 12.0))
    second = asyncio.run(record(center.store, data, t0 + 32.0, 8.0))
    return t0, first + second


def metric(center: RunningCenter, name: str) -> float:
    text = center.get("/metrics").text
    m = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return float(m.group(1))


def test_recordings_answer_spans_gaps_and_a_media_token(
    center: RunningCenter, recorded: tuple[float, list[Segment]]
) -> None:
    t0, _ = recorded
    r = center.get(
        f"/api/cameras/{CAMERA}/recordings", "operator", params={"start": t0 - 10, "end": t0 + 50}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == SOURCE and body["segments"] == 5
    spans = [(s["start"], s["end"]) for s in body["spans"]]
    assert len(spans) == 2
    assert [len(body["gaps"])] == [3]  # before, between, after
    assert body["token"] and body["token_expires_at"]
    # The default range is the last day.
    assert center.get(f"/api/cameras/{CAMERA}/recordings", "leader").json()["segments"] == 5
    assert center.get("/api/cameras/nowhere/recordings").status_code == 404
    r = center.get(f"/api/cameras/{CAMERA}/recordings", params={"start": t0, "end": t0 - 1})
    assert r.status_code == 422


def test_the_playlist_plays_by_byte_range_with_the_token_it_carries(
    center: RunningCenter, recorded: tuple[float, list[Segment]]
) -> None:
    t0, segments = recorded
    r = center.get(
        f"/api/cameras/{CAMERA}/playback.m3u8", "leader", params={"start": t0 + 5, "end": t0 + 35}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    text = r.text
    assert text.startswith("#EXTM3U\n") and text.rstrip().endswith("#EXT-X-ENDLIST")
    # The segments holding t0+5 to t0+35: the 2nd and 3rd of the first run, the 1st of the next.
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert [u.split("?")[0] for u in uris] == [
        f"segments/{s.id}" for s in (segments[1], segments[2], segments[3])
    ]
    assert text.count("#EXT-X-DISCONTINUITY") == 1
    assert text.count("#EXT-X-MAP:") == 1
    assert text.count("#EXT-X-PROGRAM-DATE-TIME:") == 3
    # A player fetches with no header at all: the URL's token is its authority.
    base = f"{center.url}/api/cameras/{CAMERA}/"
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+)@0"', text)
    assert init
    seg = segments[1]
    with httpx.Client(base_url=base) as player:
        head = player.get(init.group(1), headers={"Range": f"bytes=0-{int(init.group(2)) - 1}"})
        assert head.status_code == 206 and head.content[4:8] == b"ftyp"
        ranges = re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)\n(\S+)", text)
        length, offset, uri = ranges[0]
        body = player.get(uri, headers={"Range": f"bytes={offset}-{int(offset) + int(length) - 1}"})
        assert body.status_code == 206 and len(body.content) == int(length)
        assert body.content[4:8] == b"moof"
        whole = head.content + body.content
        layout = mp4.read_layout(io.BytesIO(whole), len(whole))
        assert len(layout.fragments) == len(seg.keyframes)
        # Without a token, with one of another camera, or for a segment of another source.
        assert player.get(uri.split("?")[0]).status_code == 401
        token = uri.split("token=")[1]
        other = f"{center.url}/api/cameras/town-xinqi/segments/{seg.id}?token={token}"
        assert httpx.get(other).status_code == 401
    assert metric(center, "ecc_playback_playlists") == 1
    assert metric(center, "ecc_playback_segment_requests") == 2


def test_a_clip_decodes_starts_at_the_keyframe_before_and_copies_the_frames(
    center: RunningCenter, recorded: tuple[float, list[Segment]], tmp_path: Path
) -> None:
    t0, segments = recorded
    decoders = metric(center, "ecc_video_decoders")
    encoders = metric(center, "ecc_video_encoders")
    start, end = t0 + 0.05 + 2.3, t0 + 0.05 + 9.7
    r = center.get(
        f"/api/cameras/{CAMERA}/clip.mp4", "operator", params={"start": start, "end": end}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp4"
    assert int(r.headers["content-length"]) == len(r.content)
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path / "clip.mp4"
    path.write_bytes(r.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        frames = list(av.open(str(path)).decode(video=0))
        duration = float(stream.duration * stream.time_base)
    # From the keyframe at 2 s (the nearest before 2.3 s) to the last picture before 9.7 s.
    assert duration == pytest.approx(7.72, abs=0.041)
    assert len(frames) == len(packets) == 193
    assert packets[0].is_keyframe
    # The frames are the recorded ones, byte for byte.
    recorded_bytes = b"".join(
        (Path(center.settings.data_dir) / s.path).read_bytes() for s in segments[:3]
    )
    for p in packets[:30]:
        assert bytes(p) in recorded_bytes
    assert metric(center, "ecc_playback_clip_frames_copied") == 193
    assert metric(center, "ecc_video_decoders") == decoders
    assert metric(center, "ecc_video_encoders") == encoders
    # A clip over the gap holds the last picture: its time stays wall time.
    r = center.get(f"/api/cameras/{CAMERA}/clip.mp4", params={"start": t0 + 10, "end": t0 + 34})
    path.write_bytes(r.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert float(stream.duration * stream.time_base) == pytest.approx(24.96, abs=0.05)
    assert (
        center.get(
            f"/api/cameras/{CAMERA}/clip.mp4", params={"start": t0 + 14, "end": t0 + 30}
        ).status_code
        == 404
    )


def test_playback_and_exports_are_audited_and_crew_may_not(
    center: RunningCenter, recorded: tuple[float, list[Segment]]
) -> None:
    t0, _ = recorded
    params = {"start": t0, "end": t0 + 5}
    assert (
        center.get(f"/api/cameras/{CAMERA}/playback.m3u8", "leader", params=params).status_code
        == 200
    )
    assert (
        center.get(f"/api/cameras/{CAMERA}/clip.mp4", "operator", params=params).status_code == 200
    )
    for path in ("recordings", "playback.m3u8", "clip.mp4", "segments/x"):
        assert center.get(f"/api/cameras/{CAMERA}/{path}", "crew", params=params).status_code == 403
    entries = center.store.audit.list(action="recordings.playback") + center.store.audit.list(
        action="recordings.export"
    )
    assert [(e.action, e.username) for e in entries] == [
        ("recordings.playback", "leader"),
        ("recordings.export", "operator"),
    ]
    assert entries[0].detail is not None and entries[0].detail["source"] == SOURCE
    # A media token of a user disabled since stops working at once.
    token = center.get(f"/api/cameras/{CAMERA}/recordings", "leader").json()["token"]
    url = f"{center.url}/api/cameras/{CAMERA}/playback.m3u8"
    assert httpx.get(url, params={**params, "token": token}).status_code == 200
    center.store.users.update("leader", disabled=True)
    assert httpx.get(url, params={**params, "token": token}).status_code == 401
    # A media token is no bearer token.
    r = httpx.get(f"{center.url}/api/alerts", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
