"""The automatic rule and the geometry it stands on, with synthetic alerts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecc.config import EXAMPLE_SITE, load_site
from ecc.config.settings import IncidentSettings
from ecc.incidents import geo, lifecycle
from ecc.incidents.rules import AutoRule, Placed
from ecc.storage import InvalidTransition
from ecc.storage.models import Alert, AlertEvent, Area, Incident

T0 = 1_528_050_600.0  # 2018-06-03T18:30:00Z
HOUR = 3600.0
XINQI = (29.9006, 121.8473)  # station zhonghe-xinqi
DAQI = (29.8886, 121.7902)  # station lujiang-daqi, ~5.6 km west


def alert(
    n: int,
    ts: float,
    severity: str = "warning",
    station: str = "zhonghe-xinqi",
    kind: str = "level",
    state: str = "active",
    history: tuple[AlertEvent, ...] | None = None,
) -> Alert:
    return Alert(
        id=f"a{n}",
        kind=kind,
        severity=severity,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        source_type="station",
        source_id=station,
        metric="water_level",
        value=3.0,
        threshold=2.8,
        message="水位 3.00 m，达到警戒 2.80 m",
        raised_at=ts,
        updated_at=ts if history is None else history[-1].ts,
        history=history or (AlertEvent(ts, "raised", severity),),  # type: ignore[arg-type]
    )


@pytest.fixture
def rule() -> AutoRule:
    return AutoRule(IncidentSettings(), load_site(EXAMPLE_SITE))


def opened_by(rule: AutoRule, a: Alert, where: tuple[float, float] = XINQI) -> Incident:
    return rule.decide(Placed(a, where), [])


def test_which_alerts_count(rule: AutoRule) -> None:
    assert rule.counts(alert(1, T0))
    assert not rule.counts(alert(1, T0, severity="info"))
    assert not rule.counts(alert(1, T0, kind="offline"))
    # Raised at info, escalated to warning later: it counts from the escalation.
    escalated = alert(
        1,
        T0,
        severity="warning",
        history=(AlertEvent(T0, "raised", "info"), AlertEvent(T0 + HOUR, "escalated", "warning")),
    )
    assert rule.counts(escalated) and rule.reached_at(escalated) == T0 + HOUR
    never = AutoRule(IncidentSettings(auto_open_severity="never"), rule.site)
    assert not never.enabled and not never.counts(alert(1, T0, severity="critical"))
    danger_only = AutoRule(IncidentSettings(auto_open_severity="danger"), rule.site)
    assert not danger_only.counts(alert(1, T0))


def test_an_alert_opens_an_incident_around_its_station(rule: AutoRule) -> None:
    incident = opened_by(rule, alert(1, T0))
    assert incident.opened_by is None and incident.opened_at == T0
    assert incident.area == Area(*XINQI, rule.settings.area_radius_m)
    assert incident.title == "中河新碶站 · 水位 3.00 m，达到警戒 2.80 m"
    # Pages in other languages say the title from its cause, until a person retitles it.
    assert lifecycle.title_cause(incident) == {
        "source": "station:zhonghe-xinqi",
        "kind": "level",
        "metric": "water_level",
        "severity": "warning",
    }
    kept = lifecycle.edited(incident, T0 + 60, "operator", description="封路")
    assert lifecycle.title_cause(kept) is not None
    retitled = lifecycle.edited(incident, T0 + 60, "operator", title="中河新碶站一带内涝")
    assert lifecycle.title_cause(retitled) is None
    assert lifecycle.title_cause(lifecycle.opened("i", "手动", "warning", Area(), T0, "op")) is None
    # The station and its linked cameras are its sources.
    assert incident.sources == (
        "station:zhonghe-xinqi",
        "camera:town-xinqi",
        "camera:underpass-mingzhou",
    )
    assert [a.alert_id for a in incident.alerts] == ["a1"]
    assert [e.kind for e in incident.history] == ["opened", "linked"]


def test_near_and_recent_alerts_join_far_or_late_ones_open(rule: AutoRule) -> None:
    first = opened_by(rule, replace(alert(1, T0), state="resolved"))
    first = replace(first, alerts=(replace(first.alerts[0], state="resolved"),))
    # Another alert of the same station an hour after the first cleared: it joins.
    joined = rule.decide(Placed(alert(2, T0 + HOUR), XINQI), [first])
    assert joined.id == first.id and [a.alert_id for a in joined.alerts] == ["a1", "a2"]
    # Days later: a new incident.
    late = rule.decide(Placed(alert(3, T0 + 8 * 24 * HOUR), XINQI), [first])
    assert late.id != first.id
    # Far away (5.6 km, beyond join_distance_m): a new incident.
    far = rule.decide(Placed(alert(4, T0 + HOUR, station="lujiang-daqi"), DAQI), [first])
    assert far.id != first.id
    # A closed incident is not joined.
    closed = lifecycle.moved(first, "closed", T0 + 2 * HOUR, "operator")
    assert rule.decide(Placed(alert(5, T0 + 2 * HOUR), XINQI), [closed]).id != first.id


def test_an_open_alert_keeps_the_incident_joinable(rule: AutoRule) -> None:
    ongoing = opened_by(rule, alert(1, T0))
    much_later = rule.decide(Placed(alert(2, T0 + 24 * HOUR), XINQI), [ongoing])
    assert much_later.id == ongoing.id


def test_a_joining_source_outside_the_circle_widens_it(rule: AutoRule) -> None:
    settings = IncidentSettings(join_distance_m=10_000)
    wide = AutoRule(settings, rule.site)
    first = opened_by(wide, alert(1, T0))
    joined = wide.decide(Placed(alert(2, T0 + 60, station="lujiang-daqi"), DAQI), [first])
    assert joined.id == first.id
    assert geo.inside(joined.area, *DAQI)
    assert "station:lujiang-daqi" in joined.sources and "camera:town-daqi" in joined.sources
    assert joined.severity == "warning"
    worse = wide.decide(Placed(alert(3, T0 + 120, severity="danger"), XINQI), [joined])
    assert worse.severity == "danger"


def test_the_nearest_incident_is_joined(rule: AutoRule) -> None:
    a = opened_by(rule, alert(1, T0), where=(29.9100, 121.8473))  # ~1 km north
    b = opened_by(rule, alert(2, T0), where=XINQI)
    joined = rule.decide(Placed(alert(3, T0 + 60), (29.9000, 121.8473)), [a, b])
    assert joined.id == b.id


def test_geometry() -> None:
    # 0.01 degree of latitude is about 1112 m.
    assert geo.distance_m(29.90, 121.80, 29.91, 121.80) == pytest.approx(1112, rel=0.01)
    square = Area(polygon=((29.90, 121.80), (29.90, 121.82), (29.92, 121.82), (29.92, 121.80)))
    assert geo.inside(square, 29.91, 121.81)
    assert not geo.inside(square, 29.93, 121.81)
    assert geo.distance_to(square, 29.93, 121.81) == pytest.approx(1112, rel=0.01)
    circle = Area(29.90, 121.80, 500)
    assert geo.inside(circle, 29.903, 121.80) and not geo.inside(circle, 29.91, 121.80)
    assert geo.distance_to(circle, 29.91, 121.80) == pytest.approx(612, rel=0.02)
    both = replace(square, lat=29.90, lon=121.70, radius_m=300)
    assert geo.inside(both, 29.90, 121.7001) and geo.inside(both, 29.91, 121.81)
    assert geo.distance_to(Area(), 29.9, 121.8) == float("inf")
    assert geo.grown(circle, 29.91, 121.80, 100).radius_m == pytest.approx(1212, rel=0.01)
    assert geo.grown(square, 29.95, 121.80, 100) == square


def test_task_and_state_transitions(rule: AutoRule) -> None:
    i = opened_by(rule, alert(1, T0))
    i = lifecycle.dispatched(i, "t1", "cmd-1", T0 + 10, "operator", "")
    with pytest.raises(InvalidTransition):
        lifecycle.ended(i, "t1", "done", T0 + 11, "operator")  # not arrived yet
    # Arrived before the crew acknowledged: the acknowledgement is still recorded.
    i = lifecycle.arrived(i, "t1", T0 + 20, *XINQI)
    i = lifecycle.acknowledged(i, "t1", T0 + 30, "crew")
    assert i.tasks[0].state == "arrived" and i.tasks[0].acknowledged_by == "crew"
    with pytest.raises(InvalidTransition):
        lifecycle.acknowledged(i, "t1", T0 + 31, "crew")
    with pytest.raises(InvalidTransition):
        lifecycle.arrived(i, "t1", T0 + 32, *XINQI)
    i = lifecycle.moved(i, "monitoring", T0 + 40, "operator")
    with pytest.raises(InvalidTransition):
        lifecycle.moved(i, "monitoring", T0 + 41, "operator")
    i = lifecycle.moved(i, "closed", T0 + 50, "operator")
    assert i.closed_at == T0 + 50 and i.tasks[0].state == "done"
    assert lifecycle.span(i) == (T0, T0 + 50)
    with pytest.raises(InvalidTransition):
        lifecycle.dispatched(i, "t2", "cmd-2", T0 + 60, "operator", "")
    i = lifecycle.moved(i, "open", T0 + 70, "operator")
    assert i.closed_at is None and lifecycle.span(i) == (T0, T0 + 70)
