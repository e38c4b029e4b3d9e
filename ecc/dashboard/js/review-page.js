// /review?id=ID: an incident replayed for leaders. Up to four recorded sources (cameras and
// vehicles) play under one time cursor, beside the linked stations' charts with the same cursor
// and the map with the vehicles where they were at that moment; the timeline below holds the
// sources' recorded spans and the alert and decision marks. Play, pause, speed, jump to the
// previous or next event, or to a typed time; export the whole incident.
//
// One clock leads: the cursor (wall time, ms) moves with the page's own clock at the chosen
// speed, and every player follows it. A player that drifts is nudged (its rate a little faster
// or slower) and, past a second, sought; a source with nothing recorded at the cursor waits,
// showing so, and is sought again when the cursor reaches its next span.
//
// Deep link: /review?id=ID&t=2026-07-12T08:05:00Z (the cursor's first place).
import { api } from "./api.js";
import { createChart } from "./chart.js";
import { apply, extend, localName, t } from "./i18n.js";
import { DECISIONS, byName, describe, exportButton, incidentTitle, kindName, loadNames, sourceName } from "./incident.js";
import { createMap } from "./map.js";
import { primaryMetric } from "./metrics.js";
import { RecordingPlayer } from "./recording-player.js";
import { badge } from "./severity.js";
import { boot, ctx, formatTime } from "./shell.js";
import { createTimeline, zonedParts, zonedTime } from "./timeline.js";

extend({
  "zh-CN": {
    "review.title": "事件回放 · 应急指挥中心",
    "review.heading": "事件回放",
    "review.choose": "选择要回放的事件",
    "review.none": "没有事件",
    "review.back": "返回事件",
    "review.play": "播放",
    "review.pause": "暂停",
    "review.prev": "上一事件",
    "review.next": "下一事件",
    "review.speed": "倍速",
    "review.time": "跳转到",
    "review.go": "跳转",
    "review.sources": "视频源（最多 4 个）",
    "review.no_sources": "该事件没有关联摄像机或指挥车",
    "review.no_recording": "此刻无录像",
    "review.loading": "加载中…",
    "review.map": "地图",
    "review.charts": "监测数据",
    "review.no_stations": "该事件没有关联监测站",
    "review.timeline": "事件时间轴",
    "review.events": "事件",
    "review.log": "经过",
    "review.window": "{start} – {end}",
    "review.bad_time": "请输入回放范围内的时间，如 08:30:00",
    "review.not_found": "找不到该事件",
  },
  en: {
    "review.title": "Incident review · Emergency Command Center",
    "review.heading": "Incident review",
    "review.choose": "Choose an incident to review",
    "review.none": "No incidents",
    "review.back": "Back to incidents",
    "review.play": "Play",
    "review.pause": "Pause",
    "review.prev": "Previous event",
    "review.next": "Next event",
    "review.speed": "Speed",
    "review.time": "Go to",
    "review.go": "Go",
    "review.sources": "Sources (up to 4)",
    "review.no_sources": "The incident has no camera or vehicle",
    "review.no_recording": "Nothing recorded now",
    "review.loading": "Loading…",
    "review.map": "Map",
    "review.charts": "Readings",
    "review.no_stations": "The incident has no station",
    "review.timeline": "Incident timeline",
    "review.events": "Events",
    "review.log": "What happened",
    "review.window": "{start} – {end}",
    "review.bad_time": "Type a time within the review, e.g. 08:30:00",
    "review.not_found": "No such incident",
  },
});

const MAX_VIDEOS = 4;
const SPEEDS = [0.5, 1, 2, 4, 8];
const SYNC_MS = 250;
const SEEK_DRIFT_MS = 1000;
const NUDGE_DRIFT_MS = 60;
const PAUSED_DRIFT_MS = 80;

const view = document.getElementById("view");
const clock = { cursor: 0, playing: false, speed: 1, last: 0 };
const state = { incident: null, window: [0, 0], entries: [], names: new Map(), tracks: new Map(), players: [], charts: [] };
let timeline = null;
let map = null;
let lastSync = 0;
let lastSlow = 0;

const iso = (ms) => new Date(ms).toISOString();
const hhmmss = (ms) => zonedParts(ms, ctx.timezone).time;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// --- no incident chosen: a list to choose from --------------------------------------------

