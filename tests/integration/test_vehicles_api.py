"""The vehicles API on a real center: positions stored once per (vehicle, ts), tracks, status and
link telemetry, relayed by every node of a deployment; talkback's audio-only WHIP and WHEP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.media import rtc
from ecc.storage import Store
from tests.integration.test_events import events, next_of
from tests.support.center import RunningCenter
from tests.support.video import video_settings, wait_for

T0 = float(int(time.time()) - 600)


def at(i: int, **kw: object) -> dict[str, object]:
    return {"ts": T0 + i, "lat": 29.9 + i * 1e-4, "lon": 121.8 + i * 1e-4, **kw}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    quick = settings.vehicles.model_copy(update={"offline_after_s": 2.0, "max_batch": 50})
    return video_settings(settings, whep_wait_s=1.0).model_copy(update={"vehicles": quick})


def test_positions_are_stored_once_and_tracks_come_back_in_order(center: RunningCenter) -> None:
    r = center.post("/api/vehicles/cmd-1/position", "crew", json=at(0, speed=8.5, heading=90))
    assert r.status_code == 200 and r.json() == {"received": 1, "stored": 1}
    # Sent again (an answer was lost): stored once.
    assert center.post("/api/vehicles/cmd-1/position", "crew", json=at(0)).json()["stored"] == 0
    batch = [at(i) for i in (3, 1, 2, 1, 0)]
    assert center.post("/api/vehicles/cmd-1/positions", "crew", json=batch).json() == {
        "received": 5,
        "stored": 3,
    }
    # RFC 3339 and epoch seconds name the same instant; milliseconds identify a position.
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(T0) + 100)) + "Z"
    assert (
        center.post("/api/vehicles/cmd-1/position", "crew", json=at(0, ts=iso)).json()["stored"]
        == 1
    )
    again = at(0, ts=int(T0) + 100.0004)
    assert center.post("/api/vehicles/cmd-1/position", "crew", json=again).json()["stored"] == 0

    track = center.get("/api/vehicles/cmd-1/track", "leader").json()
    assert [p["lat"] for p in track] == [at(i)["lat"] for i in (0, 1, 2, 3)] + [29.9]
    assert track[0]["speed"] == 8.5 and track[0]["heading"] == 90
    window = f"start={T0 + 1}&end={T0 + 2}"
    assert len(center.get(f"/api/vehicles/cmd-1/track?{window}").json()) == 2
    assert len(center.get("/api/vehicles/cmd-1/track?limit=2").json()) == 2
    [cmd1] = [v for v in center.get("/api/vehicles").json() if v["id"] == "cmd-1"]
    assert cmd1["position"]["lat"] == 29.9 and cmd1["plate"] == "浙B·E1101"
    assert center.get("/api/vehicles/cmd-2").json()["position"] is None


def test_what_the_positions_api_refuses(center: RunningCenter) -> None:
    post = center.post
    assert post("/api/vehicles/nowhere/position", "crew", json=at(0)).status_code == 404
    assert post("/api/vehicles/cmd-1/position", "operator", json=at(0)).status_code == 403
    assert post("/api/vehicles/cmd-1/position", "crew", json=at(0, lat=91)).status_code == 422
    assert post("/api/vehicles/cmd-1/position", "crew", json=at(0, x=1)).status_code == 422
    assert post("/api/vehicles/cmd-1/position", "crew", json=at(0, ts="noon")).status_code == 422
    future = at(0, ts=time.time() + 3600)
    r = post("/api/vehicles/cmd-1/position", "crew", json=future)
    assert r.status_code == 422 and "ahead" in r.json()["detail"]
    too_many = [at(i) for i in range(51)]
    assert post("/api/vehicles/cmd-1/positions", "crew", json=too_many).status_code == 413
    bad_window = center.get(f"/api/vehicles/cmd-1/track?start={T0 + 10}&end={T0}")
    assert bad_window.status_code == 422
    assert center.store.positions.count() == 0


def test_positions_and_status_go_live_and_a_silent_vehicle_goes_offline(
    center: RunningCenter,
) -> None:
    with events(center, "operator") as ws:
        center.post("/api/vehicles/cmd-1/position", "crew", json=at(5, heading=45))
        p = next_of(ws, "position")
        assert (p["vehicle_id"], p["heading"]) == ("cmd-1", 45)
        status = next_of(ws, "vehicle")
        assert status["id"] == "cmd-1" and status["online"] is True and status["video"] is False
        # A queue uploaded late: only what is newer than the vehicle's newest goes out live.
        center.post("/api/vehicles/cmd-1/positions", "crew", json=[at(i) for i in range(8)])
        assert [next_of(ws, "position")["lat"] for _ in range(2)] == [at(6)["lat"], at(7)["lat"]]
        r = center.post(
            "/api/vehicles/cmd-1/telemetry",
            "crew",
            json={"rtt_ms": 84.5, "loss_pct": 1.5, "bitrate_kbps": 720, "queued": 0},
        )
        assert r.status_code == 200 and r.json() == {"video": False}
        link = next_of(ws, "vehicle")["link"]
        assert (link["rtt_ms"], link["loss_pct"], link["bitrate_kbps"]) == (84.5, 1.5, 720)
        # Silent for offline_after_s: offline, said once.
        assert next_of(ws, "vehicle", timeout=5)["online"] is False
    listed = center.get("/api/vehicles/cmd-1").json()["status"]
    assert listed["online"] is False and listed["link"]["rtt_ms"] == 84.5


@pytest.fixture
def second_node(
    center_on_broker: RunningCenter,
    settings: Settings,
    site: Site,
    store: Store,
    broker: PrivateBroker,
) -> Iterator[RunningCenter]:
    node = RunningCenter(settings.model_copy(update={"mqtt_url": broker.url}), site, store).start()
    yield node
    node.stop()


def test_every_node_relays_a_vehicle_that_reports_to_another(
    center_on_broker: RunningCenter, second_node: RunningCenter
) -> None:
    a, b = center_on_broker, second_node
    for node in (a, b):
        wait_for(lambda node=node: node.app.state.bus.connected, 10, "the bus")
    with events(b, "operator") as ws:
        # The subscription is up once a message published through the bus comes back.
        wait_for(
            lambda: (
                a.post("/api/vehicles/cmd-2/telemetry", "crew", json={}).status_code == 200
                and next_of(ws, "vehicle")["id"] == "cmd-2"
            ),
            10,
            "node b to hear the bus",
        )
        a.post("/api/vehicles/cmd-1/position", "crew", json=at(1))
        assert next_of(ws, "position")["vehicle_id"] == "cmd-1"
        assert next_of(ws, "vehicle")["online"] is True
    assert b.get("/api/vehicles/cmd-1").json()["status"]["online"] is True


async def test_talkback_is_audio_from_an_operator_to_the_vehicle(center: RunningCenter) -> None:
    rtc.register_h264_profiles()
    rtc.install_decoder_seam()
    rtc.use_host_addresses([], loopback=True)
    sdp = {"Content-Type": "application/sdp"}

    def post(url: str, body: str, role: str) -> httpx.Response:
        headers = {**sdp, "Authorization": f"Bearer {center.token(role)}"}
        return httpx.post(f"{center.url}{url}", content=body, headers=headers, timeout=30)

    listener = RTCPeerConnection(rtc.configuration())
    listener.addTransceiver("audio", direction="recvonly")
    await listener.setLocalDescription(await listener.createOffer())
    offer = listener.localDescription.sdp
    # Nobody talks yet: the vehicle is told to ask again.
    r = await asyncio.to_thread(post, "/api/talkback/cmd-1/listen", offer, "crew")
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert (
        await asyncio.to_thread(post, "/api/talkback/x/listen", offer, "crew")
    ).status_code == 404
    assert (
        await asyncio.to_thread(post, "/api/talkback/cmd-1", offer, "leader")
    ).status_code == 403

    speaker = RTCPeerConnection(rtc.configuration())
    speaker.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await speaker.setLocalDescription(await speaker.createOffer())
    heard = 0
    enough = threading.Event()

    class Count:
        def decode(self, encoded_frame: object) -> list[object]:
            nonlocal heard  # aiortc's decoder thread: Opus packets as the operator sent them
            heard += 1
            if heard >= 25:
                enough.set()
            return []

    try:
        r = await asyncio.to_thread(
            post, "/api/talkback/cmd-1", speaker.localDescription.sdp, "operator"
        )
        assert r.status_code == 201, r.text
        assert r.headers["location"].startswith("/api/talkback/cmd-1/sessions/")
        assert "m=video" not in r.text
        await speaker.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        r = await asyncio.to_thread(post, "/api/talkback/cmd-1/listen", offer, "crew")
        assert r.status_code == 201, r.text
        assert "opus/48000/2" in r.text and "m=video" not in r.text
        await listener.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer"))
        for transceiver in listener.getTransceivers():
            rtc.forward_codecs(transceiver, Count)
        assert await asyncio.to_thread(enough.wait, 20), heard
        status = (await asyncio.to_thread(center.get, "/api/vehicles/cmd-1")).json()["status"]
        assert status["talkback"] is True
        counts = (await asyncio.to_thread(center.get, "/api/video/sources")).json()["counts"]
        assert counts["decoders"] == 0
    finally:
        await listener.close()
        await speaker.close()
