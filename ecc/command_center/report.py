"""The HTML report of an incident's export: one file with no script and no outside resource, so
that it opens the same anywhere, offline, years later: the summary, the map as an inline SVG of
the site's base layer with the area, the sources and the vehicles' tracks, each linked station's
readings as inline SVG charts with their alert levels and the incident's marks, the timeline
with who did what, and links to the clips beside it in the zip.

Written in the language of whoever exports it (zh-CN or en), times in the site's time zone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from ecc import times
from ecc.command_center.export import Gathered
from ecc.config import Camera, Site, Station, Vehicle
from ecc.incidents import geo, lifecycle
from ecc.incidents.timeline import Entry
from ecc.sensors.metrics import METRICS
from ecc.storage.models import Area, Incident, Point, Position

STRINGS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "report": "事件报告",
        "summary": "概况",
        "state": "状态",
        "severity": "级别",
        "opened": "开始",
        "closed": "结束",
        "window": "回放范围",
        "origin": "来源",
        "origin.auto": "告警自动生成",
        "origin.manual": "人工创建（{by}）",
        "area": "区域",
        "area.circle": "圆心 {lat}, {lon}，半径 {radius} m",
        "area.polygon": "多边形，{n} 个顶点",
        "area.none": "未设定",
        "sources": "关联对象",
        "alerts": "关联告警",
        "tasks": "派遣",
        "description": "说明",
        "map": "地图",
        "readings": "监测数据",
        "no_readings": "该时段无数据",
        "timeline": "时间线",
        "time": "时间",
        "event": "事件",
        "by": "操作人",
        "detail": "内容",
        "clips": "录像",
        "no_clips": "没有录像",
        "missing": "缺少录像：{source}（{reason}）",
        "reason.no_recordings": "该时段没有录像",
        "generated": "生成于 {time}（{tz}）",
        "ecc": "系统",
        "state.open": "处置中",
        "state.monitoring": "监视中",
        "state.closed": "已结束",
        "severity.info": "提示",
        "severity.warning": "警戒",
        "severity.danger": "危险",
        "severity.critical": "紧急",
        "task.dispatched": "已派遣",
        "task.acknowledged": "已确认",
        "task.arrived": "已到达",
        "task.done": "已完成",
        "task.cancelled": "已取消",
        "kind.incident.opened": "事件开始",
        "kind.incident.linked": "关联告警",
        "kind.incident.unlinked": "取消关联告警",
        "kind.incident.edited": "修改事件",
        "kind.incident.state": "状态变更",
        "kind.incident.source_added": "添加关联对象",
        "kind.incident.source_removed": "移除关联对象",
        "kind.note": "记录",
        "alertkind.level": "超过阈值",
        "alertkind.rise": "涨速过快",
        "alertkind.rainstorm": "暴雨",
        "alertkind.air_quality": "空气污染",
        "alertkind.offline": "离线",
        "alertkind.intrusion": "区域入侵",
        "alertkind.motion_rate": "画面活动异常",
        "kind.task.dispatched": "派遣车辆",
        "kind.task.acknowledged": "车组确认",
        "kind.task.arrived": "车辆到达",
        "kind.task.done": "任务完成",
        "kind.task.cancelled": "任务取消",
        "kind.alert.raised": "告警产生",
        "kind.alert.escalated": "告警升级",
        "kind.alert.deescalated": "告警降级",
        "kind.alert.acknowledged": "告警确认",
        "kind.alert.resolved": "告警解除",
        "legend.area": "事件区域",
        "legend.station": "监测站",
        "legend.camera": "摄像机",
        "legend.track": "车辆轨迹",
        "frames": "{n} 帧",
    },
    "en": {
        "report": "Incident report",
        "summary": "Summary",
        "state": "State",
        "severity": "Severity",
        "opened": "Opened",
        "closed": "Closed",
        "window": "Review window",
        "origin": "Origin",
        "origin.auto": "opened by an alert",
        "origin.manual": "opened by {by}",
        "area": "Area",
        "area.circle": "centre {lat}, {lon}, radius {radius} m",
        "area.polygon": "polygon of {n} vertices",
        "area.none": "not set",
        "sources": "Sources",
        "alerts": "Linked alerts",
        "tasks": "Dispatches",
        "description": "Description",
        "map": "Map",
        "readings": "Readings",
        "no_readings": "No readings in the window",
        "timeline": "Timeline",
        "time": "Time",
        "event": "Event",
        "by": "By",
        "detail": "Detail",
        "clips": "Recordings",
        "no_clips": "No recordings",
        "missing": "No recording of {source} ({reason})",
        "reason.no_recordings": "nothing is recorded in the window",
        "generated": "Generated {time} ({tz})",
        "ecc": "ECC",
        "state.open": "Open",
        "state.monitoring": "Monitoring",
        "state.closed": "Closed",
        "severity.info": "Info",
        "severity.warning": "Warning",
        "severity.danger": "Danger",
        "severity.critical": "Critical",
        "task.dispatched": "dispatched",
        "task.acknowledged": "acknowledged",
        "task.arrived": "arrived",
        "task.done": "done",
        "task.cancelled": "cancelled",
        "kind.incident.opened": "Incident opened",
        "kind.incident.linked": "Alert linked",
        "kind.incident.unlinked": "Alert unlinked",
        "kind.incident.edited": "Incident edited",
        "kind.incident.state": "State changed",
        "kind.incident.source_added": "Source added",
        "kind.incident.source_removed": "Source removed",
        "kind.note": "Note",
        "alertkind.level": "threshold crossed",
        "alertkind.rise": "rising fast",
        "alertkind.rainstorm": "Rainstorm",
        "alertkind.air_quality": "Air pollution",
        "alertkind.offline": "Offline",
        "alertkind.intrusion": "Intrusion",
        "alertkind.motion_rate": "Unusual motion",
        "kind.task.dispatched": "Vehicle dispatched",
        "kind.task.acknowledged": "Crew acknowledged",
        "kind.task.arrived": "Vehicle arrived",
        "kind.task.done": "Task done",
        "kind.task.cancelled": "Task cancelled",
        "kind.alert.raised": "Alert raised",
        "kind.alert.escalated": "Alert escalated",
        "kind.alert.deescalated": "Alert eased",
        "kind.alert.acknowledged": "Alert acknowledged",
        "kind.alert.resolved": "Alert resolved",
        "legend.area": "Incident area",
        "legend.station": "Station",
        "legend.camera": "Camera",
        "legend.track": "Vehicle track",
        "frames": "{n} frames",
    },
}

SEVERITY_COLOUR = {
    "info": "#3a7bd5",
    "warning": "#d4a017",
    "danger": "#e06c1a",
    "critical": "#c62828",
}
TRACK_COLOURS = ("#1565c0", "#6a1b9a", "#00897b", "#ad1457", "#5d4037")
DECISIONS = {"note", "task.dispatched", "task.acknowledged", "task.arrived", "incident.state"}

CSS = """
body{font:14px/1.5 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;
color:#1b2733;background:#fff}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccd6e0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dt{color:#5a6b7c}
dd{margin:0}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e9ef;vertical-align:top}
th{background:#f2f5f8}.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff}
.muted{color:#5a6b7c}figure{margin:12px 0}figcaption{font-weight:600}
svg{max-width:100%;height:auto;border:1px solid #e3e9ef;background:#fbfcfd}
.legend span{margin-right:16px}.swatch{display:inline-block;width:12px;height:12px;
vertical-align:middle;margin-right:4px}
"""


class Text:
    def __init__(self, language: str) -> None:
        self.strings = STRINGS["en" if language == "en" else "zh-CN"]
        self.language = "en" if language == "en" else "zh-CN"

    def __call__(self, key: str, **params: Any) -> str:
        text = self.strings.get(key, key)
        return text.format(**params) if params else text


class Clock:
    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self.name = timezone

    def full(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def short(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.zone).strftime("%H:%M")

    def day(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.zone).strftime("%m-%d")

    def tick(self, ts: float, span: float, first: bool) -> str:
        """An axis label: seconds on a short axis, the date on the first and on long ones."""
        at = datetime.fromtimestamp(ts, self.zone)
        text = at.strftime("%H:%M:%S" if span < 600 else "%H:%M")
        return f"{at.strftime('%m-%d')} {text}" if first or span > 2 * 86400 else text


def render(g: Gathered, site: Site, language: str) -> str:
    t = Text(language)
    clock = Clock(site.timezone)
    i = g.incident
    colour = SEVERITY_COLOUR[i.severity]
    sev = f'<span class="sev" style="background:{colour}">{t("severity." + i.severity)}</span>'
    title = incident_title(i, site, t)
    site_name = site.name_en if t.language == "en" and site.name_en else site.name
    generated = t("generated", time=clock.full(times.now()), tz=clock.name)
    parts = [
        "<!doctype html>",
        f'<html lang="{t.language}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(t('report'))} · {escape(title)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f'<header><p class="muted">{escape(site_name)} · {escape(t("report"))}</p>',
        f"<h1>{escape(title)}</h1>",
        f"<p>{sev} {escape(t('state.' + i.state))}</p></header>",
        _summary(g, site, t, clock),
        _section("map", t("map"), map_svg(g, site, t)),
        _section("charts", t("readings"), _charts(g, site, t, clock)),
        _section("timeline", t("timeline"), _timeline(g.timeline, site, t, clock)),
        _section("clips", t("clips"), _clips(g, site, t, clock)),
        f'<footer><p class="muted">{escape(generated)}</p></footer>',
        "</main></body></html>",
    ]
    return "\n".join(parts)


def incident_title(i: Incident, site: Site, t: Text) -> str:
    """The title as given; in English, one opened by an alert and never retitled is said from
    its cause (its stored title is in the site's language), as the dashboard does."""
    return _said(i.title, lifecycle.title_cause(i), site, t)


def _said(title: str, cause: dict[str, Any] | None, site: Site, t: Text) -> str:
    if t.language != "en" or cause is None:
        return title
    kind, metric = str(cause.get("kind")), cause.get("metric")
    what = t(f"alertkind.{kind}") if f"alertkind.{kind}" in t.strings else kind
    spec = METRICS.get(metric) if isinstance(metric, str) else None
    if spec is not None and kind in ("level", "rise"):
        what = f"{spec.label[:1].upper()}{spec.label[1:]}: {what}"
    # Without the severity: the incident's own (shown beside it) may have grown since.
    return f"{source_name(site, str(cause.get('source')), t)} · {what}"


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{body}</section>'


def _text(x: float, y: float, label: str, anchor: str = "start", fill: str = "#5a6b7c") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="{anchor}" fill="{fill}">'
        f"{escape(label)}</text>"
    )


def _svg(width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img">'
    )


def _swatch(colour: str, label: str) -> str:
    return f'<span><span class="swatch" style="background:{colour}"></span>{escape(label)}</span>'


# -- summary, timeline, clips ---------------------------------------------------------------


def source_name(site: Site, source: str, t: Text) -> str:
    """A station's, camera's or vehicle's name in the report's language (its id if unknown)."""
    kind, _, ident = source.partition(":")
    found: Station | Camera | Vehicle | None = None
    if kind == "station":
        found = site.station(ident)
    elif kind == "camera":
        found = site.camera(ident)
    elif kind == "vehicle":
        found = site.vehicle(ident)
    if found is None:
        return source
    return found.name_en if t.language == "en" and found.name_en else found.name


def _summary(g: Gathered, site: Site, t: Text, clock: Clock) -> str:
    i = g.incident
    rows: list[tuple[str, str]] = [
        (t("severity"), t("severity." + i.severity)),
        (t("state"), t("state." + i.state)),
        (t("opened"), clock.full(i.opened_at)),
    ]
    if i.closed_at is not None:
        rows.append((t("closed"), clock.full(i.closed_at)))
    rows.append((t("window"), f"{clock.full(g.window[0])} – {clock.full(g.window[1])}"))
    origin = t("origin.auto") if i.opened_by is None else t("origin.manual", by=i.opened_by)
    rows.append((t("origin"), origin))
    rows.append((t("area"), _area_text(i.area, t)))
    rows.append((t("sources"), ", ".join(source_name(site, s, t) for s in i.sources) or "—"))
    rows.append((t("alerts"), str(len(i.alerts))))
    tasks = [f"{task.vehicle_id} ({t('task.' + task.state)})" for task in i.tasks]
    rows.append((t("tasks"), ", ".join(tasks) or "—"))
    if i.description:
        rows.append((t("description"), i.description))
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<section id="summary"><h2>{escape(t("summary"))}</h2><dl>{body}</dl></section>'


def _area_text(area: Area, t: Text) -> str:
    out = []
    if geo.has_circle(area):
        out.append(
            t(
                "area.circle",
                lat=f"{area.lat:.5f}",
                lon=f"{area.lon:.5f}",
                radius=f"{area.radius_m:.0f}",
            )
        )
    if area.polygon:
        out.append(t("area.polygon", n=len(area.polygon)))
    return "; ".join(out) or t("area.none")


def describe(e: Entry, site: Site, t: Text) -> str:
    """One line on what an entry says, beyond its kind."""
    d = e.detail
    if e.kind.startswith("alert.") and str(d.get("source", "")).startswith("camera:"):
        # A camera's alert (an intrusion): its zone by name and the kind, no measured value.
        source = str(d["source"])
        kind = str(d.get("alert_kind"))
        said = t(f"alertkind.{kind}") if f"alertkind.{kind}" in t.strings else kind
        camera = site.camera(source.split(":", 1)[1])
        zone = str(d.get("metric") or "")
        if camera is not None and camera.motion is not None:
            names = {z.id: z.name for z in camera.motion.effective_zones()}
            zone = names.get(zone) or zone
        sev = t("severity." + str(d.get("severity"))) if d.get("severity") else ""
        parts = [source_name(site, source, t), f"{zone} · {said}" if zone else said, sev]
        if d.get("note"):
            parts.append(str(d["note"]))
        return " · ".join(p for p in parts if p)
    if e.kind.startswith("alert."):
        metric = d.get("metric")
        spec = METRICS.get(metric) if isinstance(metric, str) else None
        what = (
            (spec.label if t.language == "en" else spec.label_zh) if spec else d.get("alert_kind")
        )
        value = d.get("value")
        shown = (
            f" {value:g}{(' ' + spec.unit) if spec and spec.unit else ''}"
            if isinstance(value, float | int)
            else ""
        )
        sev = t("severity." + str(d.get("severity"))) if d.get("severity") else ""
        note = f" · {d['note']}" if d.get("note") else ""
        where = source_name(site, str(d.get("source", "")), t)
        return f"{where} · {what}{shown} · {sev}{note}"
    if e.kind == "incident.state":
        note = f" · {d['note']}" if d.get("note") else ""
        return f"{t('state.' + str(d.get('from')))} → {t('state.' + str(d.get('to')))}{note}"
    if e.kind == "incident.linked":
        sev = t("severity." + str(d.get("severity")))
        where = source_name(site, str(d.get("source", "")), t)
        # The alert's message is in the site's language: an English report leaves it out.
        message = d.get("message") if t.language != "en" else None
        return f"{where} · {sev}{' · ' + message if message else ''}"
    if e.kind.startswith("task."):
        name = source_name(site, f"vehicle:{d.get('vehicle_id')}", t)
        extra = d.get("instructions") or ""
        return f"{name}{' · ' + extra if extra else ''}"
    if e.kind == "note":
        return str(d.get("text", ""))
    if e.kind == "incident.opened":
        cause = d.get("cause")
        return _said(str(d.get("title", "")), cause if isinstance(cause, dict) else None, site, t)
    if e.kind in ("incident.source_added", "incident.source_removed"):
        return source_name(site, str(d.get("source", "")), t)
    if e.kind == "incident.edited":
        return ", ".join(k for k in d)
    return ""


def _timeline(entries: Sequence[Entry], site: Site, t: Text, clock: Clock) -> str:
    rows = []
    for e in entries:
        colour = SEVERITY_COLOUR.get(str(e.detail.get("severity")), "transparent")
        rows.append(
            f'<tr data-kind="{escape(e.kind)}"><td>{clock.full(e.ts)}</td>'
            f"<td>{_swatch(colour, t('kind.' + e.kind))}</td>"
            f"<td>{escape(e.by or t('ecc'))}</td><td>{escape(describe(e, site, t))}</td></tr>"
        )
    head = "".join(f"<th>{escape(t(k))}</th>" for k in ("time", "event", "by", "detail"))
    head = f"<tr>{head}</tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _clips(g: Gathered, site: Site, t: Text, clock: Clock) -> str:
    def names(source: str) -> str:
        return source_name(site, source, t)

    def why(missing: dict[str, str]) -> str:
        return t("reason." + missing["reason"])

    items = []
    for part in g.clips:
        name = escape(f"clips/{part.name}")
        span = f"{clock.full(part.clip.start)} – {clock.full(part.clip.end)}"
        frames = t("frames", n=part.clip.frames)
        items.append(
            f'<li><a href="{name}">{escape(names(part.source))}</a> · {span} · {frames}<br>'
            f'<video controls preload="none" width="480" src="{name}"></video></li>'
        )
    for m in g.missing:
        text = t("missing", source=names(m["source"]), reason=why(m))
        items.append(f'<li class="muted">{escape(text)}</li>')
    if not items:
        return f'<p class="muted">{escape(t("no_clips"))}</p>'
    return f"<ul>{''.join(items)}</ul>"


# -- charts ---------------------------------------------------------------------------------

W, H = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40
MAX_POINTS = 1500


def _charts(g: Gathered, site: Site, t: Text, clock: Clock) -> str:
    out = []
    marks = [e for e in g.timeline if e.kind.startswith("alert.") or e.kind in DECISIONS]
    for station_id, series in g.readings.items():
        station = site.station(station_id)
        if station is None:
            continue
        name = station.name_en if t.language == "en" and station.name_en else station.name
        for metric, points in series.items():
            spec = METRICS.get(metric)
            label = (spec.label if t.language == "en" else spec.label_zh) if spec else metric
            unit = f" ({spec.unit})" if spec and spec.unit else ""
            levels = next((v for k, v in station.thresholds.items() if k == metric), None)
            thresholds: dict[str, float] = {}
            if levels is not None:
                thresholds = {
                    k: v
                    for k in ("warning", "danger", "critical")
                    if (v := getattr(levels, k)) is not None
                }
            mine = [m for m in marks if m.detail.get("source") in (None, f"station:{station_id}")]
            svg = chart_svg(points, thresholds, g.window, mine, clock, station.interval_s * 3)
            caption = escape(f"{name} · {label}{unit}")
            if not points:
                svg = f'<p class="muted">{escape(t("no_readings"))}</p>' + svg
            out.append(
                f'<figure data-station="{escape(station_id)}" data-metric="{escape(metric)}">'
                f"<figcaption>{caption}</figcaption>{svg}</figure>"
            )
    return "".join(out) or f'<p class="muted">{escape(t("no_readings"))}</p>'


def _thin(points: Sequence[Point]) -> list[Point]:
    """At most MAX_POINTS points: the lowest and highest of each bucket, so peaks stay."""
    if len(points) <= MAX_POINTS:
        return list(points)
    per = math.ceil(len(points) / (MAX_POINTS // 2))
    out: list[Point] = []
    for k in range(0, len(points), per):
        bucket = points[k : k + per]
        lo = min(bucket, key=lambda p: p.value)
        hi = max(bucket, key=lambda p: p.value)
        out.extend(sorted({lo, hi}, key=lambda p: p.ts))
    return out


def chart_svg(
    points: Sequence[Point],
    thresholds: dict[str, float],
    window: tuple[float, float],
    marks: Iterable[Entry],
    clock: Clock,
    gap_s: float,
) -> str:
    t0, t1 = window
    span = max(t1 - t0, 1.0)
    values = [p.value for p in points] + list(thresholds.values())
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(ts: float) -> float:
        return LEFT + (ts - t0) / span * pw

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * ph

    out = [_svg(W, H)]
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccd6e0"/>'
    )
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eef2f6"/>'
        )
        out.append(_text(LEFT - 6, y(v) + 4, f"{v:.2f}", "end"))
    for k in range(7):
        ts = t0 + span * k / 6
        label = clock.tick(ts, span, k == 0)
        anchor = "start" if k == 0 else "end" if k == 6 else "middle"
        out.append(_text(x(ts), H - 20, label, anchor))
    for e in marks:
        if not t0 <= e.ts <= t1:
            continue
        colour = SEVERITY_COLOUR.get(str(e.detail.get("severity")), "#455a64")
        if e.kind.startswith("alert."):
            out.append(
                f'<line x1="{x(e.ts):.1f}" x2="{x(e.ts):.1f}" y1="{TOP}" y2="{TOP + ph}" '
                f'stroke="{colour}" stroke-width="1.5" opacity="0.8" data-kind="{escape(e.kind)}"/>'
            )
        else:
            px = x(e.ts)
            out.append(
                f'<polygon points="{px:.1f},{TOP + ph} {px - 5:.1f},{TOP + ph + 9} '
                f'{px + 5:.1f},{TOP + ph + 9}" '
                f'fill="#455a64" data-kind="{escape(e.kind)}"/>'
            )
    for level, value in thresholds.items():
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{SEVERITY_COLOUR[level]}" stroke-width="1.5" stroke-dasharray="8 5"/>'
        )
        out.append(
            f'<text x="{LEFT + pw - 4}" y="{y(value) - 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{SEVERITY_COLOUR[level]}">{value:g}</text>'
        )
    line: list[str] = []
    previous: Point | None = None
    for p in _thin(points):
        if previous is not None and p.ts - previous.ts > gap_s and line:
            out.append(_polyline(line))
            line = []
        line.append(f"{x(p.ts):.1f},{y(p.value):.1f}")
        previous = p
    if line:
        out.append(_polyline(line))
    out.append("</svg>")
    return "".join(out)


def _polyline(points: list[str]) -> str:
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#1565c0" stroke-width="1.6"/>'
    )


# -- map ------------------------------------------------------------------------------------

MW, MH = 960, 600
BASE_STYLE = {
    "outline": 'fill="#eef3f7" stroke="#9fb3c8" stroke-width="1"',
    "island": 'fill="#eef3f7" stroke="#9fb3c8" stroke-width="1"',
    "river": 'fill="none" stroke="#6fa8dc" stroke-width="2.5"',
    "road": 'fill="none" stroke="#b0bec5" stroke-width="1.5"',
}


class Projection:
    """Equirectangular around the middle of the bounds, fitted into the picture."""

    def __init__(self, south: float, west: float, north: float, east: float) -> None:
        self.k = math.cos(math.radians((south + north) / 2))
        w = max((east - west) * self.k, 1e-4)
        h = max(north - south, 1e-4)
        self.scale = min((MW - 40) / w, (MH - 40) / h)
        self.cx = (west + east) / 2
        self.cy = (south + north) / 2

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            MW / 2 + (lon - self.cx) * self.k * self.scale,
            MH / 2 - (lat - self.cy) * self.scale,
        )

    def metres(self, m: float) -> float:
        return m / geo.EARTH_RADIUS_M * 180 / math.pi * self.scale


