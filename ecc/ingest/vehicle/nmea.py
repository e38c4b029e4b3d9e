"""NMEA 0183 sentences from GPS receivers: what the vehicle agent reads of them.

RMC gives time, date, position, speed and course; GGA the fix quality and HDOP; GST the error
ellipse, when the receiver sends it. A fix is assembled per epoch (one UTC time): RMC alone is
enough, GGA and GST refine its accuracy. Talker ids (GP, GN, GL, BD, GA) are all accepted: a
multi-constellation receiver in China speaks GN or BD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

KNOT = 0.514444  # m/s
# Without GST, horizontal accuracy is estimated as HDOP times a typical user range error; it is
# an estimate, as phones' and browsers' own accuracy figures are.
UERE_M = 5.0


@dataclass(frozen=True, slots=True)
class Fix:
    ts: float
    lat: float
    lon: float
    speed: float | None = None
    """m/s"""
    heading: float | None = None
    """degrees clockwise from true north"""
    accuracy: float | None = None
    """metres"""


def checksum_ok(sentence: str) -> bool:
    body, star, given = sentence.strip().lstrip("$!").partition("*")
    if not star:
        return False
    value = 0
    for ch in body:
        value ^= ord(ch)
    try:
        return value == int(given[:2], 16)
    except ValueError:
        return False


def with_checksum(body: str) -> str:
    """`$BODY*CS`: a sentence with its checksum (for writing test tracks and simulators)."""
    value = 0
    for ch in body:
        value ^= ord(ch)
    return f"${body}*{value:02X}"


def _angle(value: str, hemisphere: str) -> float | None:
    """ddmm.mmmm (latitude) or dddmm.mmmm (longitude) with N/S/E/W, as degrees."""
    if not value or hemisphere not in ("N", "S", "E", "W"):
        return None
    try:
        head, _, _ = value.partition(".")
        degrees = int(head[:-2] or "0")
        minutes = float(value[len(head) - 2 :])
    except ValueError:
        return None
    out = degrees + minutes / 60
    return -out if hemisphere in ("S", "W") else out


def _time(value: str) -> time | None:
    try:
        hh, mm, ss = int(value[0:2]), int(value[2:4]), float(value[4:])
    except (ValueError, IndexError):
        return None
    if not (0 <= hh < 24 and 0 <= mm < 60 and 0 <= ss < 61):
        return None
    whole = int(ss)
    return time(hh, mm, min(whole, 59), round((ss - whole) * 1e6) % 1_000_000, tzinfo=UTC)


def _date(value: str) -> date | None:
    try:
        dd, mm, yy = int(value[0:2]), int(value[2:4]), int(value[4:6])
        return date(2000 + yy if yy < 80 else 1900 + yy, mm, dd)
    except (ValueError, IndexError):
        return None


def _number(value: str) -> float | None:
    try:
        out = float(value)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


class Assembler:
    """Sentences in, fixes out: one fix per epoch with a valid RMC, refined by GGA and GST of
    the same epoch when they come before the next epoch begins."""

    def __init__(self) -> None:
        self._day: date | None = None
        self._epoch: str | None = None
        self._fix: Fix | None = None
        self._hdop: float | None = None
        self._gst: float | None = None

    def feed(self, sentence: str) -> list[Fix]:
        """The fixes completed by this sentence (the previous epoch's, when a new one starts)."""
        if not checksum_ok(sentence):
            return []
        fields = sentence.strip().lstrip("$!").partition("*")[0].split(",")
        kind = fields[0][-3:]
        if kind not in ("RMC", "GGA", "GST") or len(fields) < 2:
            return []
        epoch = fields[1]
        out: list[Fix] = []
        if epoch != self._epoch:
            out += self.flush()
            self._epoch = epoch
        if kind == "RMC":
            self._rmc(fields)
        elif kind == "GGA" and len(fields) > 8:
            quality = fields[6]
            self._hdop = _number(fields[8]) if quality not in ("", "0") else None
        elif kind == "GST" and len(fields) > 7:
            lat_err, lon_err = _number(fields[6]), _number(fields[7])
            if lat_err is not None and lon_err is not None:
                self._gst = math.hypot(lat_err, lon_err)
        return out

    def flush(self) -> list[Fix]:
        """The fix of the epoch in hand, if it has one (at the end of the input)."""
        fix, self._fix = self._fix, None
        hdop, gst = self._hdop, self._gst
        self._hdop = self._gst = None
        if fix is None:
            return []
        accuracy = gst if gst is not None else (None if hdop is None else hdop * UERE_M)
        return [replace(fix, accuracy=None if accuracy is None else round(accuracy, 1))]

    def _rmc(self, f: list[str]) -> None:
        # $xxRMC,time,status,lat,N/S,lon,E/W,knots,course,date,...
        if len(f) < 10 or f[2] != "A":
            return
        day = _date(f[9]) or self._day
        at = _time(f[1])
        lat, lon = _angle(f[3], f[4]), _angle(f[5], f[6])
        if day is None or at is None or lat is None or lon is None:
            return
        self._day = day
        knots, course = _number(f[7]), _number(f[8])
        self._fix = Fix(
            ts=datetime.combine(day, at).timestamp(),
            lat=round(lat, 7),
            lon=round(lon, 7),
            speed=None if knots is None else round(knots * KNOT, 2),
            heading=None if course is None else course % 360,
        )


def rmc(fix: Fix) -> str:
    """An RMC sentence for a fix (test tracks, simulators)."""
    at = datetime.fromtimestamp(fix.ts, UTC)

    def angle(value: float, width: int, pos: str, neg: str) -> tuple[str, str]:
        deg = int(abs(value))
        minutes = (abs(value) - deg) * 60
        return f"{deg:0{width}d}{minutes:07.4f}", pos if value >= 0 else neg

    lat, ns = angle(fix.lat, 2, "N", "S")
    lon, ew = angle(fix.lon, 3, "E", "W")
    knots = "" if fix.speed is None else f"{fix.speed / KNOT:.2f}"
    course = "" if fix.heading is None else f"{fix.heading:.1f}"
    stamp = at.strftime("%H%M%S.") + f"{at.microsecond // 10000:02d}"
    return with_checksum(
        f"GPRMC,{stamp},A,{lat},{ns},{lon},{ew},{knots},{course},{at.strftime('%d%m%y')},,,A"
    )