async function chooser() {
  const [list, names] = await Promise.all([api("/api/incidents"), loadNames()]);
  view.replaceChildren(
    el("div", { className: "review-choose" },
      el("h1", { textContent: t("review.choose") }),
      list.length
        ? el("ul", { className: "plain" }, ...list.reverse().map((i) =>
            el("li", {},
              badge(i.severity), " ",
              el("a", { href: `/review?id=${encodeURIComponent(i.id)}`, textContent: incidentTitle(i, names) }),
              el("span", { className: "muted", textContent: ` · ${t(`incident.state.${i.state}`)} · ${formatTime(i.opened_at, { date: true })}` }))))
        : el("p", { className: "muted", textContent: t("review.none") })));
}

// --- layout -------------------------------------------------------------------------------

function layout() {
  const i = state.incident;
  view.innerHTML = `
    <header class="rv-head">
      <div class="rv-title">
        <h1 id="rv-title"></h1>
        <p id="rv-meta" class="rv-meta"></p>
      </div>
      <div class="rv-controls" role="group" data-i18n-attr="aria-label:review.heading">
        <button type="button" id="rv-prev" data-i18n="review.prev"></button>
        <button type="button" id="rv-play" class="primary" data-i18n="review.play"></button>
        <button type="button" id="rv-next" data-i18n="review.next"></button>
        <label><span data-i18n="review.speed"></span>
          <select id="rv-speed">${SPEEDS.map((s) => `<option value="${s}"${s === 1 ? " selected" : ""}>${s}×</option>`).join("")}</select>
        </label>
        <form id="rv-goto" class="rv-goto">
          <label for="rv-time" data-i18n="review.time"></label>
          <input id="rv-time" inputmode="numeric" size="9" autocomplete="off">
          <button type="submit" data-i18n="review.go"></button>
        </form>
        <span id="rv-clock" class="rv-clock num" role="timer" aria-live="off"></span>
      </div>
      <div class="rv-export">
        <a class="button" id="rv-back" href="/incidents#${encodeURIComponent(i.id)}" data-i18n="review.back"></a>
        <button type="button" id="rv-export" data-i18n="export.start"></button>
        <progress id="rv-export-progress" max="1" value="0" hidden data-i18n-attr="aria-label:export.label"></progress>
        <span id="rv-export-status" class="muted" role="status"></span>
      </div>
      <p id="rv-message" class="error rv-message" hidden></p>
    </header>
    <div class="rv-body">
      <section class="rv-videos" aria-labelledby="rv-sources-h">
        <h2 id="rv-sources-h" class="visually-hidden" data-i18n="review.sources"></h2>
        <div id="rv-grid" class="rv-grid"></div>
        <fieldset id="rv-pick" class="rv-pick" hidden><legend data-i18n="review.sources"></legend></fieldset>
      </section>
      <aside class="rv-side">
        <section aria-labelledby="rv-map-h"><h2 id="rv-map-h" class="rv-h" data-i18n="review.map"></h2><div id="rv-map" class="rv-map"></div></section>
        <section aria-labelledby="rv-charts-h"><h2 id="rv-charts-h" class="rv-h" data-i18n="review.charts"></h2><div id="rv-charts"></div></section>
        <section aria-labelledby="rv-log-h"><h2 id="rv-log-h" class="rv-h" data-i18n="review.log"></h2><ol id="rv-log" class="rv-log"></ol></section>
      </aside>
    </div>
    <section class="rv-timeline" aria-labelledby="rv-tl-h">
      <h2 id="rv-tl-h" class="visually-hidden" data-i18n="review.timeline"></h2>
      <div id="rv-tl"></div>
    </section>`;
  view.querySelector("#rv-title").textContent = incidentTitle(i, state.names);
  const meta = view.querySelector("#rv-meta");
  meta.replaceChildren(
    badge(i.severity),
    ` ${t(`incident.state.${i.state}`)} · `,
    t("review.window", { start: formatTime(iso(state.window[0]), { date: true }), end: formatTime(iso(state.window[1]), { date: true }) }),
  );
  apply(view);
  if (ctx.me.permissions.includes("incidents.export")) {
    exportButton(view.querySelector("#rv-export"), view.querySelector("#rv-export-progress"), view.querySelector("#rv-export-status"), () => i.id);
  } else view.querySelector("#rv-export").hidden = true;
}

// --- sources and players ------------------------------------------------------------------

function recordedSources() {
  return state.incident.sources.filter((s) => s.startsWith("camera:") || s.startsWith("vehicle:"));
}

function apiBase(source) {
  const [kind, ident] = source.split(":");
  return `/api/${kind === "camera" ? "cameras" : "vehicles"}/${encodeURIComponent(ident)}`;
}