def _bounds(g: Gathered, site: Site) -> tuple[float, float, float, float]:
    pts: list[tuple[float, float]] = []
    b = geo.bounds(g.incident.area)
    if b is not None:
        pts += [(b[0], b[1]), (b[2], b[3])]
    for source in g.incident.sources:
        kind, _, ident = source.partition(":")
        place = (
            site.station(ident)
            if kind == "station"
            else site.camera(ident)
            if kind == "camera"
            else None
        )
        if place is not None:
            pts.append((place.lat, place.lon))
    for track in g.tracks.values():
        pts += [(p.lat, p.lon) for p in track]
    if not pts:
        c = (site.map.center_lat, site.map.center_lon)
        pts = [(c[0] - 0.03, c[1] - 0.03), (c[0] + 0.03, c[1] + 0.03)]
    south, north = min(p[0] for p in pts), max(p[0] for p in pts)
    west, east = min(p[1] for p in pts), max(p[1] for p in pts)
    # A margin around, and at least a couple of kilometres across.
    dlat = max((north - south) * 0.15, 0.01)
    dlon = max((east - west) * 0.15, 0.01)
    return south - dlat, west - dlon, north + dlat, east + dlon


def _rings(geometry: dict[str, Any]) -> tuple[str, list[list[list[float]]]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        return "polygon", coords
    if kind == "MultiPolygon":
        return "polygon", [ring for poly in coords for ring in poly]
    if kind == "LineString":
        return "line", [coords]
    if kind == "MultiLineString":
        return "line", coords
    return "", []


def map_svg(g: Gathered, site: Site, t: Text) -> str:
    proj = Projection(*_bounds(g, site))
    out = [
        _svg(MW, MH),
        f'<defs><clipPath id="frame"><rect width="{MW}" height="{MH}"/></clipPath></defs>',
        '<g clip-path="url(#frame)">',
    ]
    for feature in (g.base_layer or {}).get("features", []):
        shape, rings = _rings(feature.get("geometry") or {})
        kind = (feature.get("properties") or {}).get("kind", "")
        style = BASE_STYLE.get(kind, 'fill="none" stroke="#b0bec5" stroke-width="1"')
        for ring in rings:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (proj(lat, lon) for lon, lat, *_ in ring))
            tag = "polygon" if shape == "polygon" else "polyline"
            extra = "" if shape == "polygon" else ' fill="none"'
            out.append(f'<{tag} points="{pts}" {style}{extra} data-base="{escape(kind)}"/>')
    area = g.incident.area
    area_style = 'fill="#e53935" fill-opacity="0.15" stroke="#c62828" stroke-width="2"'
    if geo.has_circle(area):
        assert area.lat is not None and area.lon is not None and area.radius_m is not None
        cx, cy = proj(area.lat, area.lon)
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{proj.metres(area.radius_m):.1f}" '
            f'{area_style} data-area="circle"/>'
        )
    if len(area.polygon) >= 3:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (proj(lat, lon) for lat, lon in area.polygon))
        out.append(f'<polygon points="{pts}" {area_style} data-area="polygon"/>')
    for n, (vehicle, track) in enumerate(sorted(g.tracks.items())):
        colour = TRACK_COLOURS[n % len(TRACK_COLOURS)]
        out.append(_track(track, vehicle, colour, proj))
    for source in g.incident.sources:
        kind, _, ident = source.partition(":")
        if kind == "station" and (s := site.station(ident)):
            x, y = proj(s.lat, s.lon)
            out.append(
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#1b5e20" '
                f'data-source="{escape(source)}"/>'
            )
            out.append(
                f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="12">{escape(s.name)}</text>'
            )
        if kind == "camera" and (c := site.camera(ident)):
            x, y = proj(c.lat, c.lon)
            out.append(
                f'<polygon points="{x:.1f},{y - 7:.1f} {x - 7:.1f},{y + 6:.1f} '
                f'{x + 7:.1f},{y + 6:.1f}" '
                f'fill="#37474f" data-source="{escape(source)}"/>'
            )
    out.append("</g>")
    # A scale bar of a round length, about a fifth of the picture.
    metres = 10 ** math.floor(math.log10(max((MW / 5) / max(proj.metres(1), 1e-9), 1)))
    bar = proj.metres(metres)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    out.append(
        f'<g data-scale="{metres:.0f}">'
        f'<line x1="20" x2="{20 + bar:.1f}" y1="{MH - 20}" y2="{MH - 20}" stroke="#1b2733" '
        f'stroke-width="3"/><text x="20" y="{MH - 28}" font-size="12">{label}</text></g>'
    )
    out.append("</svg>")
    legend = (
        '<p class="legend">'
        + _swatch("#f2a19f", t("legend.area"))
        + _swatch("#1b5e20", t("legend.station"))
        + _swatch("#37474f", t("legend.camera"))
        + _swatch(TRACK_COLOURS[0], t("legend.track"))
        + "</p>"
    )
    return "".join(out) + legend


def _track(track: Sequence[Position], vehicle: str, colour: str, proj: Projection) -> str:
    if not track:
        return ""
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (proj(p.lat, p.lon) for p in track))
    x, y = proj(track[-1].lat, track[-1].lon)
    return (
        f'<g data-vehicle="{escape(vehicle)}">'
        f'<polyline points="{pts}" fill="none" stroke="{colour}" '
        f'stroke-width="2.5"/><circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
        f"{_text(x + 9, y - 6, vehicle, fill=colour)}</g>"
    )
