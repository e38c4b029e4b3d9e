"""The USGS Dead Run flood of June 2018, replayed through `ecc simulate stations --replay` into
the ingest worker: the alerts are raised, escalated and resolved at the times the series implies.
"""

from __future__ import annotations

import asyncio

import pytest

from ecc.bus.broker import PrivateBroker
from ecc.config import Settings, Site
from ecc.sensors.series import load
from ecc.sensors.simulate import SimOptions, StationSimulator
from ecc.storage import Store
from ecc.storage.models import SEVERITY_RANK
from tests.support.data import HYDROLOGY
from tests.support.ingest import RunningIngest, wait_for

DEAD_RUN = HYDROLOGY / "DeadRun_01589330_2018-06_5min.csv"
WARNING, DANGER, DEADBAND = 1.0, 1.5, 0.05


def dead_run_site(site: Site) -> Site:
    data = site.model_dump(exclude_none=True)
    data["stations"] = [
        {
            "id": "dead-run",
            "name": "Dead Run at Franklintown",
            "kind": "water_level",
            "lat": 39.3,
            "lon": -76.7,
            "interval_s": 300,
            "metrics": ["water_level", "flow"],
            "thresholds": {
                "water_level": {"warning": WARNING, "danger": DANGER, "deadband": DEADBAND}
            },
        }
    ]
    for key in ("cameras", "groups"):
        data[key] = []
    return Site.model_validate(data)


def expected_changes(series: list[tuple[float, float]]) -> list[tuple[float, str | None]]:
    """(time, severity) of every change the levels imply, with hysteresis, from the data."""
    levels = (("danger", DANGER), ("warning", WARNING))
    current: str | None = None
    changes = []
    for ts, level in series:
        rank = -1 if current is None else SEVERITY_RANK[current]
        new = None
        for name, threshold in levels:
            holds = rank >= SEVERITY_RANK[name] and level >= threshold - DEADBAND
            if level >= threshold or holds:
                new = name
                break
        if new != current:
            changes.append((ts, new))
            current = new
    return changes


@pytest.mark.skipif(not DEAD_RUN.exists(), reason="shared/data is not beside the project")
def test_dead_run_flood_alerts_at_the_data_times(
    settings: Settings, site: Site, store: Store, broker: PrivateBroker
) -> None:
    site = dead_run_site(site)
    settings = settings.model_copy(update={"mqtt_url": broker.url})
    samples = load(DEAD_RUN)
    series = [(s.ts, s.values["water_level"]) for s in samples if "water_level" in s.values]
    changes = expected_changes(series)
    # The two floods: each raised at warning, escalated to danger, back, resolved.
    assert [c[1] for c in changes].count("danger") == 2
    ingest = RunningIngest(settings, site, store).start()
    try:
        simulator = StationSimulator(
            settings, site, SimOptions(speed=0, replay=DEAD_RUN, as_station="dead-run")
        )
        asyncio.run(simulator.run())
        wait_for(lambda: store.readings.count() == len(samples), timeout=60, what="the series")
        last = series[-1][0]
        wait_for(
            lambda: store.readings.latest("dead-run")[0].ts == last and ingest.worker is not None
        )
    finally:
        ingest.stop()
    alerts = [a for a in store.alerts.list() if a.kind == "level"]
    got: list[tuple[float, str | None]] = []
    for a in alerts:
        for e in a.history:
            got.append((e.ts, None if e.event == "resolved" else e.severity))
    assert got == changes
    assert all(a.state == "resolved" for a in alerts)
    # An alert opens at each change from clear, and closes at the next change to clear.
    opened = [ts for i, (ts, _) in enumerate(changes) if i == 0 or changes[i - 1][1] is None]
    closed = [ts for ts, sev in changes if sev is None]
    assert [a.raised_at for a in alerts] == opened
    assert [a.resolved_at for a in alerts] == closed
    assert store.readings.range("dead-run", "flow", 0, last)[-1].value == pytest.approx(
        samples[-1].values["flow"]
    )
