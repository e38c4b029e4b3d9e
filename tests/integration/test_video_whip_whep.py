"""WHIP and WHEP on a real center (RFC 9725 semantics): answers, Location, DELETE, errors,
profile negotiation, and the public endpoint's rules."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from ecc.config import Settings, Site, Vehicle, signing_secret
from ecc.media import rtc, whip
from ecc.media.source import Reader, ReaderOptions, Stopped
from ecc.media.track import PacketTrack
from ecc.tokens import Tokens
from tests.support.center import RunningCenter
from tests.support.video import video_settings, video_site, wait_for

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def site() -> Site:
    return video_site(
        [
            {"id": "quay", "main": "rtsp://127.0.0.1:1/quay", "sub": "rtsp://127.0.0.1:1/q2"},
            {"id": "square", "main": "rtsp://127.0.0.1:1/square", "public": True},
        ]
    ).model_copy(update={"vehicles": [Vehicle(id="cmd-7", name="指挥车 7 号")]})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return video_settings(settings, whep_wait_s=1.0, public_viewers_per_camera=1)


def service_token(settings: Settings) -> str:
    return Tokens(signing_secret(settings), 600).issue("camera-worker", "service")[0]


async def viewer_offer(audio: bool = False) -> tuple[RTCPeerConnection, str]:
    rtc.register_h264_profiles()
    pc = RTCPeerConnection(rtc.configuration())
    pc.addTransceiver("video", direction="recvonly")
    if audio:
        pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


@asynccontextmanager
async def pushed(center: RunningCenter, camera: str) -> AsyncIterator[whip.WhipSession]:
    """A camera's main stream pushed from a generated scene, as a worker would."""
    rtc.register_h264_profiles()
    rtc.use_host_addresses([], loopback=True)
    loop = asyncio.get_running_loop()
    track = PacketTrack()
    stop = threading.Event()
    reader = Reader("clock:320x180@15", ReaderOptions(label=camera), stop)

    def read() -> None:
        try:
            for unit in reader.units():
                loop.call_soon_threadsafe(track.push, unit, time.monotonic())
        except (Stopped, RuntimeError):
            pass

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    pc = RTCPeerConnection(rtc.configuration())
    pc.addTransceiver(track, direction="sendonly").setCodecPreferences(
        [rtc.h264_capability("42e01f")]
    )
    url = f"{center.url}/api/whip/camera:{camera}?stream=main"
    session = await whip.publish(pc, url, service_token(center.settings))
    try:
        yield session
    finally:
        stop.set()
        await session.delete()
        await pc.close()
        await asyncio.to_thread(thread.join, 5)


@pytest.fixture
async def publisher(center: RunningCenter) -> AsyncIterator[whip.WhipSession]:
    async with pushed(center, "quay") as session:
        yield session


def post(url: str, body: str, token: str | None = None) -> httpx.Response:
    headers = dict(SDP)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(url, content=body, headers=headers, timeout=30)