async function addPlayer(source) {
  const fig = el("figure", { className: "rv-tile", dataset: { player: "", source } });
  const video = el("video", { muted: true, playsInline: true, preload: "auto" });
  const caption = el("figcaption", {}, el("span", { className: "rv-name", textContent: sourceName(source, state.names) }), el("span", { className: "rv-state muted" }));
  const note = el("p", { className: "rv-note", hidden: true });
  fig.append(video, note, caption);
  view.querySelector("#rv-grid").append(fig);
  const entry = { source, fig, video, note, token: null, spans: [], player: null, busy: false, waiting: false };
  state.players.push(entry);
  const [w0, w1] = state.window;
  try {
    const rec = await api(`${apiBase(source)}/recordings?start=${iso(w0)}&end=${iso(w1)}`);
    entry.token = rec.token;
    entry.spans = rec.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
  } catch (err) {
    entry.spans = [];
  }
  entry.player = new RecordingPlayer(video, {
    base: apiBase(source),
    token: () => entry.token,
    onState: (s) => {
      fig.dataset.state = s;
    },
  });
  return entry;
}

function removePlayer(entry) {
  entry.player?.destroy();
  entry.fig.remove();
  state.players = state.players.filter((p) => p !== entry);
}

function covered(entry, ms) {
  return entry.spans.some((s) => ms >= s.start && ms < s.end);
}

async function seekPlayer(entry, ms) {
  entry.busy = true;
  try {
    await entry.player.seek(ms);
  } finally {
    entry.busy = false;
  }
}

function syncPlayer(entry) {
  if (!entry.player || entry.busy) return;
  const want = clock.cursor;
  if (!covered(entry, want)) {
    if (entry.player.playing) entry.player.pause();
    entry.waiting = true;
    entry.note.hidden = false;
    entry.note.textContent = t("review.no_recording");
    entry.fig.dataset.wall = "";
    return;
  }
  entry.note.hidden = true;
  const at = entry.player.now();
  entry.fig.dataset.wall = at === null ? "" : String(Math.round(at));
  const drift = at === null ? Infinity : at - want;
  if (!clock.playing) {
    if (entry.player.playing) entry.player.pause();
    if (entry.waiting || Math.abs(drift) > PAUSED_DRIFT_MS) {
      entry.waiting = false;
      seekPlayer(entry, want);
    }
    return;
  }
  if (entry.waiting || !entry.player.playing || Math.abs(drift) > SEEK_DRIFT_MS) {
    entry.waiting = false;
    entry.player.setRate(clock.speed);
    entry.player.play();
    seekPlayer(entry, want);
    return;
  }
  // Close: catch up or fall back over the next second or so, without a visible jump.
  const nudge = Math.abs(drift) > NUDGE_DRIFT_MS ? Math.max(0.5, Math.min(1.5, 1 - drift / 1000)) : 1;
  entry.player.setRate(clock.speed * nudge);
}

function syncAll() {
  for (const entry of state.players) syncPlayer(entry);
}

function chosenSources() {
  return state.players.map((p) => p.source);
}

function renderPicker() {
  const all = recordedSources();
  const pick = view.querySelector("#rv-pick");
  pick.hidden = all.length <= MAX_VIDEOS;
  pick.replaceChildren(el("legend", { textContent: t("review.sources") }));
  for (const source of all) {
    const box = el("input", { type: "checkbox", checked: chosenSources().includes(source), value: source });
    box.addEventListener("change", async () => {
      if (box.checked) {
        if (state.players.length >= MAX_VIDEOS) {
          box.checked = false;
          return;
        }
        await addPlayer(source);
      } else {
        const entry = state.players.find((p) => p.source === source);
        if (entry) removePlayer(entry);
      }
      lanes();
      syncAll();
    });
    pick.append(el("label", {}, box, ` ${sourceName(source, state.names)}`));
  }
  if (!all.length) view.querySelector("#rv-grid").append(el("p", { className: "muted", textContent: t("review.no_sources") }));
}

// --- timeline, log, marks -----------------------------------------------------------------

function marksOf(entries, filter = () => true) {
  return entries.filter(filter).map((e) => ({
    ts: Date.parse(e.ts) / 1000,
    severity: e.kind.startsWith("alert.") ? e.severity : null,
  }));
}

function lanes() {
  const events = state.entries.map((e) => {
    const ms = Date.parse(e.ts);
    const alert = e.kind.startsWith("alert.");
    return {
      kind: alert ? "alert" : "decision",
      severity: alert ? e.severity : undefined,
      start: ms,
      label: [hhmmss(ms), kindName(e.kind), describe(e, state.names)].filter(Boolean).join(" · "),
    };
  });
  timeline.setLanes([
    { id: "events", label: t("review.events"), spans: [], marks: events },
    ...state.players.map((p) => ({ id: p.source, label: sourceName(p.source, state.names), spans: p.spans, marks: [] })),
  ]);
}

