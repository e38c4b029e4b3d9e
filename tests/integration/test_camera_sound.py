"""A camera's sound, from a real RTSP camera through `ecc ingest cameras` and the center to a
WHEP viewer: AAC (as Dahua and Hikvision send it) and G.711 A-law (most cameras' default) are
encoded to Opus once in the worker and heard by the viewer; the camera's status names its sound.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.media import rtc
from ecc.media.simulate import RtspCameras
from tests.support.center import RunningCenter
from tests.support.data import VIDEO
from tests.support.sound import tone_level
from tests.support.video import WorkerProcess, rtsp_cameras, video_settings, video_site, wait_for

pytestmark = pytest.mark.slow

TONE_HZ = 440


@pytest.fixture
def cameras(tmp_path: Path) -> Iterator[RtspCameras]:
    # The real clip's picture with a tone for its sound (the clip's own track is silent).
    clip = tmp_path / "tone.mp4"
    command = (
        f"ffmpeg -hide_banner -loglevel error -y -i {VIDEO / 'car-detection.mp4'} "
        f"-f lavfi -i sine=frequency={TONE_HZ}:sample_rate=48000 "
        f"-map 0:v -map 1:a -c:v copy -c:a aac -shortest {clip}"
    )
    subprocess.run(command.split(), check=True)
    server = rtsp_cameras({"/aac": f"clip+aac:{clip}", "/pcma": f"clip+pcma:{clip}"})
    yield server
    server.stop()


@pytest.fixture
def site(cameras: RtspCameras) -> Site:
    return video_site(
        [{"id": "aac", "main": cameras.url("/aac")}, {"id": "pcma", "main": cameras.url("/pcma")}]
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(settings)


@pytest.fixture
def worker(
    center_on_broker: RunningCenter, broker: PrivateBroker, tmp_path: Path
) -> Iterator[WorkerProcess]:
    center = center_on_broker
    w = WorkerProcess(center.settings, center.site, tmp_path, center.url).start()
    yield w
    out = w.stop()
    assert "Traceback" not in out, out


async def listen(center: RunningCenter, camera: str, seconds: float = 1.5) -> np.ndarray:
    """Watch the camera's main stream with sound; returns what was heard (left channel,
    floats in [-1, 1], 48 kHz).

    The Opus packets are decoded here, with PyAV, not by a decoder of aiortc's: the hub in this
    process counts aiortc's decoders and must count none."""
    rtc.register_h264_profiles()
    rtc.install_decoder_seam()
    rtc.use_host_addresses([], loopback=True)
    pc = RTCPeerConnection(rtc.configuration())
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    heard: list[np.ndarray] = []
    enough = threading.Event()
    opus = av.CodecContext.create("opus", "r")

    class Hear:
        def decode(self, encoded_frame: Any) -> list[object]:  # aiortc's decoder thread
            for frame in opus.decode(av.Packet(encoded_frame.data)):
                heard.append(frame.to_ndarray()[0])  # float, planar: the left channel
            if sum(len(x) for x in heard) >= seconds * 48_000:
                enough.set()
            return []

    class Ignore:
        def decode(self, encoded_frame: Any) -> list[object]:
            return []

    await pc.setLocalDescription(await pc.createOffer())
    try:
        r = await asyncio.to_thread(
            httpx.post,
            f"{center.url}/api/whep/camera:{camera}?stream=main",
            content=pc.localDescription.sdp,
            headers={
                "Content-Type": "application/sdp",
                "Authorization": f"Bearer {center.token('operator')}",
            },
            timeout=30,
        )
        assert r.status_code == 201, r.text
        assert "opus/48000/2" in r.text[r.text.index("m=audio") :]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        for transceiver in pc.getTransceivers():
            rtc.forward_codecs(transceiver, Hear if transceiver.kind == "audio" else Ignore)
        assert await asyncio.to_thread(enough.wait, 20), sum(len(x) for x in heard)
        return np.concatenate(heard)
    finally:
        await pc.close()


@pytest.mark.parametrize("camera", ["aac", "pcma"])
async def test_a_viewer_hears_the_camera(
    center_on_broker: RunningCenter, worker: WorkerProcess, camera: str
) -> None:
    center = center_on_broker

    def sound() -> object:
        status = center.get(f"/api/cameras/{camera}").json()["status"]
        return status and status["streams"]["main"]["audio"]

    codec = await asyncio.to_thread(wait_for, sound, 30, "the camera online with its sound")
    assert codec == {"aac": "aac", "pcma": "pcm_alaw"}[camera]
    # Skip the first second: the encoder's start and the jitter buffer's filling.
    pcm = await listen(center, camera, seconds=2.0)
    rms, share = tone_level(pcm[48_000:], 48_000, TONE_HZ)
    assert rms > 0.02, rms  # the tone (-18 dBFS) is about 0.06; silence is 0
    assert share > 0.5, share
    # Nothing was decoded by the hub (nor by aiortc anywhere in this process).
    assert center.get("/api/video/sources").json()["counts"]["decoders"] == 0
    assert any(f"{camera}: {codec} sound is encoded to Opus once" in x for x in worker.lines)
