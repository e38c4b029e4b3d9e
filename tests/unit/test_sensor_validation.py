"""Station payloads: what is a reading, and the reason given for what is not."""

from __future__ import annotations

from typing import get_args

import orjson
import pytest

from ecc.bus.topics import Topics
from ecc.config import Site
from ecc.config.site import Metric
from ecc.sensors.metrics import METRICS
from ecc.sensors.validation import Limits, Rejected, Validator

NOW = 1_783_843_500.0
TOPIC = "ecc/v1/stations/lujiang-daqi/readings"


@pytest.fixture
def validator(site: Site) -> Validator:
    return Validator(site, Topics(), Limits(max_payload_bytes=16 * 1024, max_future_s=300))


def test_registry_and_config_literal_agree() -> None:
    assert set(METRICS) == set(get_args(Metric))
    for name, spec in METRICS.items():
        assert spec.name == name
        assert spec.low < spec.high


def test_a_valid_reading(validator: Validator) -> None:
    payload = orjson.dumps(
        {"ts": "2026-07-12T08:05:00Z", "values": {"water_level": 3}, "seq": 7, "battery": 12.4}
    )
    r = validator.reading(TOPIC, payload, NOW)
    assert r.station_id == "lujiang-daqi"
    assert r.ts == 1_783_843_500.0
    assert r.values == {"water_level": 3.0} and type(r.values["water_level"]) is float
    assert r.battery == 12.4
    # Epoch seconds and an offset other than Z are the same instant.
    same = validator.reading(TOPIC, b'{"ts": 1783843500, "values": {"water_level": 3}}', NOW)
    assert same.ts == r.ts
    east = b'{"ts": "2026-07-12T16:05:00+08:00", "values": {"water_level": 3}}'
    assert validator.reading(TOPIC, east, NOW).ts == r.ts


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TOPIC, b"{not json", "bad json: "),
        (TOPIC, b"\xff\xfe", "bad json: "),
        (TOPIC, b"[1, 2]", "bad payload: expected a JSON object, got an array"),
        (TOPIC, b'{"values": {"water_level": 1}}', "bad ts: missing"),
        (TOPIC, b'{"ts": true, "values": {"water_level": 1}}', "bad ts: expected"),
        (TOPIC, b'{"ts": "yesterday", "values": {"water_level": 1}}', "bad ts: "),
        (TOPIC, b'{"ts": "2026-07-12T08:05:00", "values": {"water_level": 1}}', "bad ts: "),
        (TOPIC, b'{"ts": 1783844000, "values": {"water_level": 1}}', "future: ts "),
        (TOPIC, b'{"ts": 1783843500}', "bad payload: values missing"),
        (TOPIC, b'{"ts": 1783843500, "values": {}}', "bad payload: values is empty"),
        (TOPIC, b'{"ts": 1783843500, "values": [1]}', "bad payload: values must be an object"),
        (TOPIC, b'{"ts": 1783843500, "values": {"ph": 7}}', "unknown metric: 'ph' is not"),
        (TOPIC, b'{"ts": 1783843500, "values": {"pm25": 7}}', "unknown metric: station"),
        (TOPIC, b'{"ts": 1783843500, "values": {"water_level": "3"}}', "bad payload: water_level"),
        (TOPIC, b'{"ts": 1783843500, "values": {"water_level": true}}', "bad payload: water_level"),
        (TOPIC, b'{"ts": 1783843500, "values": {"water_level": null}}', "bad payload: water_level"),
        (TOPIC, b'{"ts": 1783843500, "values": {"water_level": 150}}', "out of range: water_level"),
        (TOPIC, b'{"ts": 1783843500, "values": {"water_level": -11}}', "out of range: "),
        (
            TOPIC,
            b'{"ts": 1783843500, "values": {"water_level": 1}, "battery": 500}',
            "out of range",
        ),
        (TOPIC, b'{"ts": 1783843500, "values": {"water_level": 1}, "seq": -1}', "bad payload: seq"),
        ("ecc/v1/stations/atlantis/readings", b"{}", "unknown station: 'atlantis'"),
        ("ecc/v1/elsewhere", b"{}", "bad topic: "),
        (TOPIC, b" " * (16 * 1024 + 1), "too large: 16385 bytes, at most 16384"),
    ],
)
def test_rejections_say_why(validator: Validator, topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as err:
        validator.reading(topic, payload, NOW)
    assert err.value.reason.startswith(reason), err.value.reason
    category = err.value.reason.split(":", 1)[0]
    assert category == err.value.category
    assert len(err.value.reason) > len(category) + 3


def test_out_of_range_names_value_unit_and_range(validator: Validator) -> None:
    with pytest.raises(Rejected) as err:
        validator.reading(TOPIC, b'{"ts": 1783843500, "values": {"water_level": 150}}', NOW)
    assert err.value.reason == "out of range: water_level 150 m outside -10..100 m"


def test_future_limit_is_the_configured_one(site: Site) -> None:
    strict = Validator(site, Topics(), Limits(max_future_s=10))
    ok = b'{"ts": 1783843509, "values": {"water_level": 1}}'
    assert strict.reading(TOPIC, ok, NOW).ts == 1783843509
    with pytest.raises(Rejected, match="at most 10 s"):
        strict.reading(TOPIC, b'{"ts": 1783843511, "values": {"water_level": 1}}', NOW)


def test_a_prefix_of_the_deployment(site: Site) -> None:
    v = Validator(site, Topics("city/ecc"))
    r = v.reading(
        "city/ecc/stations/lujiang-daqi/readings", b'{"ts": 1, "values": {"water_level": 1}}', NOW
    )
    assert r.station_id == "lujiang-daqi"
    with pytest.raises(Rejected, match="bad topic"):
        v.reading(TOPIC, b'{"ts": 1, "values": {"water_level": 1}}', NOW)