function renderLog() {
  const ol = view.querySelector("#rv-log");
  ol.replaceChildren(
    ...state.entries.map((e) => {
      const b = el("button", { type: "button", className: "rv-log-item" },
        el("span", { className: "num muted", textContent: hhmmss(Date.parse(e.ts)) }),
        el("strong", { textContent: kindName(e.kind) }),
        el("span", { textContent: `${describe(e, state.names)} · ${byName(e.by)}` }));
      b.addEventListener("click", () => seek(Date.parse(e.ts)));
      return el("li", { dataset: { kind: e.kind, severity: e.severity || "", ts: e.ts } }, b);
    }),
  );
}

function eventTimes() {
  return [...new Set(state.entries.map((e) => Date.parse(e.ts)))].sort((a, b) => a - b);
}

// --- the cursor ---------------------------------------------------------------------------

function clamp(ms) {
  return Math.max(state.window[0], Math.min(state.window[1], ms));
}

function seek(ms) {
  clock.cursor = clamp(ms);
  for (const p of state.players) p.waiting = true;
  render(true);
  syncAll();
}

function setPlaying(playing) {
  clock.playing = playing && clock.cursor < state.window[1];
  clock.last = performance.now();
  const b = view.querySelector("#rv-play");
  b.dataset.i18n = clock.playing ? "review.pause" : "review.play";
  b.textContent = t(b.dataset.i18n);
  view.dataset.playing = String(clock.playing);
  syncAll();
}

function render(all = false) {
  const ms = clock.cursor;
  timeline.setCursor(ms);
  const parts = zonedParts(ms, ctx.timezone);
  view.querySelector("#rv-clock").textContent = `${parts.date} ${parts.time}`;
  view.dataset.cursor = String(Math.round(ms));
  const input = view.querySelector("#rv-time");
  if (document.activeElement !== input) input.value = parts.time;
  const now = performance.now();
  // Charts and map at a few frames a second: enough for the eye, cheap for the page.
  if (all || now - lastSlow > 200) {
    lastSlow = now;
    for (const c of state.charts) c.setCursor(ms / 1000);
    for (const [vehicle, track] of state.tracks) {
      let n = 0;
      while (n < track.length && Date.parse(track[n].ts) <= ms) n++;
      map?.showAt(vehicle, track.slice(0, n));
    }
    for (const li of view.querySelectorAll("#rv-log li")) li.classList.toggle("is-past", Date.parse(li.dataset.ts) <= ms);
  }
}

function frame(now) {
  if (clock.playing) {
    clock.cursor += (now - clock.last) * clock.speed;
    if (clock.cursor >= state.window[1]) {
      clock.cursor = state.window[1];
      setPlaying(false);
    }
  }
  clock.last = now;
  render();
  if (now - lastSync >= SYNC_MS) {
    lastSync = now;
    syncAll();
  }
  requestAnimationFrame(frame);
}

// --- side panels --------------------------------------------------------------------------

async function loadCharts() {
  const box = view.querySelector("#rv-charts");
  const stations = state.incident.sources.filter((s) => s.startsWith("station:")).map((s) => state.names.get(s)).filter(Boolean);
  if (!stations.length) {
    box.append(el("p", { className: "muted", textContent: t("review.no_stations") }));
    return;
  }
  const [w0, w1] = state.window;
  for (const station of stations) {
    const metric = primaryMetric(station);
    const points = await api(`/api/stations/${encodeURIComponent(station.id)}/readings?metric=${encodeURIComponent(metric)}&start=${iso(w0)}&end=${iso(w1)}`);
    const fig = el("figure", { className: "rv-chart", dataset: { station: station.id, metric } }, el("figcaption", { textContent: localName(station) }));
    const plot = el("div");
    fig.append(plot);
    box.append(fig);
    const chart = await createChart(plot, {
      metric,
      thresholds: station.thresholds[metric] || {},
      timezone: ctx.timezone,
      points,
      height: 160,
      windowS: (w1 - w0) / 1000,
      range: [w0 / 1000, w1 / 1000],
      gapS: station.interval_s * 3,
    });
    const source = `station:${station.id}`;
    chart.setMarks(marksOf(state.entries, (e) => !e.source || e.source === source || DECISIONS.has(e.kind)));
    state.charts.push(chart);
  }
}

