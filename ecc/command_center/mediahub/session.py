"""What WHIP and WHEP sessions share: an id, a peer connection, owned tasks, an end."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc import sdp as aiortc_sdp

from ecc.command_center.mediahub.source import LiveSource
from ecc.media import rtc

log = logging.getLogger(__name__)

MAX_SDP_BYTES = 64 * 1024


class BadOffer(ValueError):
    """The SDP offer cannot be answered; the message says why (a 400 to the client)."""


def parse_offer(text: str) -> aiortc_sdp.SessionDescription:
    try:
        description = aiortc_sdp.SessionDescription.parse(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise BadOffer(f"not an SDP offer: {exc}") from None
    if not any(m.kind in ("audio", "video") for m in description.media):
        raise BadOffer("the offer has no audio or video")
    return description


class Session:
    """A peer connection on behalf of one publisher or viewer; the hub owns it and ends it."""

    kind = "session"

    def __init__(self, source: LiveSource, pc: RTCPeerConnection) -> None:
        self.id = secrets.token_urlsafe(18)
        self.source = source
        self.pc = pc
        self.created = time.monotonic()
        self.connected = False
        self.ended = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_end: Callable[[Session], None] | None = None

        @pc.on("connectionstatechange")
        def _state() -> None:
            state = pc.connectionState
            if state == "connected" and not self.connected:
                self.connected = True
                self.spawn(self._connected(), "connected", ends_session=False)
            elif state in ("failed", "closed") and self.on_end is not None:
                self.on_end(self)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str, ends_session: bool = True) -> None:
        """Run a task owned by this session; it is cancelled and awaited when the session ends.
        A pump's end (its track or transport gone) ends the session; a one-off's does not."""
        task = asyncio.create_task(coro, name=f"{self.kind}-{self.id[:6]}-{name}")
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._task_done(t, ends_session))

    def _task_done(self, task: asyncio.Task[None], ends_session: bool) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "%s %s of %s failed",
                self.kind,
                task.get_name(),
                self.source.key,
                exc_info=task.exception(),
            )
            ends_session = True
        if ends_session and self.on_end is not None and not self.ended.is_set():
            self.on_end(self)

    async def _connected(self) -> None:
        await rtc.flush_dtls(self.pc)
        self.on_connected()

    def on_connected(self) -> None:
        """The peer connection is up (ICE and DTLS) and the far end has our last DTLS flight."""

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        self.after_remote_description()
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    def after_remote_description(self) -> None:
        """Codecs are negotiated; the connection has not started."""

    async def close(self) -> None:
        """Stop the tasks, then the peer connection. Idempotent."""
        if self.ended.is_set():
            return
        self.ended.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.pc.close()
