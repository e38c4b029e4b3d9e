"""Talkback heard by `ecc vehicle`: an operator talks to the vehicle from the center, the agent
(listening whenever nobody talks, as the vehicle page does) plays it on its speaker, here a WAV
file, and listens again once the operator stops."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from av.audio.frame import AudioFrame

from ecc.config import Settings
from ecc.media import rtc
from tests.support.center import RunningCenter
from tests.support.sound import tone_level
from tests.support.vehicles import agent
from tests.support.video import video_settings, wait_for

pytestmark = pytest.mark.slow

RATE = 48_000
TONE_HZ = 440


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(settings, whep_wait_s=1.0)


class Tone(MediaStreamTrack):
    """An operator's microphone: a 440 Hz tone, 20 ms a frame, in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        n = 960
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self.sent / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(n) + self.sent) / RATE
        pcm = (8000 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.sent
        frame.time_base = fractions.Fraction(1, RATE)
        self.sent += n
        return frame


async def talk(center: RunningCenter, seconds: float, heard: Callable[[], bool]) -> None:
    """Talk to cmd-1 for `seconds` after the agent says it hears, then hang up."""
    rtc.register_h264_profiles()
    rtc.use_host_addresses([], loopback=True)
    pc = RTCPeerConnection(rtc.configuration())
    pc.addTransceiver(Tone(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    r = await asyncio.to_thread(
        httpx.post,
        f"{center.url}/api/talkback/cmd-1",
        content=pc.localDescription.sdp,
        headers={
            "Content-Type": "application/sdp",
            "Authorization": f"Bearer {center.token('operator')}",
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        await asyncio.to_thread(wait_for, heard, 20, "the agent to hear the center")
        await asyncio.sleep(seconds)
    finally:
        with center.client("operator") as c:
            await asyncio.to_thread(c.delete, r.headers["location"])
        await pc.close()


def test_the_agent_plays_what_the_center_says(center: RunningCenter, tmp_path: Path) -> None:
    wav = tmp_path / "talkback.wav"
    vehicle = agent(
        center.url,
        center.token("crew"),
        tmp_path / "agent",
        *("--gps", "fixed:29.9,121.8", "--speaker", str(wav)),
    ).start()
    try:
        wait_for(lambda: "talkback" in vehicle.output, 20, "the agent to start listening")
        asyncio.run(talk(center, 3.0, lambda: "the center talks" in vehicle.output))
        wait_for(lambda: "talkback: ended" in vehicle.output, 20, "the session to end")
    finally:
        out = vehicle.stop()
    assert "Traceback" not in out, out

    with av.open(str(wav)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.sample_rate) == ("pcm_s16le", RATE)
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
    assert len(pcm) >= 2.0 * RATE, len(pcm) / RATE  # about the 3 s talked
    rms, share = tone_level(pcm[RATE // 2 :], RATE, TONE_HZ)
    assert share > 0.5
    assert rms > 1000  # the tone is about 5,600; silence is 0
