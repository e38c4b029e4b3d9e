"""Access to recordings from URLs that carry no Authorization header, and playback's figures.

hls.js fetches a playlist's segments itself, a download link is followed by the browser, and a
native HLS player (Safari, VLC, ffplay) can be handed only a URL: none of them sends our bearer
token. So the playlist's segment URLs, and the playlist and clip links the dashboard makes,
carry `?token=`: a media token, signed like every ECC token but under a key of its own (derived
from the installation's secret), naming one user and one source, and short-lived
(`recording.playback_token_ttl_s`). It opens that source's recordings and nothing else: under
the bearer key it does not verify, so it is no session, and a leaked URL shows one source for
a few hours at most. Each request under it still checks that the user exists, is enabled and
may read recordings, so disabling a user stops their playback at the next segment.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ecc.command_center.deps import Principal, Require, bearer, unauthorized
from ecc.command_center.permissions import allowed
from ecc.media.encoder import encoders_created
from ecc.media.recordings import Recordings
from ecc.storage import Store
from ecc.tokens import TokenError, Tokens

PERMISSION = "recordings.read"
_ROLE_PREFIX = "recordings:"


class MediaTokens:
    def __init__(self, secret: bytes, ttl_s: float) -> None:
        key = hmac.new(secret, b"ecc media tokens v1", hashlib.sha256).digest()
        self._tokens = Tokens(key, ttl_s)

    def issue(self, username: str, source: str) -> tuple[str, float]:
        """A token for `username` to read `source`'s recordings; (token, expiry)."""
        token, claims = self._tokens.issue(username, _ROLE_PREFIX + source)
        return token, claims.exp

    def verify(self, token: str, source: str) -> str:
        """The user a token was issued to; TokenError unless it is for `source`, unexpired."""
        claims = self._tokens.verify(token)
        if claims.role != _ROLE_PREFIX + source:
            raise TokenError("the token is for another source")
        return claims.sub


def source_of(request: Request) -> str:
    """`camera:{id}` or `vehicle:{id}` from a recordings route's path."""
    params = request.path_params
    if "camera_id" in params:
        return f"camera:{params['camera_id']}"
    if "vehicle_id" in params:
        return f"vehicle:{params['vehicle_id']}"
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail="not a recordings route")


class MediaAccess(Require):
    """`recordings.read` by a bearer token, or by a media token of this source in `?token=`."""

    def __init__(self) -> None:
        super().__init__(PERMISSION)

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        token: Annotated[
            str | None,
            Query(description="a media token (from GET .../recordings) instead of a bearer"),
        ] = None,
    ) -> Principal:
        if credentials is not None or token is None:
            return super().__call__(request, credentials)
        tokens: MediaTokens = request.app.state.media_tokens
        try:
            username = tokens.verify(token, source_of(request))
        except TokenError as exc:
            raise unauthorized(str(exc)) from None
        store: Store = request.app.state.store
        user = store.users.get(username)
        if user is None or user.disabled:
            raise unauthorized("the token's user no longer exists or is disabled")
        principal = Principal(user.username, user.role, user.language, user.timezone)
        request.state.principal = principal
        if not allowed(user.role, self.permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"role {user.role} may not {self.permission}"
            )
        return principal


def media_access() -> object:
    """`_: Annotated[Principal, media_access()]` in a recordings route's signature."""
    return Depends(MediaAccess())


@dataclass
class PlaybackCounts:
    """What playback served: every byte of it was read from the segments, none made anew."""

    playlists: int = 0
    segments_served: int = 0
    clips: int = 0
    clip_frames_copied: int = 0
    clip_bytes: int = 0
    seconds_planning: float = 0.0


class PlaybackCollector(Collector):
    """Recording and playback figures at scrape time: the index (shared by every process: what
    is kept, what retention deleted) and this center's playback and vehicle recorders."""

    def __init__(self, store: Store, counts: PlaybackCounts, recordings: Recordings | None) -> None:
        self._store = store
        self._counts = counts
        self._recordings = recordings

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        # The hub's collector says how many decoders aiortc made (ecc_video_decoders).
        kept_bytes = GaugeMetricFamily(
            "ecc_recording_bytes", "bytes of recordings kept, by source", labels=["source"]
        )
        kept = GaugeMetricFamily(
            "ecc_recording_segments", "recorded segments kept, by source", labels=["source"]
        )
        for source, (n, size) in sorted(self._store.recordings.usage().items()):
            kept.add_metric([source], n)
            kept_bytes.add_metric([source], size)
        yield kept
        yield kept_bytes
        deleted = CounterMetricFamily(
            "ecc_recording_deleted_segments",
            "segments deleted by retention (age, disk_cap, min_free) or found missing",
            labels=["reason"],
        )
        deleted_bytes = CounterMetricFamily(
            "ecc_recording_deleted_bytes", "bytes of the deleted segments", labels=["reason"]
        )
        for d in self._store.recordings.deletions():
            deleted.add_metric([d.reason], d.segments)
            deleted_bytes.add_metric([d.reason], d.bytes)
        yield deleted
        yield deleted_bytes
        c = self._counts
        yield CounterMetricFamily(
            "ecc_playback_playlists", "HLS playlists answered", value=c.playlists
        )
        yield CounterMetricFamily(
            "ecc_playback_segment_requests",
            "segment requests answered (init sections and fragments, HTTP ranges)",
            value=c.segments_served,
        )
        yield CounterMetricFamily("ecc_playback_clips", "clip.mp4 exports", value=c.clips)
        yield CounterMetricFamily(
            "ecc_playback_clip_frames_copied",
            "frames copied into clips as recorded (remuxed, never decoded or encoded)",
            value=c.clip_frames_copied,
        )
        yield CounterMetricFamily(
            "ecc_playback_clip_bytes", "bytes of clips sent", value=c.clip_bytes
        )
        yield GaugeMetricFamily(
            "ecc_video_encoders",
            "H.264 encoders this process has made (0 in a center: nothing is encoded)",
            value=encoders_created(),
        )
        if self._recordings is None:
            return
        recorded = self._recordings.counts()
        for name, field, help_text in _RECORDER_FIGURES:
            family = CounterMetricFamily(name, help_text, labels=["source"])
            for source, figures in sorted(recorded.items()):
                family.add_metric([source], getattr(figures, field))
            yield family


_RECORDER_FIGURES = (
    ("ecc_recorder_frames", "frames", "access units this center's recorders received"),
    ("ecc_recorder_segments", "segments", "segment files written whole and indexed"),
    ("ecc_recorder_bytes", "bytes", "bytes of fragments written"),
    ("ecc_recorder_dropped_frames", "dropped_frames", "frames not recorded (see the recorder)"),
    ("ecc_recorder_write_errors", "write_errors", "failed writes (a full disk...)"),
)
