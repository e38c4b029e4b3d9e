"""One camera stream pulled for as long as the worker runs: reader thread, health, GOP cache.

The reader (ecc.media.source) runs in a thread of its own and hands each access unit to the
event loop. The pipeline keeps the health figures (fps, bitrate, time since the last keyframe),
the access units since the newest keyframe (so a push starts with a picture), and hands units
to whoever listens (the WHIP push while someone watches).

A source that fails is opened again after a backoff with jitter (1 s doubling to
`reconnect_max_s`, times 0.5 to 1.5, so many cameras behind one failed switch do not all knock
at once); a stream that delivers no frame for `stall_s` is closed and opened again (watchdog).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ecc.config.settings import VideoSettings
from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.media.source import Reader, ReaderOptions, SourceError, Stopped

log = logging.getLogger(__name__)

WINDOW_S = 5.0
GOP_MAX_BYTES = 8 * 1024 * 1024

Listener = Callable[[AccessUnit, float], None]
AudioListener = Callable[[bytes, int], None]
"""Opus packets: payload and its samples at 48 kHz (ecc.media.audio)."""


@dataclass
class Health:
    online: bool = False
    since: float = 0.0
    """Wall time (Unix) the stream went online or offline."""
    fps: float = 0.0
    bitrate: int = 0
    keyframe_age_s: float | None = None
    error: str | None = None
    codec: str | None = None
    profile_level_id: str | None = None
    width: int = 0
    height: int = 0
    transcoding: bool = False
    audio: str | None = None
    """The codec of the stream's sound; None when it has none."""
    restarts: int = 0


