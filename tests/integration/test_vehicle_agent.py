"""`ecc vehicle` through a link drop: the center is killed (no goodbye, as in a crash or a cut
cable) while the vehicle drives, and started again. Every position of the drive is stored once,
in order, none missing; the stream comes back without anyone doing anything."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from ecc.bus.broker import free_port
from ecc.command_center.auth import hash_password
from ecc.config import Settings
from ecc.media import rtc
from ecc.storage import Store
from ecc.storage.models import User
from tests.support.center import PASSWORD
from tests.support.data import VIDEO
from tests.support.vehicles import agent, center, read_track, route, up, write_track
from tests.support.video import wait_for

pytestmark = pytest.mark.slow

CLIP = VIDEO / "one-by-one-person-detection.mp4"  # Main profile, passed through


def login(url: str) -> str:
    r = httpx.post(f"{url}/api/auth/login", json={"username": "crew", "password": PASSWORD})
    r.raise_for_status()
    token: str = r.json()["token"]
    return token


def publishing(url: str, token: str) -> bool:
    try:
        r = httpx.get(
            f"{url}/api/video/sources", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
    except httpx.HTTPError:
        return False
    return any(
        s["source_id"] == "vehicle:cmd-1" and s["publishing"] and s["keyframe_age_s"] is not None
        for s in r.json()["sources"]
    )


async def frames_seen(url: str, token: str, wanted: int) -> int:
    """A WHEP viewer that counts the frames it receives (reassembled, not decoded)."""
    rtc.register_h264_profiles()
    rtc.install_decoder_seam()
    rtc.use_host_addresses([], loopback=True)
    pc = RTCPeerConnection(rtc.configuration())
    transceiver = pc.addTransceiver("video", direction="recvonly")
    count = 0
    enough = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Count:
        def decode(self, encoded_frame: object) -> list[object]:
            nonlocal count  # on aiortc's decoder thread
            count += 1
            if count >= wanted:
                loop.call_soon_threadsafe(enough.set)
            return []

    try:
        await pc.setLocalDescription(await pc.createOffer())
        r = await asyncio.to_thread(
            httpx.post,
            f"{url}/api/whep/vehicle:cmd-1",
            content=pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        await pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        rtc.forward_codecs(transceiver, Count)
        await asyncio.wait_for(enough.wait(), 20)
        return count
    finally:
        await pc.close()


def test_a_killed_center_loses_no_position_and_the_stream_comes_back(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    store.users.add(User("crew", "crew", hash_password(PASSWORD), time.time()))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    track = write_track(tmp_path / "drive.nmea", route(150))
    expected = read_track(track)
    first = center(settings, port).start()
    vehicle = None
    second = None
    try:
        up(url)
        token = login(url)
        vehicle = agent(
            url,
            token,
            tmp_path / "agent",
            *("--video", str(CLIP), "--gps", str(track), "--interval", "1"),
        ).start()
        wait_for(lambda: publishing(url, token), 20, "the agent's stream")
        wait_for(lambda: store.positions.count("cmd-1") >= 4, 15, "positions")

        first.kill()
        before = store.positions.count("cmd-1")
        # Driving on with the center gone: the agent notices the silence and queues on disk.
        wait_for(
            lambda: (
                "no report from the center" in vehicle.output or "does not answer" in vehicle.output
            ),
            20,
            "the agent to notice",
        )
        wait_for(lambda: "queued" in vehicle.output, 10, "positions to queue")

        second = center(settings, port).start()
        up(url)
        restored = time.monotonic()
        wait_for(lambda: publishing(url, token), 30, "the stream to come back")
        took = time.monotonic() - restored
        assert asyncio.run(frames_seen(url, token, 20)) >= 20
        wait_for(
            lambda: (
                (
                    httpx.get(
                        f"{url}/api/vehicles/cmd-1", headers={"Authorization": f"Bearer {token}"}
                    ).json()["status"]["link"]
                    or {}
                ).get("queued")
                == 0
            ),
            20,
            "the agent's queue to drain",
        )
    finally:
        out = vehicle.stop() if vehicle is not None else ""
        if second is not None:
            second.stop()
        first.stop()
    print(out)
    assert "Traceback" not in out

    stored = store.positions.track("cmd-1", 0, 2e9)
    assert len(stored) > before + 3, (len(stored), before)
    # The drive as the file has it, from its first point, with no gap and nothing twice.
    assert [(p.lat, p.lon) for p in stored] == expected[: len(stored)]
    assert took < 20, f"the stream came back {took:.1f} s after the center"