async def test_whep_refuses_what_it_cannot_answer(center: RunningCenter) -> None:
    pc, offer = await viewer_offer()
    try:
        token = center.token("operator")
        url = f"{center.url}/api/whep/camera:quay"
        assert (await asyncio.to_thread(post, url, offer)).status_code == 401
        r = await asyncio.to_thread(
            httpx.post, url, json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 415
        missing = f"{center.url}/api/whep/camera:nowhere"
        assert (await asyncio.to_thread(post, missing, offer, token)).status_code == 404
        assert (await asyncio.to_thread(post, url, "v=0\r\nbroken", token)).status_code == 400
        # Nobody pushes this camera: 503, and when to try again.
        r = await asyncio.to_thread(post, url, offer, token)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert "not being pushed" in r.json()["detail"]
        # A camera its worker reports offline is refused without waiting for it.
        center.app.state.live.camera_status["quay"] = {"id": "quay", "online": False}
        r = await asyncio.to_thread(post, url, offer, token)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert r.json()["detail"] == "camera quay is offline"
    finally:
        await pc.close()


async def test_whip_is_for_ecc_workers_and_answers_h264_only(center: RunningCenter) -> None:
    pc, offer = await viewer_offer()  # any offer will do to check the gate
    try:
        url = f"{center.url}/api/whip/camera:quay"
        r = await asyncio.to_thread(post, url, offer, center.token("crew"))
        assert r.status_code == 403  # crews publish vehicles, not cameras
        r = await asyncio.to_thread(post, url, offer, center.token("operator"))
        assert r.status_code == 403
    finally:
        await pc.close()


async def test_watch_a_pushed_camera_then_end_the_session(
    center: RunningCenter, publisher: whip.WhipSession
) -> None:
    token = center.token("operator")
    pc, offer = await viewer_offer(audio=True)
    try:
        r = await asyncio.to_thread(post, f"{center.url}/api/whep/camera:quay", offer, token)
        assert r.status_code == 201, r.text
        assert r.headers["content-type"] == "application/sdp"
        location = r.headers["location"]
        assert location.startswith("/api/whep/camera:quay/sessions/")
        answer = r.text
        video = answer[answer.index("m=video") :]
        # H.264 in the camera's profile; never VP8 (which the browser would offer first).
        assert "H264/90000" in video and "profile-level-id=42e01f" in video
        assert "VP8" not in video
        sources = center.get("/api/video/sources").json()["sources"]
        [quay] = [s for s in sources if s["source_id"] == "camera:quay"]
        assert quay["stream"] == "main" and quay["viewers"] == 1 and quay["publishes"] == 1
        headers = {"Authorization": f"Bearer {token}"}
        r = await asyncio.to_thread(httpx.delete, f"{center.url}{location}", headers=headers)
        assert r.status_code == 204
        r = await asyncio.to_thread(httpx.delete, f"{center.url}{location}", headers=headers)
        assert r.status_code == 404
    finally:
        await pc.close()


async def test_the_sub_stream_of_a_camera_without_one_is_its_main(
    center: RunningCenter, publisher: whip.WhipSession
) -> None:
    pc, offer = await viewer_offer()
    try:
        # `quay` has a sub stream, which nobody pushes: 503; its main is pushed.
        url = f"{center.url}/api/whep/camera:quay?stream=sub"
        r = await asyncio.to_thread(post, url, offer, center.token("operator"))
        assert r.status_code == 503
    finally:
        await pc.close()


async def test_public_cameras_only_capped_without_a_token(center: RunningCenter) -> None:
    pc, offer = await viewer_offer()
    try:
        r = await asyncio.to_thread(post, f"{center.url}/api/public/whep/quay", offer)
        assert r.status_code == 404  # not public: as if it did not exist
        r = await asyncio.to_thread(post, f"{center.url}/api/public/whep/nowhere", offer)
        assert r.status_code == 404
        listed = (await asyncio.to_thread(httpx.get, f"{center.url}/api/public/cameras")).json()
        assert [c["id"] for c in listed] == ["square"]
        r = await asyncio.to_thread(post, f"{center.url}/api/public/whep/square", offer)
        assert r.status_code == 503  # public, but not pushed
    finally:
        await pc.close()


async def test_anonymous_viewers_of_a_public_camera_are_capped(center: RunningCenter) -> None:
    first, offer = await viewer_offer()
    second, offer2 = await viewer_offer()
    try:
        async with pushed(center, "square"):
            url = f"{center.url}/api/public/whep/square"
            r = await asyncio.to_thread(post, url, offer)
            assert r.status_code == 201, r.text
            location = r.headers["location"]
            assert location.startswith("/api/public/whep/square/sessions/")
            r = await asyncio.to_thread(post, url, offer2)
            assert r.status_code == 503 and r.headers["Retry-After"] == "30"  # cap of 1
            # A signed-in operator is not counted against the public cap.
            token = center.token("operator")
            r = await asyncio.to_thread(post, f"{center.url}/api/whep/camera:square", offer2, token)
            assert r.status_code == 201
            r = await asyncio.to_thread(httpx.delete, f"{center.url}{location}")
            assert r.status_code == 204
    finally:
        await first.close()
        await second.close()


async def test_opus_from_a_publisher_reaches_viewers_as_it_came(center: RunningCenter) -> None:
    """A vehicle's audio: Opus packets go through the hub without being decoded."""
    rtc.register_h264_profiles()
    rtc.install_decoder_seam()
    rtc.use_host_addresses([], loopback=True)
    publisher = RTCPeerConnection(rtc.configuration())
    publisher.addTransceiver(AudioStreamTrack(), direction="sendonly")
    publisher.addTransceiver(VideoStreamTrack(), direction="sendonly").setCodecPreferences(
        [rtc.h264_capability("42e01f")]
    )
    session = await whip.publish(
        publisher, f"{center.url}/api/whip/vehicle:cmd-7", center.token("crew")
    )
    viewer, offer = await viewer_offer(audio=True)
    received = {"audio": 0, "video": 0}
    enough_audio = threading.Event()

    def keyframe_in() -> bool:
        sources = center.get("/api/video/sources").json()["sources"]
        return any(s["source_id"] == "vehicle:cmd-7" and s["keyframe_age_s"] for s in sources)

    await asyncio.to_thread(wait_for, keyframe_in, 20, "the vehicle's first keyframe")

    class Count:
        def __init__(self, kind: str) -> None:
            self.kind = kind

        def decode(self, encoded_frame: object) -> list[object]:
            # Called on aiortc's decoder thread.
            received[self.kind] += 1
            if received["audio"] >= 25:
                enough_audio.set()
            return []

    try:
        r = await asyncio.to_thread(
            post, f"{center.url}/api/whep/vehicle:cmd-7", offer, center.token("leader")
        )
        assert r.status_code == 201, r.text
        audio = r.text[r.text.index("m=audio") :]
        assert "opus/48000/2" in audio
        await viewer.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        for transceiver in viewer.getTransceivers():
            kind = transceiver.kind
            # Counted, not decoded: what arrives is what the publisher's encoder made.
            rtc.forward_codecs(transceiver, lambda kind=kind: Count(kind))
        assert await asyncio.to_thread(enough_audio.wait, 20), received
    finally:
        await viewer.close()
        await session.delete()
        await publisher.close()
