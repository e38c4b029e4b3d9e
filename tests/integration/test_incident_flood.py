"""The USGS Dead Run series of June 2018 replayed as a station with a linked camera, through a
real Mosquitto, the sensor ingest worker and the incident opener, with incidents opening at
warning: the storm of 3 June (a warning episode, then a danger episode an hour after it cleared)
opens one incident holding both alerts; the flood of 11 June, days later, opens a second.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ecc import times
from ecc.bus.broker import PrivateBroker
from ecc.bus.topics import Topics
from ecc.config import Settings, Site
from ecc.incidents import lifecycle
from ecc.incidents.desk import OPEN_END
from ecc.incidents.lifecycle import span
from ecc.ingest.incidents import IncidentOpener
from ecc.sensors.simulate import SimOptions, StationSimulator
from ecc.storage import Store
from ecc.storage.models import Incident
from tests.integration.test_flood_replay import DANGER, DEAD_RUN, DEADBAND, WARNING
from tests.support.ingest import RunningIngest, RunningPart, wait_for


def dead_run_site(site: Site) -> Site:
    data = site.model_dump(exclude_none=True)
    camera = next(c for c in data["cameras"] if c["id"] == "river-xiaogang")
    data["cameras"] = [{**camera, "id": "dead-run-bridge", "lat": 39.3005, "lon": -76.7005}]
    data["groups"] = []
    data["stations"] = [
        {
            "id": "dead-run",
            "name": "Dead Run at Franklintown",
            "kind": "water_level",
            "lat": 39.3,
            "lon": -76.7,
            "interval_s": 300,
            "metrics": ["water_level", "flow"],
            "cameras": ["dead-run-bridge"],
            "thresholds": {
                "water_level": {"warning": WARNING, "danger": DANGER, "deadband": DEADBAND}
            },
        }
    ]
    return Site.model_validate(data)


class Events:
    """Everything published on `<prefix>/events/incident`, as the center's bridge sees it."""

    def __init__(self, port: int, topics: Topics) -> None:
        self.seen: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.on_message = self._message
        c.on_subscribe = lambda *a: self._subscribed.set()
        c.connect("127.0.0.1", port)
        c.subscribe(topics.events("incident"), qos=1)
        c.loop_start()
        self.client = c
        assert self._subscribed.wait(10)

    def _message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.seen.append(orjson.loads(msg.payload))

    def kinds(self) -> set[tuple[str, str]]:
        with self._lock:
            return {(e["id"], e["change"]["kind"]) for e in self.seen}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.skipif(not DEAD_RUN.exists(), reason="shared/data is not beside the project")
def test_the_storm_opens_one_incident_and_the_flood_another(
    settings: Settings, site: Site, store: Store, broker: PrivateBroker
) -> None:
    site = dead_run_site(site)
    settings = settings.model_copy(update={"mqtt_url": broker.url})
    assert settings.incidents.auto_open_severity == "warning"
    events = Events(broker.port, Topics(settings.mqtt_prefix))
    opener = IncidentOpener(settings, site, store, "ecc-incidents-test")
    ingest = RunningIngest(settings, site, store).start()
    try:
        with RunningPart(opener):
            wait_for(lambda: opener.session is not None and opener.session.wait_subscribed(0.1))
            simulator = StationSimulator(
                settings, site, SimOptions(speed=0, replay=DEAD_RUN, as_station="dead-run")
            )
            asyncio.run(simulator.run())
            wait_for(lambda: store.readings.count() > 0 and _settled(store), timeout=90)
            first, second = store.incidents.list()
            announced = {(first.id, "opened"), (second.id, "opened"), (first.id, "linked")}
            wait_for(lambda: announced <= events.kinds(), what="the incident events")
    finally:
        ingest.stop()
        events.close()

    level = [a for a in store.alerts.list() if a.kind == "level"]
    assert len(level) == 3  # 3 June warning, 3 June warning -> danger, 11 June
    storm, flood = store.incidents.list()
    assert [a.alert_id for a in storm.alerts] == [level[0].id, level[1].id]
    assert [a.alert_id for a in flood.alerts] == [level[2].id]

    assert times.iso(storm.opened_at) == "2018-06-03T18:30:00Z"
    assert storm.severity == "danger" and storm.state == "open" and storm.opened_by is None
    assert storm.sources == ("station:dead-run", "camera:dead-run-bridge")
    assert storm.area.lat == 39.3 and storm.area.radius_m == settings.incidents.area_radius_m
    # The join window counts from the end of the first episode (20:20) to the second (21:20).
    assert [times.iso(a.raised_at) for a in storm.alerts] == [
        "2018-06-03T18:30:00Z",
        "2018-06-03T21:20:00Z",
    ]
    assert times.iso(flood.opened_at) == "2018-06-11T09:30:00Z"
    assert flood.severity == "danger"
    # What opened it, for pages to title it in their own language.
    assert lifecycle.title_cause(storm) == {
        "source": "station:dead-run",
        "kind": "level",
        "metric": "water_level",
        "severity": "warning",
    }

    # Its span ends with its last alert; its camera's recordings are pinned meanwhile.
    assert times.iso(_span_end(storm)) == "2018-06-03T23:55:00Z"
    [pin] = store.recordings.pins(owner=f"incident:{storm.id}")
    assert pin.source == "camera:dead-run-bridge" and pin.end == OPEN_END
    assert pin.start == storm.opened_at - settings.incidents.pre_roll_s

    # Each incident was announced as it opened, and the storm again as the second alert joined
    # it, for every center to relay to its dashboards.
    changes = [(e["id"], e["change"]["kind"]) for e in events.seen]
    assert [i for i, kind in changes if kind == "opened"] == [storm.id, flood.id]
    assert [i for i, kind in changes if kind == "linked"] == [storm.id]
    assert {i for i, _ in changes} == {storm.id, flood.id}


def _settled(store: Store) -> bool:
    """Two incidents, and every alert resolved in its incident as in the store."""
    found = store.incidents.list()
    alerts = {a.id: a for a in store.alerts.list() if a.kind == "level"}
    if len(found) != 2 or len(alerts) != 3 or any(a.state != "resolved" for a in alerts.values()):
        return False
    return all(link.state == "resolved" for i in found for link in i.alerts)


def _span_end(incident: Incident) -> float:
    return span(incident)[1]
