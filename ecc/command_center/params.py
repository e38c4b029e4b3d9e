"""Query parameters shared by several routes, checked with messages that name the parameter."""

from __future__ import annotations

import re

from fastapi import HTTPException, status

from ecc import times

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def time_param(name: str, value: str | None, default: float | None = None) -> float | None:
    """An RFC 3339 time or epoch seconds, as epoch seconds."""
    if value is None or value == "":
        return default
    try:
        return times.parse(float(value) if _is_number(value) else value)
    except ValueError as exc:
        raise unprocessable(f"{name}: {exc}") from None


def duration_param(name: str, value: str | None) -> float | None:
    """Seconds, or a number with a unit: 500ms, 30s, 5m, 1h, 1d."""
    if value is None or value == "":
        return None
    m = _DURATION.match(value)
    if not m:
        raise unprocessable(f"{name}: {value!r} is not a duration (e.g. 300, 5m, 1h)")
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds <= 0:
        raise unprocessable(f"{name}: must be more than zero")
    return seconds


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
