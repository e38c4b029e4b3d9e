"""Talkback in the vehicle: the center's voice, heard on the agent's speaker.

The agent listens as the vehicle page does: an audio-only WHEP offer to
`/api/talkback/{vehicle}/listen`; the center answers 503 with Retry-After while no operator
talks, and the agent asks again then. Once an operator talks, the Opus sound is decoded here (a
vehicle is a receiver, not a hub) and played on `--speaker`:

- `alsa:DEVICE` (e.g. `alsa:default`, `alsa:hw:0,0`): the vehicle's loudspeaker;
- a file (`talkback.wav`): each talkback session is written to it as WAV, replacing the last, so
  a vehicle without a speaker keeps what it was told.

A session ends when the operator stops talking (the center ends it, or no sound comes for
`SILENT_S`); the agent then listens for the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

from ecc.media import rtc, whip

log = logging.getLogger(__name__)

RATE = 48_000
SILENT_S = 6.0
"""No sound this long: the session is over (the operator's side went away)."""
RETRY_S = 2.0
"""Asked again this often while no operator talks, unless the center says otherwise."""
FAILED_MAX_S = 30.0
"""After failures (the center out of reach, the speaker unusable) the wait doubles up to this."""


class Speaker:
    """Where the sound goes: opened for a session, written frame by frame, closed after it.
    Blocking (ALSA holds a write until the device takes it): call it from a thread."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        if spec.startswith("alsa:"):
            self.target, self.format = spec.removeprefix("alsa:") or "default", "alsa"
        else:
            path = Path(spec)
            if not path.parent.is_dir():
                raise ValueError(f"--speaker {spec}: no such folder {path.parent}")
            self.target, self.format = str(path), "wav"
        self._container: Any = None
        self._stream: Any = None
        self._resampler: AudioResampler | None = None
        self.frames = 0

    def open(self) -> None:
        self.close()
        container = av.open(self.target, "w", format=self.format)
        self._stream = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
        self._resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        self._container = container

    def write(self, frame: AudioFrame) -> None:
        if self._container is None or self._resampler is None:
            return
        for chunk in self._resampler.resample(frame):
            for packet in self._stream.encode(chunk):
                self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        with contextlib.suppress(av.FFmpegError, OSError):
            for packet in self._stream.encode(None):
                container.mux(packet)
        with contextlib.suppress(av.FFmpegError, OSError):
            container.close()


class TalkbackListener:
    def __init__(
        self,
        url: str,
        token: Callable[[], str],
        speaker: Speaker,
        ice_servers: tuple[str, ...] = (),
    ) -> None:
        """`url`: the center's `/api/talkback/{vehicle}/listen`; `token()` gives the token."""
        self.url = url
        self.token = token
        self.speaker = speaker
        self.ice_servers = ice_servers
        self.sessions = 0

    async def run(self) -> None:
        """Listen until cancelled, session after session. Nothing here stops the agent: a
        center out of reach or a speaker that cannot play is said in the log and tried again
        after a backoff, while video and positions go on."""
        failed = RETRY_S
        while True:
            try:
                wait = await self._session()
                failed = RETRY_S
            except whip.WhipError as exc:
                if exc.status == 503:  # nobody talks: the usual answer
                    wait, failed = exc.retry_after or RETRY_S, RETRY_S
                else:
                    log.warning("talkback: %s; again in %.0f s", exc, failed)
                    wait, failed = failed, min(failed * 2, FAILED_MAX_S)
            except (ConnectionError, av.FFmpegError, OSError) as exc:
                log.warning("talkback on %s: %s; again in %.0f s", self.speaker.spec, exc, failed)
                wait, failed = failed, min(failed * 2, FAILED_MAX_S)
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))

    async def _session(self) -> float:
        pc = RTCPeerConnection(rtc.configuration(self.ice_servers))
        pc.addTransceiver("audio", direction="recvonly")
        tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
        pc.on("track", tracks.put_nowait)
        session: whip.WhipSession | None = None
        try:
            session = await whip.publish(pc, self.url, self.token())
            track = await asyncio.wait_for(tracks.get(), SILENT_S)
            self.sessions += 1
            log.info("talkback: the center talks; playing it on %s", self.speaker.spec)
            await asyncio.to_thread(self.speaker.open)
            try:
                while True:
                    frame = await asyncio.wait_for(track.recv(), SILENT_S)
                    await asyncio.to_thread(self.speaker.write, frame)  # type: ignore[arg-type]
            except (MediaStreamError, TimeoutError):
                log.info("talkback: ended")
            finally:
                await asyncio.to_thread(self.speaker.close)
        except TimeoutError as exc:
            raise ConnectionError("talkback answered, but no sound came") from exc
        finally:
            if session is not None:
                await session.delete()
            await pc.close()
        return 0.0
