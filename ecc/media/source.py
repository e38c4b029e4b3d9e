"""Reading a camera: PyAV demux of rtsp://, http(s):// and files, to H.264 access units.

A `Reader` is blocking and runs in a thread of its own (never on the event loop). It gives
access units in Annex-B terms (NAL units without start codes), SPS/PPS in front of every
keyframe, timed on the 90 kHz RTP clock:

- rtsp:// over TCP (interleaved): UDP from a camera is lost at the first NAT or firewall;
- http(s):// progressive streams (MPEG-TS, FLV, MP4) and MJPEG;
- a file, looped at its own frame rate (for demos);
- a V4L2 device, `/dev/video0` or `v4l2:/dev/video0?input_format=h264&video_size=1280x720`
  (FFmpeg's v4l2 options): a USB camera's H.264 passes through, its MJPEG or raw is encoded once;
- `clock` or `clock:WIDTHxHEIGHT@FPS`: the generated demo scene.

H.264 passes through untouched apart from MP4's AVCC being rewritten to Annex-B
(`h264_mp4toannexb`). Any other codec (MJPEG, H.265) is decoded and encoded to H.264 once, here.

Sound: the first audio stream of a source is read too, and handed to `on_audio` as Opus
(ecc.media.audio) while `audio_wanted()` says someone listens; otherwise its packets are
dropped as they come, undecoded.
"""

from __future__ import annotations

import fractions
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import av
import av.audio.stream
from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from ecc.media.audio import OpusOut
from ecc.media.encoder import H264Encoder
from ecc.media.frames import VIDEO_CLOCK, AccessUnit
from ecc.media.h264 import ParameterSets, is_keyframe, parameter_sets_of, split_annexb
from ecc.media.scene import ClockScene

log = logging.getLogger(__name__)

CLOCK = re.compile(r"^clock(?::(\d+)x(\d+)@(\d+(?:\.\d+)?))?$")
RTP_BASE = fractions.Fraction(1, VIDEO_CLOCK)


class SourceError(Exception):
    """The source could not be opened or stopped delivering; the message says why."""


class Stopped(Exception):
    """The reader was asked to stop."""


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    open_timeout_s: float = 10.0
    read_timeout_s: float = 5.0
    transcode_bitrate: int = 2_000_000
    label: str = ""
    """Text drawn into generated scenes (the camera id)."""


