"""The HTTP API over real HTTP, against a real SQLite file."""

from __future__ import annotations

import time

import httpx

from ecc import times
from ecc.storage.models import DeadLetter, NewAlert, Reading
from tests.support.center import PASSWORD, RunningCenter


def test_login_gives_an_expiring_token(center: RunningCenter) -> None:
    r = httpx.post(
        f"{center.url}/api/auth/login", json={"username": "operator", "password": PASSWORD}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["role"] == "operator"
    assert times.parse(body["expires_at"]) > time.time() + 3600
    me = httpx.get(f"{center.url}/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["username"] == "operator"
    assert "alerts.manage" in me.json()["permissions"]
    assert "users.manage" not in me.json()["permissions"]


def test_wrong_password_and_unknown_user_look_alike(center: RunningCenter) -> None:
    bad = httpx.post(
        f"{center.url}/api/auth/login", json={"username": "operator", "password": "nope"}
    )
    unknown = httpx.post(
        f"{center.url}/api/auth/login", json={"username": "ghost", "password": "nope"}
    )
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json() == {"detail": "wrong username or password"}
    entries = center.store.audit.list(action="auth.login_failed")
    assert [e.username for e in entries] == ["operator", "ghost"]
    assert all(e.address == "127.0.0.1" for e in entries)


def test_failed_logins_are_rate_limited_per_user(center: RunningCenter) -> None:
    url = f"{center.url}/api/auth/login"
    limit = center.settings.auth.login_max_failures
    codes = [
        httpx.post(url, json={"username": "leader", "password": "x"}).status_code
        for _ in range(limit + 2)
    ]
    assert codes[:limit] == [401] * limit
    assert codes[limit:] == [429, 429]
    # Even the right password is refused while locked: the lock is what stops guessing.
    locked = httpx.post(url, json={"username": "leader", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers


def test_bad_and_expired_tokens_say_why(center: RunningCenter) -> None:
    url = f"{center.url}/api/stations"
    assert httpx.get(url).json()["detail"].startswith("missing bearer token")
    r = httpx.get(url, headers={"Authorization": "Bearer v1.abc.def"})
    assert r.status_code == 401 and "signature" in r.json()["detail"]
    expired, _ = center.app.state.tokens.issue("admin", "admin", ttl_s=-5)
    r = httpx.get(url, headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["detail"] == "token expired"


def test_disabled_user_is_locked_out_at_once(center: RunningCenter) -> None:
    token = center.token("crew")
    assert center.post("/api/users", json={}).status_code == 422
    r = httpx.patch(
        f"{center.url}/api/users/crew",
        json={"disabled": True},
        headers={"Authorization": f"Bearer {center.token('admin')}"},
    )
    assert r.status_code == 200 and r.json()["disabled"] is True
    r = httpx.get(f"{center.url}/api/stations", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "disabled" in r.json()["detail"]


def test_stations_with_latest_values_and_worst_alert(center: RunningCenter) -> None:
    now = time.time()
    center.store.readings.insert(
        [
            Reading("zhonghe-xinqi", now - 600, {"water_level": 2.4}),
            Reading("zhonghe-xinqi", now - 300, {"water_level": 2.7}),
        ]
    )
    center.store.alerts.insert(
        NewAlert(
            "level",
            "warning",
            "station",
            "zhonghe-xinqi",
            "water_level",
            2.7,
            2.5,
            "above warning",
            now - 300,
        )
    )
    stations = center.get("/api/stations", "leader").json()
    by_id = {s["id"]: s for s in stations}
    assert len(stations) == len(center.site.stations)
    s = by_id["zhonghe-xinqi"]
    assert s["latest"]["water_level"]["value"] == 2.7
    assert s["alert_severity"] == "warning"
    assert s["online"] is True
    assert s["thresholds"]["water_level"]["danger"] == 3.0
    assert by_id["lujiang-daqi"]["online"] is None
    assert center.get("/api/stations/nowhere").status_code == 404


def test_readings_range_and_downsampling(center: RunningCenter) -> None:
    base = 1_780_000_000.0
    center.store.readings.insert(
        [Reading("lujiang-daqi", base + i * 60, {"water_level": 2.0 + i / 100}) for i in range(120)]
    )
    r = center.get(
        "/api/stations/lujiang-daqi/readings",
        params={"start": times.iso(base), "end": times.iso(base + 3600 * 2)},
    )
    points = r.json()
    assert len(points) == 120
    assert points[0] == {"ts": times.iso(base), "value": 2.0}
    assert points[-1]["ts"] > points[0]["ts"]
    r = center.get(
        "/api/stations/lujiang-daqi/readings",
        params={"start": base, "end": base + 7200, "step": "1h"},
    )
    buckets = r.json()
    assert sum(b["count"] for b in buckets) == 120
    assert all(b["min"] <= b["avg"] <= b["max"] for b in buckets)
    limited = center.get(
        "/api/stations/lujiang-daqi/readings",
        params={"start": base, "end": base + 7200, "limit": 5},
    )
    assert [p["value"] for p in limited.json()] == [2.0 + i / 100 for i in range(115, 120)]


def test_readings_bad_parameters_name_the_parameter(center: RunningCenter) -> None:
    path = "/api/stations/lujiang-daqi/readings"
    cases = {
        "start=yesterday": "start: 'yesterday' is not an RFC 3339 time",
        "step=fast": "step: 'fast' is not a duration (e.g. 300, 5m, 1h)",
        "metric=pm25": "metric: station lujiang-daqi reports water_level, not 'pm25'",
        "start=2000&end=1000": "start: must not be after end",
    }
    for query, detail in cases.items():
        r = center.get(f"{path}?{query}")
        assert r.status_code == 422, query
        assert r.json()["detail"] == detail
    r = center.get("/api/stations/air-xinqi/readings")
    assert r.status_code == 422 and "metric: required" in r.json()["detail"]


def test_alert_lifecycle_through_the_api_is_audited(center: RunningCenter) -> None:
    alert = center.store.alerts.insert(
        NewAlert(
            "level",
            "danger",
            "station",
            "lujiang-daqi",
            "water_level",
            3.1,
            3.0,
            "above danger",
            time.time(),
        )
    )
    listed = center.get("/api/alerts", "crew", params={"state": "active"}).json()
    assert [a["id"] for a in listed] == [alert.id]
    assert listed[0]["source"] == {"type": "station", "id": "lujiang-daqi"}
    assert center.post(f"/api/alerts/{alert.id}/ack", "crew").status_code == 403
    r = center.post(f"/api/alerts/{alert.id}/ack", "operator", json={"note": "crew sent"})
    assert r.status_code == 200
    assert r.json()["state"] == "acknowledged" and r.json()["acknowledged_by"] == "operator"
    assert center.post(f"/api/alerts/{alert.id}/ack", "operator").status_code == 409
    r = center.post(f"/api/alerts/{alert.id}/resolve", "operator")
    assert r.json()["state"] == "resolved"
    assert [e["event"] for e in r.json()["history"]] == ["raised", "acknowledged", "resolved"]
    assert center.post("/api/alerts/nope/ack", "operator").status_code == 404
    actions = [(e.username, e.action, e.status) for e in center.store.audit.list()]
    assert ("operator", "POST /api/alerts/{alert_id}/ack", 200) in actions
    assert ("operator", "POST /api/alerts/{alert_id}/resolve", 200) in actions
    assert ("crew", "POST /api/alerts/{alert_id}/ack", 403) in actions


def test_dead_letters_for_admins_with_raw_payload(center: RunningCenter) -> None:
    center.store.dead_letters.add(
        [DeadLetter("ecc/v1/stations/x/readings", "unknown station: x", b"\xff{bad", time.time())]
    )
    assert center.get("/api/dead-letters", "operator").status_code == 403
    rows = center.get("/api/dead-letters").json()
    assert rows[0]["reason"] == "unknown station: x"
    assert rows[0]["payload"] is None and rows[0]["payload_base64"] == "/3tiYWQ="


def test_users_admin_and_profile(center: RunningCenter) -> None:
    r = center.post(
        "/api/users", json={"username": "wang.li", "password": "longenough", "role": "leader"}
    )
    assert r.status_code == 201
    assert (
        center.post(
            "/api/users", json={"username": "wang.li", "password": "longenough", "role": "leader"}
        ).status_code
        == 409
    )
    r = center.post("/api/users", json={"username": "x", "password": "short", "role": "leader"})
    assert r.status_code == 422
    with center.client("leader") as c:
        assert (
            c.patch("/api/me", json={"language": "en", "timezone": "Europe/London"}).status_code
            == 200
        )
        assert c.patch("/api/me", json={"timezone": "Nowhere/City"}).status_code == 422
    assert center.store.users.get("leader").language == "en"  # type: ignore[union-attr]


def test_healthz_and_metrics(center: RunningCenter) -> None:
    health = httpx.get(f"{center.url}/healthz").json()
    assert health["store"] == {"ok": True, "backend": "sqlite"}
    assert httpx.get(f"{center.url}/metrics").status_code == 401
    center.store.dead_letters.add([DeadLetter("t", "bad json: x", b"{", time.time())])
    httpx.get(f"{center.url}/api/stations/xx")
    text = center.get("/metrics").text
    assert 'ecc_dead_letters{reason="bad json"} 1.0' in text
    assert 'ecc_http_rejected_total{route="/api/stations/{station_id}",status="401"}' in text
