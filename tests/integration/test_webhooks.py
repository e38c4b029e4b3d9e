"""Alert changes POSTed to webhooks: retried with backoff, every attempt recorded, and each
change delivered once even with several notifiers on the shared subscription."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from ecc.bus.alerter import Alerter, Condition
from ecc.bus.broker import PrivateBroker
from ecc.bus.client import BrokerAddress
from ecc.config import Settings
from ecc.config.notify import Webhook
from ecc.config.settings import NotifySettings
from ecc.ingest.notify import Notifier
from ecc.ingest.session import DurableSession, Inbox, SessionConfig
from ecc.storage import Store
from ecc.storage.models import Severity
from tests.support.ingest import RunningPart, wait_for


class Hook:
    """A webhook receiver: refuses the first `fail` requests of each key with 503."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                with hook.lock:
                    seen = sum(1 for r in hook.requests if r["key"] == key)
                    hook.requests.append({"key": key, "body": json.loads(body), "path": self.path})
                self.send_response(503 if seen < hook.fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="test-webhook")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook(fail=2) as h:
        yield h


def notify_settings(settings: Settings, broker: PrivateBroker, hook: Hook) -> Settings:
    webhooks = [
        Webhook.model_validate(
            {"name": "duty-sms", "url": f"{hook.url}/sms", "severities": ["danger", "critical"]}
        ),
        Webhook.model_validate({"name": "chat", "url": f"{hook.url}/chat", "format": "wecom"}),
    ]
    notify = NotifySettings(webhooks=webhooks, first_retry_s=0.05)
    return settings.model_copy(update={"mqtt_url": broker.url, "notify": notify})


def publisher(broker: PrivateBroker) -> DurableSession:
    session = DurableSession(
        SessionConfig(BrokerAddress.parse(broker.url), "ecc-test-alerts", []), Inbox(10)
    )
    session.start()
    assert session.wait_connected(10)
    return session


def test_retried_recorded_and_delivered_once_by_two_notifiers(
    settings: Settings, broker: PrivateBroker, store: Store, hook: Hook
) -> None:
    settings = notify_settings(settings, broker, hook)
    bus = publisher(broker)
    alerter = Alerter(store, bus.publish, "ecc/v1/alerts")
    with (
        RunningPart(Notifier(settings, store, "ecc-notify-a")) as a,
        RunningPart(Notifier(settings, store, "ecc-notify-b")) as b,
    ):
        wait_for(
            lambda: all(p.part.session is not None and p.part.session.connected for p in (a, b))
        )
        t0 = time.time() - 600
        changes = []
        for i, station in enumerate(["lujiang-daqi", "zhonghe-xinqi", "dapu-chaiqiao"]):
            severities: list[Severity | None] = ["warning", "danger", None]
            for n, severity in enumerate(severities):
                c = Condition("level", "station", station, "water_level", severity, t0 + i * 60 + n)
                changes.append(alerter.apply(c))
        # warning: chat only; danger: both; resolved (at danger): both. 3 stations.
        wanted = 3 * (1 + 2 + 2)
        wait_for(lambda: len({r["key"] for r in hook.requests}) == wanted, timeout=30)
        wait_for(lambda: sum(1 for d in store.deliveries.list() if d.ok) == wanted, timeout=30)
    bus.stop()
    assert a.error is None and b.error is None
    attempts = store.deliveries.list(limit=10_000)
    by_key: dict[str, list[Any]] = {}
    for d in attempts:
        by_key.setdefault(d.key, []).append(d)
    assert len(by_key) == wanted
    for key, tries in by_key.items():
        # Two refusals (503), then one success; never a second success.
        assert [(t.attempt, t.ok, t.status) for t in tries] == [
            (1, False, 503),
            (2, False, 503),
            (3, True, 200),
        ], key
        assert tries[0].error == "HTTP 503 Service Unavailable"
        assert tries[1].ts - tries[0].ts >= 0.025  # a backoff in between
    assert len(hook.requests) == 3 * wanted
    first = changes[0]
    assert first is not None
    sms = [r for r in hook.requests if r["path"] == "/sms"]
    assert {r["body"]["event"] for r in sms} == {"escalated", "resolved"}
    assert all(r["body"]["alert"]["severity"] == "danger" for r in sms)
    # Two notifiers deliver at once, so the chat messages come in any order: the first
    # station's is among them, as text naming it.
    chats = [r["body"] for r in hook.requests if r["path"] == "/chat"]
    assert all(c["msgtype"] == "text" for c in chats)
    assert any("lujiang-daqi" in c["text"]["content"] for c in chats)
    assert orjson.dumps(first.id).decode().strip('"') in {r["key"].split(":")[0] for r in sms}
