"""Turns a condition ("this source is at danger", "this source is fine") into alert changes.

Rules (sensor thresholds, camera health) say what the condition is now; the Alerter keeps one
open alert per (source, kind, metric): it raises, escalates, de-escalates or resolves it, stores
the change and publishes it on the bus. Applying the same condition twice changes nothing, so a
replayed or redelivered reading cannot raise a second alert.

Blocking (it writes the store): call it from a worker thread, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from ecc.bus.wire import alert_to_wire
from ecc.storage import Conflict, InvalidTransition, Store
from ecc.storage.models import Alert, NewAlert, Severity, SourceType

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], None]


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str
    source_type: SourceType
    source_id: str
    metric: str | None
    severity: Severity | None
    """None: the condition is clear."""
    ts: float
    """Data time of the reading (or observation) that shows the condition."""
    value: float | None = None
    threshold: float | None = None
    message: str = ""
    require_ack: bool = False


class Alerter:
    def __init__(self, store: Store, publish: Publish, topic: str) -> None:
        self._store = store
        self._publish = publish
        self._topic = topic

    def apply(self, c: Condition) -> Alert | None:
        """Store and announce what changed; returns the changed alert, or None if nothing did."""
        current = self._store.alerts.find_open(c.source_type, c.source_id, c.kind, c.metric)
        changed: Alert | None
        if c.severity is None:
            changed = self._clear(current, c)
        elif current is None:
            changed = self._raise(c)
        elif current.severity != c.severity:
            changed = self._store.alerts.escalate(
                current.id, c.severity, c.value, c.threshold, c.message, c.ts
            )
        else:
            changed = None
        if changed is not None:
            self.announce(changed)
        return changed

    def announce(self, alert: Alert) -> None:
        self._publish(self._topic, orjson.dumps(alert_to_wire(alert)))

    def _raise(self, c: Condition) -> Alert | None:
        assert c.severity is not None
        new = NewAlert(
            kind=c.kind,
            severity=c.severity,
            source_type=c.source_type,
            source_id=c.source_id,
            metric=c.metric,
            value=c.value,
            threshold=c.threshold,
            message=c.message,
            raised_at=c.ts,
            require_ack=c.require_ack,
        )
        try:
            return self._store.alerts.insert(new)
        except Conflict:
            # Another worker opened it between our look and our insert: escalate theirs.
            current = self._store.alerts.find_open(c.source_type, c.source_id, c.kind, c.metric)
            if current is None or current.severity == c.severity:
                return None
            return self._store.alerts.escalate(
                current.id, c.severity, c.value, c.threshold, c.message, c.ts
            )

    def _clear(self, current: Alert | None, c: Condition) -> Alert | None:
        if current is None:
            return None
        if current.require_ack and current.state == "active":
            # Stays in front of the operators until acknowledged, even though it has cleared.
            return None
        try:
            return self._store.alerts.resolve(current.id, c.ts, value=c.value)
        except InvalidTransition:
            return None
