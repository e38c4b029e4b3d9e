from __future__ import annotations

from pathlib import Path

import pytest

from ecc.config import EXAMPLE_SITE, ConfigError, load_settings, load_site

GOOD_STATION = """
[[stations]]
id = "s1"
name = "站"
kind = "water_level"
lat = 29.9
lon = 121.8
"""
MAP = """
name = "测试区"
[map]
center_lat = 29.9
center_lon = 121.8
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_site_is_a_realistic_district() -> None:
    site = load_site(EXAMPLE_SITE)
    kinds = [s.kind for s in site.stations]
    assert kinds.count("water_level") >= 6
    assert kinds.count("rain") >= 2
    assert kinds.count("air") >= 3
    assert len(site.cameras) >= 8
    assert len(site.vehicles) >= 3
    for s in site.stations:
        # Beilun district, Ningbo
        assert 29.7 < s.lat < 30.0 and 121.6 < s.lon < 122.2, s.id
        if s.kind == "water_level":
            t = s.thresholds["water_level"]
            assert t.warning is not None and t.danger is not None and t.warning < t.danger
    assert {c.kind for c in site.cameras} >= {"port", "bridge", "dam", "town"}
    assert site.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MAP + GOOD_STATION.replace('kind = "water_level"', 'kind = "lava"'),
            'stations[0] (id "s1").kind',
        ),
        (MAP + GOOD_STATION.replace("lat = 29.9", "lat = 129.9"), 'stations[0] (id "s1").lat'),
        (MAP + GOOD_STATION.replace('id = "s1"', 'id = "Bad Id"'), 'stations[0] (id "Bad Id").id'),
        (
            MAP + GOOD_STATION + "intervall_s = 5\n",
            'stations[0] (id "s1").intervall_s: unknown key',
        ),
        (MAP + GOOD_STATION + GOOD_STATION, "id 's1' is used twice"),
        (MAP + GOOD_STATION + 'cameras = ["nowhere"]\n', "no camera has id 'nowhere'"),
        (
            MAP + GOOD_STATION + "[stations.thresholds.water_level]\nwarning = 3.0\ndanger = 2.0\n",
            "danger (2.0) must be above warning (3.0)",
        ),
        (
            MAP + GOOD_STATION + "[stations.thresholds.pm25]\nwarning = 75\n",
            "the station does not report pm25",
        ),
        ('timezone = "Mars/Olympus"\n' + MAP + GOOD_STATION, "unknown time zone 'Mars/Olympus'"),
        (GOOD_STATION, "map: required key is missing"),
        (MAP + "[[stations]\nid = 1", "not valid TOML"),
    ],
)
def test_bad_site_names_file_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_site(path)
    message = str(err.value)
    assert str(path) in message
    assert expected in message


def test_missing_site_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_site(tmp_path / "nope.toml")


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECC_HTTP_PORT", "9123")
    monkeypatch.setenv("ECC_INGEST__BATCH_SIZE", "250")
    s = load_settings()
    assert s.http_port == 9123
    assert s.ingest.batch_size == 250
    assert s.database_url == "sqlite:///var/ecc.db"


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        (
            "ECC_HTTP_PORT",
            "eighty",
            "environment variable ECC_HTTP_PORT: http_port: Input should be a valid integer",
        ),
        ("ECC_HTTP_PORT", "70000", "http_port: Input should be less than or equal to 65535"),
        (
            "ECC_DATABASE_URL",
            "postgres://x",
            "database_url: Value error, must start with sqlite:///",
        ),
        ("ECC_MQTT_URL", "tcp://x:1", "mqtt_url: Value error, must look like mqtt://host:port"),
        (
            "ECC_INGEST__BATCH_SIZE",
            "0",
            "environment variable ECC_INGEST__BATCH_SIZE: ingest.batch_size",
        ),
        (
            "ECC_DATABSE_URL",
            "sqlite:///x.db",
            "environment variable ECC_DATABSE_URL: not an ECC setting",
        ),
    ],
)
def test_bad_settings_name_source_key_and_problem(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value)


def test_deployment_file_overrides_defaults_and_is_named_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "deploy.toml"
    conf.write_text("http_port = 8088\n[auth]\ntoken_ttl_s = 600\n")
    monkeypatch.setenv("ECC_CONFIG", str(conf))
    s = load_settings()
    assert (s.http_port, s.auth.token_ttl_s) == (8088, 600)
    conf.write_text("[auth]\ntoken_ttl = 600\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert f"{conf}: auth.token_ttl: unknown key" in str(err.value)
