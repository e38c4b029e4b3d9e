"""A machine-readable wall clock burned into pictures, to measure glass-to-glass latency.

One row of 48 square cells at the top left: 40 bits of the capture time in milliseconds
(Unix time modulo 2**40, about 35 years) and an 8-bit checksum, most significant bit first, a
light cell for 1. The cell size follows the picture width, so a reader that knows only the
width finds the cells. Standard library only: the RTSP test cameras run it under Debian's
Python, outside ECC's virtualenv.
"""

from __future__ import annotations

BITS = 48
VALUE_BITS = 40
LIGHT = 235  # luma of a 1 (video range)
DARK = 16


def cell_size(width: int) -> int:
    return max(4, width // 80)


def origin(width: int) -> tuple[int, int]:
    c = cell_size(width)
    return c, c


def _checksum(value: int) -> int:
    return sum(value.to_bytes(5, "big")) & 0xFF


def encode(ms: int) -> list[int]:
    """The 48 cell values (0 or 1) for a time in milliseconds."""
    value = ms % (1 << VALUE_BITS)
    word = (value << 8) | _checksum(value)
    return [(word >> (BITS - 1 - i)) & 1 for i in range(BITS)]


def decode(bits: list[int]) -> int | None:
    """The time (ms modulo 2**40) of 48 cell values, or None if the checksum fails."""
    if len(bits) != BITS:
        return None
    word = 0
    for b in bits:
        word = (word << 1) | (1 if b else 0)
    value, check = word >> 8, word & 0xFF
    return value if _checksum(value) == check else None


def unwrap(value: int, now_ms: int) -> int:
    """The full Unix time in ms of a decoded value, taking the one nearest to `now_ms`."""
    span = 1 << VALUE_BITS
    base = now_ms - now_ms % span
    candidates = (base - span + value, base + value, base + span + value)
    return min(candidates, key=lambda t: abs(t - now_ms))


def paint_luma(plane: bytearray, width: int, ms: int) -> None:
    """Draw the cells for `ms` into an 8-bit luma plane (I420's Y) of the given width."""
    c = cell_size(width)
    x0, y0 = origin(width)
    for i, bit in enumerate(encode(ms)):
        cell = bytes([LIGHT if bit else DARK]) * c
        x = x0 + i * c
        for y in range(y0, y0 + c):
            row = y * width + x
            plane[row : row + c] = cell
