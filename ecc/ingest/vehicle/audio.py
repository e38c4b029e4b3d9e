"""The vehicle's sound: a microphone (ALSA or PulseAudio) or a file, as 20 ms PCM frames.

`--audio` names the source: `alsa:DEVICE` (e.g. `alsa:hw:1,0`), `pulse:SOURCE` (`pulse:default`)
or a file (any audio PyAV reads, or the sound track of a video clip; looped, at its own pace).
A reader thread decodes it and resamples to 48 kHz stereo s16, the input aiortc's Opus encoder
takes; the sender encodes Opus once, on the vehicle, and the hub forwards it as it came.

Frames go to each session's track through a bounded queue that keeps the newest: audio that
cannot be sent in time is dropped, never delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.container import InputContainer

from ecc.media.track import QueuedTrack

log = logging.getLogger(__name__)

RATE = 48_000
SAMPLES = 960  # 20 ms, Opus's frame
TIME_BASE = fractions.Fraction(1, RATE)
QUEUE_FRAMES = 25  # half a second
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0


class AudioTrack(QueuedTrack[AudioFrame]):
    """One session's audio: frames from the feed, the newest kept when the sender lags."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__(maxlen=QUEUE_FRAMES)
        self._pts = 0

    def push(self, frame: AudioFrame) -> None:
        self._put(frame)

    async def recv(self) -> AudioFrame:
        frame = await self._next()
        # One continuous timeline per session, whatever the feed went through (a loop, a
        # device reopened): the sender's RTP timestamps follow it.
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += frame.samples
        return frame


class AudioFeed:
    """The source read for as long as the agent runs, frames handed to the tracks listening."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.tracks: set[AudioTrack] = set()
        self.frames = 0

    def track(self) -> AudioTrack:
        track = AudioTrack()
        self.tracks.add(track)
        return track

    def release(self, track: AudioTrack) -> None:
        self.tracks.discard(track)
        track.stop()

    async def run(self) -> None:
        """Read until cancelled; a source that fails is opened again after a backoff."""
        delay = RETRY_MIN_S
        while True:
            started = time.monotonic()
            reason = await self._read_once()
            if time.monotonic() - started > 60:
                delay = RETRY_MIN_S
            wait = delay * random.uniform(0.5, 1.5)
            log.warning("audio %s: %s; again in %.1f s", self.spec, reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_MAX_S)

    def _deliver(self, frame: AudioFrame) -> None:
        self.frames += 1
        for track in self.tracks:
            track.push(frame)

    async def _read_once(self) -> str:
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        done: asyncio.Future[str] = loop.create_future()

        def finish(reason: str) -> None:
            if not done.done():
                done.set_result(reason)

        def read() -> None:
            reason = "ended"
            try:
                for frame in frames(self.spec, stop):
                    loop.call_soon_threadsafe(self._deliver, frame)
            except (av.FFmpegError, OSError, ValueError) as exc:
                reason = str(exc)
            except Exception as exc:
                log.exception("audio %s: reader failed", self.spec)
                reason = repr(exc)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(finish, reason)

        thread = threading.Thread(target=read, name="vehicle-audio", daemon=True)
        thread.start()
        try:
            return await asyncio.shield(done)
        finally:
            stop.set()
            if not done.done():
                await asyncio.shield(done)


def open_audio(spec: str) -> tuple[InputContainer, bool]:
    """The container of `--audio`, and whether it is a live device (not paced by us)."""
    kind, _, name = spec.partition(":")
    if kind in ("alsa", "pulse") and name:
        return av.open(name, format=kind), True
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"--audio {spec}: no such file (or give alsa:DEVICE, pulse:SOURCE)")
    return av.open(str(path)), False


def frames(spec: str, stop: threading.Event) -> Iterator[AudioFrame]:
    """20 ms frames of 48 kHz stereo s16 from the source, in real time, until `stop`."""
    while not stop.is_set():
        container, live = open_audio(spec)
        try:
            if not container.streams.audio:
                raise ValueError(f"--audio {spec}: no sound track")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(
                format="s16", layout="stereo", rate=RATE, frame_size=SAMPLES
            )
            start, sent = time.monotonic(), 0
            for packet in container.demux(stream):
                if stop.is_set():
                    return
                for decoded in packet.decode():
                    for frame in resampler.resample(decoded):
                        if not live:
                            # A file plays at its own pace, as a microphone would deliver it.
                            due = start + sent / RATE
                            if stop.wait(max(0.0, due - time.monotonic())):
                                return
                        sent += frame.samples
                        yield frame
        finally:
            container.close()
        if live:
            raise OSError(f"{spec}: the device stopped")