async function loadMap() {
  map = await createMap(view.querySelector("#rv-map"), { site: ctx.site, formatTime, legend: false });
  const i = state.incident;
  const L = map.L;
  map.setStations([...state.names.values()].filter((n) => n.type === "station" && i.sources.includes(`station:${n.id}`)));
  map.setCameras([...state.names.values()].filter((n) => n.type === "camera" && i.sources.includes(`camera:${n.id}`)));
  map.setVehicles([...state.names.values()].filter((n) => n.type === "vehicle").map((v) => ({ id: v.id, name: v.name, name_en: v.name_en })));
  const style = { color: "#ff6b5b", weight: 2, fillOpacity: 0.12, interactive: false };
  const shapes = [];
  if (i.area.radius_m) shapes.push(L.circle([i.area.lat, i.area.lon], { ...style, radius: i.area.radius_m }));
  if (i.area.polygon?.length >= 3) shapes.push(L.polygon(i.area.polygon, style));
  for (const s of shapes) s.addTo(map.map);
  const [w0, w1] = state.window;
  for (const source of i.sources.filter((s) => s.startsWith("vehicle:"))) {
    const id = source.split(":")[1];
    const track = await api(`/api/vehicles/${encodeURIComponent(id)}/track?start=${iso(w0)}&end=${iso(w1)}`);
    state.tracks.set(id, track);
  }
  const bounds = shapes.length ? L.featureGroup(shapes).getBounds() : null;
  for (const track of state.tracks.values()) for (const p of track) bounds?.extend([p.lat, p.lon]);
  if (bounds && bounds.isValid()) map.map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15, animate: false });
  else map.fitMarkers();
  render(true);
}

// --- start --------------------------------------------------------------------------------

function wire() {
  view.querySelector("#rv-play").addEventListener("click", () => setPlaying(!clock.playing));
  view.querySelector("#rv-speed").addEventListener("change", (e) => {
    clock.speed = Number(e.target.value);
    for (const p of state.players) p.player?.setRate(clock.speed);
  });
  view.querySelector("#rv-next").addEventListener("click", () => {
    const next = eventTimes().find((ms) => ms > clock.cursor + 500);
    if (next !== undefined) seek(next);
  });
  view.querySelector("#rv-prev").addEventListener("click", () => {
    const prev = eventTimes().filter((ms) => ms < clock.cursor - 500).pop();
    if (prev !== undefined) seek(prev);
  });
  view.querySelector("#rv-goto").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = view.querySelector("#rv-time").value.trim();
    const message = view.querySelector("#rv-message");
    const ok = /^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
    // The day of the cursor, or the next one if that time of day is already past on it.
    let ms = ok ? zonedTime(zonedParts(clock.cursor, ctx.timezone).date, text, ctx.timezone) : NaN;
    if (ok && ms < state.window[0]) ms += 86400e3;
    if (!ok || ms < state.window[0] || ms > state.window[1]) {
      message.hidden = false;
      message.textContent = t("review.bad_time");
      return;
    }
    message.hidden = true;
    seek(ms);
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea")) return;
    if (e.key === " ") {
      e.preventDefault();
      setPlaying(!clock.playing);
    }
  });
  document.addEventListener("ecc:language", () => {
    apply(view);
    view.querySelector("#rv-title").textContent = incidentTitle(state.incident, state.names);
    setPlaying(clock.playing);
    renderLog();
    lanes();
  });
}

await boot();
const params = new URLSearchParams(location.search);
const id = params.get("id");
if (!id) {
  await chooser();
} else {
  try {
    const [incident, entries, names] = await Promise.all([
      api(`/api/incidents/${encodeURIComponent(id)}`),
      api(`/api/incidents/${encodeURIComponent(id)}/timeline`),
      loadNames(),
    ]);
    Object.assign(state, { incident, entries, names, window: [Date.parse(incident.review.start), Date.parse(incident.review.end)] });
    layout();
    wire();
    timeline = createTimeline(view.querySelector("#rv-tl"), {
      timezone: ctx.timezone,
      onSeek: (ms) => seek(ms),
      labels: { aria: t("review.timeline") },
    });
    timeline.setBounds(...state.window);
    for (const source of recordedSources().slice(0, MAX_VIDEOS)) await addPlayer(source);
    renderPicker();
    lanes();
    renderLog();
    const first = params.get("t") ? Date.parse(params.get("t")) : Date.parse(incident.span.start);
    clock.cursor = clamp(Number.isNaN(first) ? state.window[0] : first);
    setPlaying(false);
    render(true);
    requestAnimationFrame(frame);
    await Promise.all([loadMap(), loadCharts()]);
    syncAll();
  } catch (err) {
    view.replaceChildren(el("p", { className: "error", textContent: err.status === 404 ? t("review.not_found") : t("error.load", { detail: err.message }) }));
  }
}
view.dataset.ready = "true";