class Reader:
    """One source, opened on `units()` and read until it fails or `stop` is set."""

    def __init__(self, url: str, options: ReaderOptions, stop: threading.Event) -> None:
        self.url = url
        self.options = options
        self.stop = stop
        self.codec: str | None = None
        self.profile_level_id: str | None = None
        self.width = 0
        self.height = 0
        self.transcoding = False
        self.audio_codec: str | None = None
        """The source's sound (its first audio stream), None when it has none."""
        self.on_audio: Callable[[bytes, int], None] | None = None
        """Opus packets (payload, samples at 48 kHz), from the reader's thread."""
        self.audio_wanted: Callable[[], bool] = lambda: False
        self._opus: OpusOut | None = None

    def units(self) -> Iterator[AccessUnit]:
        match = CLOCK.match(self.url)
        if match:
            width = int(match.group(1) or 1280)
            height = int(match.group(2) or 720)
            fps = float(match.group(3) or 25)
            yield from self._clock(width, height, fps)
            return
        device = _device(self.url)
        if device is not None:
            yield from self._device(*device)
            return
        path = _file_path(self.url)
        if path is not None:
            yield from self._file(path)
            return
        yield from self._live()

    # -- kinds of source ----------------------------------------------------------------------

    def _live(self) -> Iterator[AccessUnit]:
        options = {}
        if self.url.startswith(("rtsp://", "rtsps://")):
            options = {"rtsp_transport": "tcp", "rtsp_flags": "prefer_tcp"}
        container = self._open(self.url, options)
        try:
            yield from self._demux(container, paced=False)
        finally:
            container.close()
        raise SourceError("the stream ended")

    def _device(self, path: str, options: dict[str, str]) -> Iterator[AccessUnit]:
        container = self._open(path, options, format="v4l2")
        try:
            yield from self._demux(container, paced=False)
        finally:
            container.close()
        raise SourceError("the device stopped")

    def _file(self, path: Path) -> Iterator[AccessUnit]:
        if not path.is_file():
            raise SourceError(f"no such file: {path}")
        offset = 0
        while not self.stop.is_set():
            container = self._open(str(path), {})
            rate = container.streams.video[0].average_rate or 25
            first: int | None = None
            newest = offset
            try:
                for unit in self._demux(container, paced=True, offset=offset):
                    first = unit.pts if first is None else min(first, unit.pts)
                    newest = max(newest, unit.pts)
                    yield unit
            finally:
                container.close()
            if first is None:
                raise SourceError(f"{path}: no video frames")
            # Loop: the next pass continues the timeline one frame after this one's last.
            offset = newest + round(VIDEO_CLOCK / float(rate)) - (first - offset)
        raise Stopped

    def _clock(self, width: int, height: int, fps: float) -> Iterator[AccessUnit]:
        scene = ClockScene(width, height, self.options.label)
        encoder = H264Encoder(width, height, fps, self.options.transcode_bitrate)
        self.codec, self.width, self.height, self.transcoding = "h264", width, height, True
        self.profile_level_id = "42e01f"
        start = time.monotonic()
        n = 0
        try:
            while not self.stop.is_set():
                due = start + n / fps
                if self.stop.wait(max(0.0, due - time.monotonic())):
                    break
                pts = round(n * VIDEO_CLOCK / fps)
                yield from encoder.encode(scene.render(), pts)
                n += 1
        finally:
            encoder.close()
        raise Stopped

    # -- demux --------------------------------------------------------------------------------

    def _open(self, url: str, options: dict[str, str], format: str | None = None) -> InputContainer:
        try:
            container = av.open(
                url,
                format=format,
                options=options,
                timeout=(self.options.open_timeout_s, self.options.read_timeout_s),
            )
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open: {exc}") from None
        if not container.streams.video:
            container.close()
            raise SourceError("the source has no video stream")
        return container

    def _demux(
        self, container: InputContainer, paced: bool, offset: int = 0
    ) -> Iterator[AccessUnit]:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        self.codec = ctx.name
        self.width, self.height = ctx.width, ctx.height
        if self.codec != "h264":
            yield from self._transcode(container, stream, paced, offset)
            return
        extradata = ctx.extradata
        parameter_sets = ParameterSets(parameter_sets_of(extradata))
        self.profile_level_id = parameter_sets.profile_level_id
        # MP4/MKV/FLV keep AVCC (length-prefixed units, SPS/PPS in extradata); RTP's pack()
        # and browsers need Annex-B.
        bsf = (
            av.BitStreamFilterContext("h264_mp4toannexb", stream)
            if extradata and extradata[0] == 1
            else None
        )
        pacer = _Pacer(self.stop) if paced else None
        base = stream.time_base or fractions.Fraction(1, VIDEO_CLOCK)
        last = 0
        for packet in self._packets(container, stream):
            for out in bsf.filter(packet) if bsf is not None else (packet,):
                units = parameter_sets.complete(split_annexb(bytes(out)))
                if not units:
                    continue
                if self.profile_level_id is None:
                    self.profile_level_id = parameter_sets.profile_level_id
                # RTSP's first packet may come before the stream's clock is known (no pts):
                # it is timed as the packet before it.
                rtp = _rtp_time(out, base)
                pts = last if rtp is None else rtp + offset
                last = pts
                if pacer is not None:
                    dts = _rtp_time(out, base, decode=True)
                    pacer.wait(pts if dts is None else dts + offset)
                yield AccessUnit(units, pts, is_keyframe(units), captured=time.monotonic())

    def _transcode(
        self, container: InputContainer, stream: VideoStream, paced: bool, offset: int
    ) -> Iterator[AccessUnit]:
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise SourceError(f"{stream.codec_context.name}: picture size unknown")
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        encoder = H264Encoder(width, height, rate, self.options.transcode_bitrate)
        self.transcoding = True
        self.profile_level_id = "42e01f"
        log.info("%s: %s is transcoded to H.264 once, here", self.options.label, self.codec)
        pacer = _Pacer(self.stop) if paced else None
        base = stream.time_base or fractions.Fraction(1, VIDEO_CLOCK)
        try:
            for packet in self._packets(container, stream):
                try:
                    frames = stream.codec_context.decode(packet)
                except av.FFmpegError as exc:
                    log.debug("%s: undecodable packet: %s", self.options.label, exc)
                    continue
                for frame in frames:
                    pts = offset + (
                        int(frame.pts * base * VIDEO_CLOCK)
                        if frame.pts is not None
                        else int(time.monotonic() * VIDEO_CLOCK)
                    )
                    if pacer is not None:
                        pacer.wait(pts)
                    yield from encoder.encode(frame, pts)
        finally:
            encoder.close()

    def _packets(
        self, container: InputContainer, stream: VideoStream
    ) -> Iterator[Packet[VideoStream]]:
        audio = container.streams.audio[0] if container.streams.audio else None
        self.audio_codec = None if audio is None else audio.codec_context.name
        self._opus = None
        try:
            for packet in container.demux(stream, *([audio] if audio is not None else [])):
                if self.stop.is_set():
                    raise Stopped
                if packet.size == 0:
                    continue
                if packet.stream is audio:
                    assert audio is not None
                    self._audio(audio, packet)
                    continue
                yield cast("Packet[VideoStream]", packet)
        except av.FFmpegError as exc:
            raise SourceError(f"read failed: {exc}") from None

    def _audio(self, stream: av.audio.stream.AudioStream, packet: Packet[Any]) -> None:
        if self.on_audio is None or not self.audio_wanted():
            self._opus = None  # a listener to come starts with a fresh encoder
            return
        if self._opus is None:
            try:
                self._opus = OpusOut(stream, self.options.label)
            except (av.FFmpegError, ValueError) as exc:
                log.warning("%s: its sound cannot be sent: %s", self.options.label, exc)
                self.on_audio = None
                return
        for payload, samples in self._opus.packets(packet):
            self.on_audio(payload, samples)