class StreamPipeline:
    def __init__(self, camera_id: str, stream: str, url: str, settings: VideoSettings) -> None:
        self.camera_id = camera_id
        self.stream = stream
        self.url = url
        self.settings = settings
        self.health = Health(since=time.time())
        self.on_change: Callable[[], None] = lambda: None
        self._listeners: set[Listener] = set()
        self._audio_listeners: set[AudioListener] = set()
        self._gop: list[AccessUnit] = []
        self._gop_bytes = 0
        self._window: deque[tuple[float, int, int]] = deque()
        self._last_unit = 0.0
        self._last_keyframe: float | None = None
        self._reader: Reader | None = None
        self.ready = asyncio.Event()
        """Set while the stream is online with a keyframe cached: a push can start."""

    @property
    def name(self) -> str:
        return f"{self.camera_id}/{self.stream}"

    # -- consumers ------------------------------------------------------------------------

    def listen(self, listener: Listener) -> list[AccessUnit]:
        """Add a listener; returns the GOP so far, for it to start from."""
        self._listeners.add(listener)
        return list(self._gop)

    def unlisten(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def listen_audio(self, listener: AudioListener) -> None:
        """Hear the stream's sound as Opus; it is read (and encoded, if it must be) only while
        someone listens."""
        self._audio_listeners.add(listener)

    def unlisten_audio(self, listener: AudioListener) -> None:
        self._audio_listeners.discard(listener)

    def gop(self) -> list[AccessUnit]:
        """The access units since the newest keyframe (none while offline): a still's source."""
        return list(self._gop)

    def refresh(self) -> None:
        """Recompute the time-based figures (fps falls to 0 when frames stop)."""
        now = time.monotonic()
        while self._window and now - self._window[0][0] > WINDOW_S:
            self._window.popleft()
        h = self.health
        # Frame rate from the frames' own timestamps: a camera that sends a second of frames
        # in a burst when opened (buffered while the stream was probed) still reads 25 fps.
        stamps = [pts for _, _, pts in self._window]
        span = (max(stamps) - min(stamps)) / VIDEO_CLOCK if len(stamps) > 1 else 0.0
        h.fps = round((len(stamps) - 1) / span, 2) if span > 0 else 0.0
        h.bitrate = int(sum(size for _, size, _ in self._window) * 8 / WINDOW_S)
        h.keyframe_age_s = (
            None if self._last_keyframe is None else round(now - self._last_keyframe, 2)
        )

    # -- the pull loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Pull until cancelled: open, read, and on failure or stall wait and open again."""
        delay = self.settings.reconnect_min_s
        while True:
            started = time.monotonic()
            error = await self._pull()
            self._set_offline(error)
            if time.monotonic() - started > 60:
                delay = self.settings.reconnect_min_s
            wait = delay * random.uniform(0.5, 1.5)
            log.info("%s: %s; opening again in %.1f s", self.name, error, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.settings.reconnect_max_s)
            self.health.restarts += 1

    async def _pull(self) -> str:
        """One life of the reader thread; returns why it ended."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        done: asyncio.Future[str] = loop.create_future()
        options = ReaderOptions(
            open_timeout_s=self.settings.open_timeout_s,
            read_timeout_s=self.settings.read_timeout_s,
            transcode_bitrate=self.settings.transcode_bitrate,
            label=self.camera_id,
        )
        reader = Reader(self.url, options, stop)
        reader.audio_wanted = lambda: bool(self._audio_listeners)

        def on_audio(payload: bytes, samples: int) -> None:
            loop.call_soon_threadsafe(self._on_audio, payload, samples)

        reader.on_audio = on_audio
        self._reader = reader

        def finish(reason: str) -> None:
            if not done.done():
                done.set_result(reason)

        def read() -> None:
            reason = "stopped"
            try:
                for unit in reader.units():
                    loop.call_soon_threadsafe(self._on_unit, unit)
            except Stopped:
                pass
            except SourceError as exc:
                reason = str(exc)
            except Exception as exc:
                log.exception("%s: reader failed", self.name)
                reason = f"reader failed: {exc!r}"
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(finish, reason)

        thread = threading.Thread(target=read, name=f"camera-{self.name}", daemon=True)
        self._last_unit = time.monotonic()
        thread.start()
        try:
            return await self._watch(done)
        finally:
            stop.set()
            # The thread notices `stop` at its next packet, or when its read times out.
            if not done.done():
                await asyncio.shield(done)
            self._reader = None

    async def _watch(self, done: asyncio.Future[str]) -> str:
        """Wait for the reader to end; close it if it delivers nothing for `stall_s`."""
        stall = self.settings.stall_s
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(done), timeout=1.0)
            except TimeoutError:
                pass
            self.refresh()
            if time.monotonic() - self._last_unit > stall:
                return f"no frame for {stall:.0f} s (watchdog)"

    def _on_unit(self, unit: AccessUnit) -> None:
        now = time.monotonic()
        self._last_unit = now
        self._window.append((now, unit.size, unit.pts))
        if unit.keyframe:
            self._last_keyframe = now
            self.ready.set()
            self._gop = [unit]
            self._gop_bytes = unit.size
        elif self._gop:
            self._gop_bytes += unit.size
            if self._gop_bytes > GOP_MAX_BYTES:
                self._gop, self._gop_bytes = [], 0
            else:
                self._gop.append(unit)
        h = self.health
        if not h.online:
            reader = self._reader
            h.online, h.since, h.error = True, time.time(), None
            if reader is not None:
                h.codec, h.profile_level_id = reader.codec, reader.profile_level_id
                h.width, h.height, h.transcoding = reader.width, reader.height, reader.transcoding
                h.audio = reader.audio_codec
            log.info(
                "%s: online (%s %s%s)",
                self.name,
                h.codec,
                h.profile_level_id,
                f", sound {h.audio}" if h.audio else "",
            )
            self.refresh()
            self.on_change()
        for listener in list(self._listeners):
            listener(unit, now)

    def _on_audio(self, payload: bytes, samples: int) -> None:
        for listener in list(self._audio_listeners):
            listener(payload, samples)

    def _set_offline(self, error: str) -> None:
        self.ready.clear()
        self._gop, self._gop_bytes = [], 0
        self._window.clear()
        self._last_keyframe = None
        h = self.health
        was_online = h.online
        h.online, h.error, h.fps, h.bitrate, h.keyframe_age_s = False, error, 0.0, 0, None
        if was_online:
            h.since = time.time()
            log.warning("%s: offline: %s", self.name, error)
        self.on_change()
