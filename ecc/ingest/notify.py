"""Alert notifications: each alert change POSTed to the webhooks that want it, once.

Once, with several processes: every `ecc ingest sensors` runs a notifier, and they share the
MQTT shared subscription `$share/ecc-notify/<prefix>/alerts`, so the broker gives each change
(whoever published it: an ingest worker, or a center for an acknowledgement) to one of them.
That notifier acknowledges it only when every webhook that wants it has been delivered to or
given up on, with every attempt recorded in the store (`deliveries`), so a notifier that dies
mid-way leaves the change with the broker, which hands it to another (or to the same one when
it is back). Before each attempt the store is asked whether the delivery already succeeded, and
the attempt count carries on from the store's; the one gap left, a process killed between a
2xx answer and the record of it, is closed on the receiving side by the `Idempotency-Key`
header, which is the same for every attempt at the same delivery.

Retries: on a connection error, a timeout, 408, 429 or 5xx, after `first_retry_s` doubling up
to `max_retry_s`, with jitter, at most `max_attempts` attempts; another 4xx is final.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import orjson

from ecc import __version__
from ecc.bus.topics import Topics
from ecc.config import Settings
from ecc.config.notify import Webhook
from ecc.ingest.sensors import broker_address
from ecc.ingest.session import DurableSession, Inbox, Message, SessionConfig
from ecc.storage import Store
from ecc.storage.models import Delivery

log = logging.getLogger(__name__)

SHARE_GROUP = "ecc-notify"
RETRY_STATUSES = frozenset({408, 429})
MAX_CONCURRENT_POSTS = 4


@dataclass(frozen=True, slots=True)
class Change:
    """One alert change as it came over the bus."""

    alert: dict[str, Any]
    event: str
    number: int
    """Position of the change in the alert's history: with the alert id, names the change."""

    @property
    def alert_id(self) -> str:
        return str(self.alert["id"])

    @property
    def severity(self) -> str:
        return str(self.alert.get("severity"))

    def key(self, webhook: Webhook) -> str:
        return f"{self.alert_id}:{self.number}:{webhook.name}"


def parse_change(payload: bytes) -> Change:
    """ValueError if the payload is not an alert as `wire.alert_to_wire` writes it."""
    try:
        alert = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(alert, dict) or not isinstance(alert.get("id"), str):
        raise ValueError("not an alert object")
    history = alert.get("history")
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        return Change(alert, str(history[-1].get("event")), len(history))
    # Without its history (a foreign publisher), the state says what happened.
    event = {"resolved": "resolved", "acknowledged": "acknowledged"}.get(
        str(alert.get("state")), "raised"
    )
    return Change(alert, event, 0)


def wants(webhook: Webhook, change: Change) -> bool:
    return change.event in webhook.events and change.severity in webhook.severities


def body(webhook: Webhook, change: Change) -> bytes:
    if webhook.format == "json":
        return orjson.dumps({"event": change.event, "alert": change.alert})
    a = change.alert
    source = a.get("source") or {}
    text = (
        f"【ECC {a.get('severity')}】{source.get('id', '')} {a.get('kind')}"
        f"{' ' + a['metric'] if a.get('metric') else ''}: {a.get('message', '')}"
        f" ({change.event}, {a.get('raised_at')})"
    )
    # WeCom and DingTalk group robots take the same text message shape.
    return orjson.dumps({"msgtype": "text", "text": {"content": text}})


def post(webhook: Webhook, data: bytes, key: str) -> tuple[int | None, str | None]:
    """(HTTP status, error); blocking, for a worker thread."""
    request = urllib.request.Request(
        str(webhook.url),
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"ecc/{__version__}",
            "Idempotency-Key": key,
            **webhook.headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=webhook.timeout_s) as response:
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"


class Notifier:
    """Delivers alert changes to webhooks; a supervised part of `ecc ingest sensors`."""

    name = "notify"

    def __init__(self, settings: Settings, store: Store, client_id: str) -> None:
        self.settings = settings
        self.store = store
        self.client_id = client_id
        self._posts = asyncio.Semaphore(MAX_CONCURRENT_POSTS)
        self.session: DurableSession | None = None

    async def run(self) -> None:
        cfg = self.settings.notify
        topics = Topics(self.settings.mqtt_prefix)
        inbox = Inbox(cfg.max_pending)
        session = DurableSession(
            SessionConfig(
                address=broker_address(self.settings),
                client_id=self.client_id,
                subscriptions=[f"$share/{SHARE_GROUP}/{topics.alerts}"],
                session_expiry_s=self.settings.ingest.session_expiry_s,
            ),
            inbox,
        )
        self.session = session
        session.start()
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        def finished(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]

        try:
            while not failures:
                batch = await asyncio.to_thread(inbox.take, 100, 0.0, 1.0)
                for m in batch:
                    task = asyncio.create_task(self._change(session, m), name=f"notify-{m.mid}")
                    tasks.add(task)
                    task.add_done_callback(finished)
            # A store error: stop, so that the supervisor restarts the notifier and the broker
            # hands the unacknowledged changes out again.
            raise failures[0]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(session.stop)

    async def _change(self, session: DurableSession, m: Message) -> None:
        try:
            change = parse_change(m.payload)
        except ValueError as exc:
            log.warning("ignoring a message on %s: %s", m.topic, exc)
        else:
            hooks = [w for w in self.settings.notify.webhooks if wants(w, change)]
            try:
                await asyncio.gather(*(self._deliver(w, change) for w in hooks))
            except Exception:
                # Not acknowledged: the change stays with the broker for a later try.
                log.exception("delivering alert %s failed; it stays queued", change.alert_id)
                session.inbox.done(1)
                raise
        session.ack([m])
        session.inbox.done(1)

    async def _deliver(self, webhook: Webhook, change: Change) -> None:
        cfg = self.settings.notify
        key = change.key(webhook)
        previous = await asyncio.to_thread(self.store.deliveries.attempts, key)
        if any(a.ok for a in previous):
            return
        n = len(previous)
        data = body(webhook, change)
        while n < cfg.max_attempts:
            if n > 0:
                wait = min(cfg.first_retry_s * 2 ** (n - 1), cfg.max_retry_s)
                await asyncio.sleep(random.uniform(wait / 2, wait))
            n += 1
            started = time.monotonic()
            async with self._posts:
                status, error = await asyncio.to_thread(post, webhook, data, key)
            ok = status is not None and 200 <= status < 300
            await asyncio.to_thread(
                self.store.deliveries.add,
                Delivery(
                    key=key,
                    webhook=webhook.name,
                    alert_id=change.alert_id,
                    event=change.event,
                    severity=change.severity,
                    attempt=n,
                    ts=time.time(),
                    ok=ok,
                    status=status,
                    error=error,
                    duration_ms=(time.monotonic() - started) * 1000,
                ),
            )
            if ok:
                return
            final = status is not None and 400 <= status < 500 and status not in RETRY_STATUSES
            log.warning(
                "webhook %s, alert %s (%s), attempt %d: %s%s",
                webhook.name,
                change.alert_id,
                change.event,
                n,
                error,
                "; not retried" if final else "",
            )
            if final:
                return
        log.error("webhook %s: gave up on alert %s after %d attempts", webhook.name, key, n)


def notifier_parts(settings: Settings, store: Store, client_id: str) -> list[Notifier]:
    """The notifier when webhooks are configured; none otherwise, so that no session of the
    notify group collects alert changes that nobody would ever deliver."""
    if not settings.notify.webhooks:
        return []
    return [Notifier(settings, store, f"{client_id}-notify")]
