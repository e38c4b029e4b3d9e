"""Time on the wire and inside ECC.

Inside ECC every instant is a float of seconds since the Unix epoch (UTC): cheap to compare,
store and bucket. On the wire instants are RFC 3339 strings in UTC, as DESIGN.md fixes.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def parse(value: str | float | int) -> float:
    """An RFC 3339 string or epoch seconds as epoch seconds; ValueError names what is wrong."""
    if isinstance(value, bool):
        raise ValueError("a time must be an RFC 3339 string or epoch seconds, not a boolean")
    if isinstance(value, int | float):
        ts = float(value)
        if not math.isfinite(ts):
            raise ValueError("a time must be a finite number of epoch seconds")
        return ts
    if not isinstance(value, str):
        raise ValueError(
            f"a time must be an RFC 3339 string or epoch seconds, not {type(value).__name__}"
        )
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 time") from None
    if dt.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (add Z or +08:00)")
    return dt.timestamp()


def iso(ts: float) -> str:
    """Epoch seconds as RFC 3339 UTC: whole seconds when whole, else milliseconds."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    if ts == int(ts):
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_or_none(ts: float | None) -> str | None:
    return None if ts is None else iso(ts)
