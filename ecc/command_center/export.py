"""An incident's export: one zip file that a leader takes away, complete and readable offline.

    incident-<id>/report.html          summary, timeline, charts and map, self-contained
    incident-<id>/incident.json        the incident as the API gives it
    incident-<id>/timeline.json|.csv   every event in order, with who did it
    incident-<id>/readings/<station>.csv   every metric of the linked stations
    incident-<id>/tracks/<vehicle>.csv     the positions of the linked vehicles
    incident-<id>/clips/<source>.mp4       the recordings of the linked cameras and vehicles
    incident-<id>/manifest.json        what is in it (and what is not, and why)

Everything covers the incident's review window: its span with the pre- and post-roll. The clips
are remuxed from the recorded segments (ecc.media.clip): nothing is decoded or encoded; a span
longer than `recording.max_clip_s` comes in several files. Building is blocking (store reads,
file copies): run it in a worker thread. Progress is reported in bytes, most of which are the
clips', so the figure moves as the work does.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ecc import times
from ecc.config import Settings, Site
from ecc.config.site import base_layer_path
from ecc.incidents import Desk, lifecycle
from ecc.incidents.desk import recorded
from ecc.incidents.timeline import Entry
from ecc.incidents.wire import entry_to_wire
from ecc.media import clip
from ecc.storage import Store
from ecc.storage.models import Incident, Point, Position

log = logging.getLogger(__name__)

READINGS_LIMIT = 100_000
TRACK_LIMIT = 100_000
# What the small files weigh in the progress, before they are written.
SMALL_FILE_GUESS = 64 * 1024


class Cancelled(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    step: str

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


Report = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class ClipPart:
    source: str
    name: str
    clip: clip.Clip


@dataclass
class Gathered:
    """Everything an export holds, read from the store before anything is written."""

    incident: Incident
    wire: dict[str, Any]
    window: tuple[float, float]
    timeline: list[Entry]
    readings: dict[str, dict[str, list[Point]]]
    """station -> metric -> points."""
    tracks: dict[str, list[Position]]
    clips: list[ClipPart]
    missing: list[dict[str, str]] = field(default_factory=list)
    base_layer: dict[str, Any] | None = None

    @property
    def folder(self) -> str:
        return f"incident-{self.incident.id[:12]}"


def window_of(incident: Incident, desk: Desk) -> tuple[float, float]:
    start, end = lifecycle.span(incident)
    return start - desk.settings.pre_roll_s, end + desk.settings.post_roll_s


def _safe(source: str) -> str:
    return source.replace(":", "-")


def gather(
    desk: Desk, settings: Settings, site: Site, incident: Incident, data_dir: Path
) -> Gathered:
    store: Store = desk.store
    t0, t1 = window_of(incident, desk)
    timeline = desk.timeline(incident)
    readings: dict[str, dict[str, list[Point]]] = {}
    tracks: dict[str, list[Position]] = {}
    clips: list[ClipPart] = []
    missing: list[dict[str, str]] = []
    for source in incident.sources:
        kind, _, ident = source.partition(":")
        if kind == "station" and (station := site.station(ident)) is not None:
            readings[ident] = {
                m: store.readings.range(ident, m, t0, t1, READINGS_LIMIT)
                for m in station.reported_metrics
            }
        if kind == "vehicle":
            tracks[ident] = store.positions.track(ident, t0, t1, TRACK_LIMIT)
        if recorded(source):
            parts = _clips(store, data_dir, source, t0, t1, settings.recording.max_clip_s)
            if not parts:
                missing.append({"source": source, "reason": "no_recordings"})
            clips.extend(parts)
    base: dict[str, Any] | None = None
    path = base_layer_path(settings.site, site)
    if path is not None and path.is_file():
        try:
            base = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            log.warning("the base layer %s cannot be read; the report's map has none", path)
    return Gathered(
        incident=incident,
        wire=desk.wire(incident),
        window=(t0, t1),
        timeline=timeline,
        readings=readings,
        tracks=tracks,
        clips=clips,
        missing=missing,
        base_layer=base,
    )


def _clips(
    store: Store, data_dir: Path, source: str, t0: float, t1: float, longest: float
) -> list[ClipPart]:
    pieces: list[tuple[float, float]] = []
    at = t0
    while at < t1:
        pieces.append((at, min(t1, at + longest)))
        at += longest
    out: list[ClipPart] = []
    for a, b in pieces:
        segments = store.recordings.range(source, a, b)
        if not segments:
            continue
        try:
            made = clip.plan(data_dir, segments, a, b)
        except (clip.NothingRecorded, FileNotFoundError):
            continue
        out.append(ClipPart(source, "", made))
    for n, part in enumerate(out, 1):
        suffix = f"-{n}" if len(out) > 1 else ""
        out[n - 1] = ClipPart(part.source, f"{_safe(source)}{suffix}.mp4", part.clip)
    return out


# -- the files ------------------------------------------------------------------------------


TIMELINE_COLUMNS = (
    "time",
    "kind",
    "by",
    "severity",
    "source",
    "alert_id",
    "task_id",
    "vehicle_id",
    "text",
    "detail",
)
_TEXT_KEYS = ("text", "instructions", "note", "message", "title")


def timeline_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(TIMELINE_COLUMNS)
    for e in entries:
        d = dict(e.detail)
        text = next((str(d[k]) for k in _TEXT_KEYS if d.get(k)), "")
        if e.kind == "incident.state":
            text = f"{d.get('from')} -> {d.get('to')}" + (f": {d['note']}" if d.get("note") else "")
        rest = {
            k: v
            for k, v in d.items()
            if k not in {"severity", "source", "alert_id", "task_id", "vehicle_id"}
        }
        w.writerow(
            (
                times.iso(e.ts),
                e.kind,
                e.by or "",
                d.get("severity") or "",
                d.get("source") or "",
                d.get("alert_id") or "",
                d.get("task_id") or "",
                d.get("vehicle_id") or "",
                text,
                orjson.dumps(rest).decode() if rest else "",
            )
        )
    return out.getvalue()


def readings_csv(series: dict[str, list[Point]]) -> str:
    metrics = sorted(series)
    rows: dict[float, dict[str, float]] = {}
    for metric, points in series.items():
        for p in points:
            rows.setdefault(p.ts, {})[metric] = p.value
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("time", *metrics))
    for ts in sorted(rows):
        values = rows[ts]
        w.writerow((times.iso(ts), *(_number(values.get(m)) for m in metrics)))
    return out.getvalue()


def track_csv(track: list[Position]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("time", "lat", "lon", "speed_m_s", "heading_deg", "accuracy_m"))
    for p in track:
        w.writerow(
            (
                times.iso(p.ts),
                p.lat,
                p.lon,
                _number(p.speed),
                _number(p.heading),
                _number(p.accuracy),
            )
        )
    return out.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


# -- writing --------------------------------------------------------------------------------


@dataclass
class Writer:
    """Writes one Gathered export into a zip file, reporting progress and honouring cancel."""

    gathered: Gathered
    report_html: Callable[[Gathered], str]
    progress: Report = lambda p: None
    cancel: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        g = self.gathered
        small = 4 + len(g.readings) + len(g.tracks)
        return sum(c.clip.size for c in g.clips) + small * SMALL_FILE_GUESS

    def _tick(self, n: int, step: str) -> None:
        if self.cancel.is_set():
            raise Cancelled("the export was cancelled")
        self.done += n
        self.progress(Progress(self.done, max(self.total, self.done), step))

    def _text(self, zf: zipfile.ZipFile, name: str, data: str | bytes, kind: str) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        zf.writestr(f"{self.gathered.folder}/{name}", raw, compress_type=zipfile.ZIP_DEFLATED)
        self.files.append({"path": name, "bytes": len(raw), "kind": kind})
        self._tick(SMALL_FILE_GUESS, name)

    def write(self, path: Path) -> dict[str, Any]:
        """The zip at `path` (written whole, then renamed: a reader never sees half of it);
        returns the manifest."""
        g = self.gathered
        partial = path.with_name(path.name + ".part")
        try:
            with zipfile.ZipFile(partial, "w", allowZip64=True) as zf:
                self._tick(0, "start")
                self._text(
                    zf,
                    "incident.json",
                    orjson.dumps(g.wire, option=orjson.OPT_INDENT_2),
                    "incident",
                )
                wire = [entry_to_wire(e) for e in g.timeline]
                self._text(
                    zf, "timeline.json", orjson.dumps(wire, option=orjson.OPT_INDENT_2), "timeline"
                )
                self._text(zf, "timeline.csv", timeline_csv(g.timeline), "timeline")
                for station, series in g.readings.items():
                    self._text(zf, f"readings/{station}.csv", readings_csv(series), "readings")
                for vehicle, track in g.tracks.items():
                    self._text(zf, f"tracks/{vehicle}.csv", track_csv(track), "track")
                for part in g.clips:
                    self._clip(zf, part)
                self._text(zf, "report.html", self.report_html(g), "report")
                manifest = self.manifest()
                raw = orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
                zf.writestr(f"{g.folder}/manifest.json", raw, compress_type=zipfile.ZIP_DEFLATED)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.progress(Progress(self.total, self.total, "done"))
        return manifest

    def _clip(self, zf: zipfile.ZipFile, part: ClipPart) -> None:
        name = f"clips/{part.name}"
        # MP4 does not compress: stored, and written as it is read from the segments.
        info = zipfile.ZipInfo(f"{self.gathered.folder}/{name}", _zip_time())
        info.compress_type = zipfile.ZIP_STORED
        with zf.open(info, "w", force_zip64=True) as dst:
            for chunk in part.clip.body():
                dst.write(chunk)
                self._tick(len(chunk), name)
        self.files.append(
            {
                "path": name,
                "bytes": part.clip.size,
                "kind": "clip",
                "source": part.source,
                "start": times.iso(round(part.clip.start, 3)),
                "end": times.iso(round(part.clip.end, 3)),
                "frames": part.clip.frames,
            }
        )

    def manifest(self) -> dict[str, Any]:
        g = self.gathered
        return {
            "incident": g.incident.id,
            "title": g.incident.title,
            "generated_at": times.iso(round(time.time(), 3)),
            "window": {"start": times.iso(g.window[0]), "end": times.iso(g.window[1])},
            "span": g.wire["span"],
            "files": self.files,
            "missing": g.missing,
        }


def _zip_time() -> tuple[int, int, int, int, int, int]:
    t = time.gmtime()
    return (max(t.tm_year, 1980), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
