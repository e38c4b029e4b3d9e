from __future__ import annotations

import pytest

from ecc import times


def test_parse_rfc3339_and_epoch() -> None:
    assert times.parse("2026-07-12T08:05:00Z") == 1783843500.0
    assert times.parse("2026-07-12T16:05:00+08:00") == 1783843500.0
    assert times.parse(1783843500) == 1783843500.0
    assert times.iso(1783843500.0) == "2026-07-12T08:05:00Z"
    assert times.iso(1783843500.25) == "2026-07-12T08:05:00.250Z"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "not an RFC 3339 time"),
        ("2026-07-12T08:05:00", "no UTC offset"),
        (True, "not a boolean"),
        (float("nan"), "finite"),
        (None, "not NoneType"),
    ],
)
def test_parse_rejects_with_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        times.parse(value)  # type: ignore[arg-type]
