"""The client side of WHIP (RFC 9725): publish a peer connection's offer, take the answer.

POST the SDP offer (`application/sdp`) with a bearer token; the server answers `201 Created`
with the SDP answer and a `Location` for the session; DELETE on that Location ends it. ICE
candidates are all in the offer (no trickle), which suits a server on the same network.

The HTTP exchange is a couple of requests per push, so it uses the standard library in a
worker thread rather than another dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from aiortc import RTCPeerConnection, RTCSessionDescription

TIMEOUT_S = 15.0


class WhipError(Exception):
    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        """Seconds the server asked to wait before trying again (a 503's Retry-After)."""


@dataclass(frozen=True, slots=True)
class WhipSession:
    location: str
    token: str

    async def delete(self) -> None:
        """End the session on the server; a server already gone is not an error here."""
        with contextlib.suppress(WhipError):
            await asyncio.to_thread(_request, "DELETE", self.location, self.token, None)


async def publish(pc: RTCPeerConnection, url: str, token: str) -> WhipSession:
    """Offer `pc`'s transceivers to the WHIP endpoint `url` and apply its answer."""
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    status, headers, body = await asyncio.to_thread(_request, "POST", url, token, offer.encode())
    if status != 201:
        retry = headers.get("retry-after", "")
        raise WhipError(
            f"WHIP {url}: {status} {body[:200].decode(errors='replace')}",
            status,
            float(retry) if retry.isdigit() else None,
        )
    location = headers.get("location")
    if not location:
        raise WhipError(f"WHIP {url}: 201 without a Location", status)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
    return WhipSession(urljoin(url, location), token)


def _request(
    method: str, url: str, token: str, body: bytes | None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/sdp")
    if not url.startswith(("http://", "https://")):
        raise WhipError(f"not an http(s) URL: {url}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, _headers(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, _headers(exc.headers.items()), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise WhipError(f"{method} {url}: {exc}") from None


def _headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}
