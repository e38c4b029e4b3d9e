"""A vehicle publishing over WHIP is recorded by the center from the frames its media hub
forwards: segments cut where the recorder asked the vehicle's encoder for a keyframe, decodable,
played back and exported under /api/vehicles/{id}/, with nothing decoded in the center."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection
from aiortc.mediastreams import VideoStreamTrack

from ecc.config import Settings, Site, Vehicle
from ecc.media import rtc, whip
from tests.support.center import RunningCenter
from tests.support.recording import covered, decoded
from tests.support.video import video_settings, video_site, wait_for

pytestmark = pytest.mark.slow

VEHICLE = "cmd-7"
SOURCE = f"vehicle:{VEHICLE}"


@pytest.fixture
def site() -> Site:
    return video_site([]).model_copy(
        update={"vehicles": [Vehicle(id=VEHICLE, name="指挥车 7 号", retention_days=7)]}
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    s = video_settings(settings)
    recording = s.recording.model_copy(update={"segment_s": 2.0, "idle_close_s": 1.0})
    return s.model_copy(update={"recording": recording})


async def test_a_vehicle_is_recorded_at_the_center(center: RunningCenter) -> None:
    rtc.register_h264_profiles()
    rtc.use_host_addresses([], loopback=True)
    decoders = rtc.decoders_created()
    # aiortc's own encoder stands in for a browser's: it makes a keyframe when asked (PLI).
    pc = RTCPeerConnection(rtc.configuration())
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly").setCodecPreferences(
        [rtc.h264_capability("42e01f")]
    )
    session = await whip.publish(pc, f"{center.url}/api/whip/{SOURCE}", center.token("crew"))
    started = time.time()

    def recorded(seconds: float) -> bool:
        segments = center.store.recordings.range(SOURCE, 0, 4e9)
        return sum(s.duration for s in segments) >= seconds

    try:
        await asyncio.to_thread(wait_for, lambda: recorded(5.0), 40, "5 s of the vehicle")
    finally:
        await session.delete()
        await pc.close()
    # The publisher is gone: the segment under way is closed once the source is quiet.
    stopped = time.time()
    await asyncio.to_thread(
        wait_for,
        lambda: center.store.recordings.range(SOURCE, 0, 4e9)[-1].end > stopped - 0.7,
        20,
        "the last segment",
    )
    segments = center.store.recordings.range(SOURCE, 0, 4e9)
    assert segments[0].start >= started - 1
    assert len(covered(segments, tolerance=0.5)) == 1
    # Cut near the 2 s asked for: the recorder asks for a keyframe when a segment is due.
    for s in segments[:-1]:
        assert 2.0 <= s.duration < 3.5, [x.duration for x in segments]
    data = Path(center.settings.data_dir)
    for s in segments:
        assert (s.width, s.height) == (640, 480)
        frames = await asyncio.to_thread(decoded, data / s.path)
        assert len(frames) == pytest.approx(s.duration * 30, rel=0.25)
    figures = center.app.state.recordings.counts()[SOURCE]
    assert figures.segments == len(segments) and figures.dropped_frames == 0
    assert rtc.decoders_created() == decoders, "the center decoded nothing"

    r = center.get(f"/api/vehicles/{VEHICLE}/recordings", "leader")
    assert r.status_code == 200 and r.json()["segments"] == len(segments)
    params = {"start": segments[0].start, "end": segments[-1].end}
    r = center.get(f"/api/vehicles/{VEHICLE}/playback.m3u8", "operator", params=params)
    assert r.status_code == 200 and r.text.count("#EXTINF") == len(segments)
    r = center.get(f"/api/vehicles/{VEHICLE}/clip.mp4", "operator", params=params)
    assert r.status_code == 200 and r.content[4:8] == b"ftyp"