class _Pacer:
    """Holds a file's frames to their own rate, as a camera would send them."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._origin: tuple[float, int] | None = None

    def wait(self, rtp_time: int) -> None:
        now = time.monotonic()
        if self._origin is None or rtp_time < self._origin[1]:
            self._origin = (now, rtp_time)
            return
        due = self._origin[0] + (rtp_time - self._origin[1]) / VIDEO_CLOCK
        if due > now and self._stop.wait(due - now):
            raise Stopped
        if now - due > 2.0:
            # Far behind (the machine was busy): start the clock again rather than burst.
            self._origin = (now, rtp_time)


def _rtp_time(
    packet: Packet[VideoStream], base: fractions.Fraction, decode: bool = False
) -> int | None:
    """A packet's time on the 90 kHz clock: presentation time (RTP carries sampling time,
    RFC 6184 5.1), or decode time for pacing; None if the packet has neither."""
    t = packet.dts if decode else packet.pts
    if t is None:
        t = packet.pts if decode else packet.dts
    return None if t is None else int(t * base * VIDEO_CLOCK)


def _device(url: str) -> tuple[str, dict[str, str]] | None:
    """The device path and FFmpeg options of a V4L2 source, or None if `url` is not one."""
    if url.startswith("/dev/video"):
        return url, {}
    if not url.startswith("v4l2:"):
        return None
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def _file_path(url: str) -> Path | None:
    if url.startswith("file://"):
        return Path(url.removeprefix("file://"))
    if "://" in url:
        return None
    return Path(url)
