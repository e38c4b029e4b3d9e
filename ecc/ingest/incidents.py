"""The automatic incident rule as a worker: each alert change, once, into an incident.

Once, however many processes run it: every `ecc ingest sensors` (and `ecc run`) runs an opener,
and they share the MQTT shared subscription `$share/ecc-incidents/<prefix>/alerts`, so the
broker hands each alert change (whoever published it: a sensor or camera worker, or a center
acknowledging) to one of them, on a persistent session with manual acknowledgement, as the
webhook notifier does (ecc.ingest.notify). A change is acknowledged only once the incident holds
it; an opener that dies before leaves it with the broker, which hands it to another (or to the
same one when it is back). A change handled twice changes nothing more: the desk reads the alert
from the store, and an alert is linked to one incident at most (the store's rule). Two alerts
handled at once by two openers cannot open two incidents where one should hold both: the
store serializes the rule's open-or-join step (IncidentRepo.open_or_join).

Here rather than in the center: the center's MQTT client subscribes on every node (each relays
every event to its own clients) and keeps no session, so a change would be handled once per
node, or not at all while the center restarts; the ingest workers already hold durable shared
sessions on the bus, and run wherever alerts are raised.
"""

from __future__ import annotations

import asyncio
import logging

import orjson

from ecc.bus.topics import Topics
from ecc.config import Settings, Site
from ecc.incidents import Desk
from ecc.ingest.sensors import broker_address
from ecc.ingest.session import DurableSession, Inbox, Message, SessionConfig
from ecc.storage import Store

log = logging.getLogger(__name__)

SHARE_GROUP = "ecc-incidents"
MAX_PENDING = 1000


def alert_id_of(payload: bytes) -> str:
    """ValueError if the payload is not an alert as `wire.alert_to_wire` writes it."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ValueError("not an alert object")
    return str(data["id"])


class IncidentOpener:
    """Alert changes into incidents; a supervised part of `ecc ingest sensors`."""

    name = "incidents"

    def __init__(self, settings: Settings, site: Site, store: Store, client_id: str) -> None:
        self.settings = settings
        self.site = site
        self.store = store
        self.client_id = client_id
        self.session: DurableSession | None = None
        self.handled = 0

    async def run(self) -> None:
        topics = Topics(self.settings.mqtt_prefix)
        inbox = Inbox(MAX_PENDING)
        session = DurableSession(
            SessionConfig(
                address=broker_address(self.settings),
                client_id=self.client_id,
                subscriptions=[f"$share/{SHARE_GROUP}/{topics.alerts}"],
                session_expiry_s=self.settings.ingest.session_expiry_s,
            ),
            inbox,
        )
        desk = Desk(
            self.settings.incidents,
            self.site,
            self.store,
            topics,
            lambda topic, payload: session.publish(topic, payload, qos=1),
        )
        self.session = session
        session.start()
        try:
            while True:
                batch = await asyncio.to_thread(inbox.take, 100, 0.0, 1.0)
                # One at a time and in order: the changes of one alert arrive in order from
                # its publisher, and the rule's join window reads them as they happened.
                for m in batch:
                    await self._handle(desk, session, m)
        finally:
            await asyncio.to_thread(session.stop)

    async def _handle(self, desk: Desk, session: DurableSession, m: Message) -> None:
        try:
            alert_id = alert_id_of(m.payload)
        except ValueError as exc:
            log.warning("ignoring a message on %s: %s", m.topic, exc)
        else:
            try:
                await asyncio.to_thread(desk.alert_changed, alert_id)
            except BaseException:
                # Not acknowledged: the broker hands it out again once the supervisor restarts
                # this part.
                log.exception("alert %s could not be put into an incident", alert_id)
                session.inbox.done(1)
                raise
        self.handled += 1
        session.ack([m])
        session.inbox.done(1)


def incident_parts(
    settings: Settings, site: Site, store: Store, client_id: str
) -> list[IncidentOpener]:
    """The opener, even with the automatic rule off (`auto_open_severity = "never"`): it also
    keeps the alerts that operators linked by hand current in their incidents."""
    return [IncidentOpener(settings, site, store, f"{client_id}-incidents")]
