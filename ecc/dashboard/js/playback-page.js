// /playback: one camera's or vehicle's recordings. A day's timeline (recorded spans, gaps,
// motion and alert marks) zooms from the day to a minute; a click on it, or a typed time, seeks;
// play at 1, 2, 4 or 8 times; step frame by frame when paused; select a range (shift+drag on
// the timeline, or mark in and out at the cursor) and download it as a clip.
//
// Deep link: /playback#source=camera:dam-east&t=2026-07-12T08:05:00Z (what alerts and incidents
// link to).
import { api, ApiError } from "./api.js";
import { apply, extend, localName, t } from "./i18n.js";
import { alertKind } from "./metrics.js";
import { RecordingPlayer } from "./recording-player.js";
import { boot, ctx } from "./shell.js";
import { createTimeline, zonedParts, zonedTime } from "./timeline.js";

extend({
  "zh-CN": {
    "playback.title": "录像回放 · 应急指挥中心",
    "playback.heading": "录像回放",
    "playback.sources": "视频源",
    "playback.cameras": "摄像机",
    "playback.vehicles": "指挥车",
    "playback.date": "日期",
    "playback.time": "时间",
    "playback.go": "跳转",
    "playback.play": "播放",
    "playback.pause": "暂停",
    "playback.step_back": "上一帧",
    "playback.step_forward": "下一帧",
    "playback.speed": "倍速",
    "playback.zoom_in": "放大",
    "playback.zoom_out": "缩小",
    "playback.mark_in": "设为起点",
    "playback.mark_out": "设为终点",
    "playback.clear": "取消选择",
    "playback.download": "下载片段",
    "playback.selection": "已选 {start} – {end}（{duration}）",
    "playback.no_selection": "按住 Shift 在时间轴上拖动，或用“设为起点/终点”选择片段",
    "playback.none": "该时间没有录像",
    "playback.day_none": "当天没有录像",
    "playback.loading": "加载中…",
    "playback.ended": "之后没有录像",
    "playback.error": "回放出错：{detail}",
    "playback.summary": "录像 {hours} 小时 · {gaps} 处中断",
    "playback.legend_recorded": "有录像",
    "playback.legend_gap": "无录像",
    "playback.legend_motion": "移动侦测",
    "playback.legend_alert": "告警",
    "playback.timeline": "时间轴",
    "playback.bad_time": "请输入时间，如 08:30:00",
    "playback.no_sources": "没有可回放的视频源",
  },
  en: {
    "playback.title": "Playback · Emergency Command Center",
    "playback.heading": "Playback",
    "playback.sources": "Sources",
    "playback.cameras": "Cameras",
    "playback.vehicles": "Vehicles",
    "playback.date": "Date",
    "playback.time": "Time",
    "playback.go": "Go",
    "playback.play": "Play",
    "playback.pause": "Pause",
    "playback.step_back": "Previous frame",
    "playback.step_forward": "Next frame",
    "playback.speed": "Speed",
    "playback.zoom_in": "Zoom in",
    "playback.zoom_out": "Zoom out",
    "playback.mark_in": "Mark in",
    "playback.mark_out": "Mark out",
    "playback.clear": "Clear",
    "playback.download": "Download clip",
    "playback.selection": "Selected {start} – {end} ({duration})",
    "playback.no_selection": "Shift+drag on the timeline, or mark in and out, to select a clip",
    "playback.none": "Nothing recorded at this time",
    "playback.day_none": "Nothing recorded this day",
    "playback.loading": "Loading…",
    "playback.ended": "Nothing recorded after this",
    "playback.error": "Playback failed: {detail}",
    "playback.summary": "{hours} h recorded · {gaps} gaps",
    "playback.legend_recorded": "Recorded",
    "playback.legend_gap": "No recording",
    "playback.legend_motion": "Motion",
    "playback.legend_alert": "Alert",
    "playback.timeline": "Timeline",
    "playback.bad_time": "Type a time such as 08:30:00",
    "playback.no_sources": "No source to play back",
  },
});

const SPEEDS = [1, 2, 4, 8];
const REFRESH_MS = 60e3;
const view = document.getElementById("view");
const state = {
  sources: [],
  source: null, // { id: "camera:x", kind, ident, name }
  date: null, // "YYYY-MM-DD" in the site's time zone
  day: null, // [start, end] ms
  token: null,
  spans: [],
  selection: null,
  message: null,
};
let player = null;
let timeline = null;
let refresh = null;

const iso = (ms) => new Date(ms).toISOString();
const clock = (ms) => zonedParts(ms, ctx.timezone).time;

function base(source) {
  return `/api/${source.kind === "camera" ? "cameras" : "vehicles"}/${encodeURIComponent(source.ident)}`;
}

function render() {
  view.innerHTML = `
    <div class="playback">
      <aside class="pb-sources card" aria-labelledby="pb-sources-title">
        <h2 id="pb-sources-title" data-i18n="playback.sources"></h2>
        <div id="pb-source-list"></div>
      </aside>
      <section class="pb-main">
        <div class="pb-head">
          <h1 id="pb-name"></h1>
          <label><span data-i18n="playback.date"></span>
            <input type="date" id="pb-date" required></label>
          <form id="pb-goto" class="pb-goto">
            <label><span data-i18n="playback.time"></span>
              <input type="time" id="pb-time" step="1" required></label>
            <button type="submit" data-i18n="playback.go"></button>
          </form>
          <span class="muted" id="pb-summary"></span>
        </div>
        <div class="pb-video" id="pb-player" data-player data-state="idle">
          <video></video>
          <div class="pb-clock num" id="pb-clock" aria-live="off"></div>
          <div class="pb-message" id="pb-message" role="status" hidden></div>
        </div>
        <div class="pb-controls">
          <button type="button" id="pb-step-back" data-i18n-attr="title:playback.step_back,aria-label:playback.step_back" class="pb-icon"></button>
          <button type="button" id="pb-play" class="primary" data-i18n="playback.play"></button>
          <button type="button" id="pb-step-forward" data-i18n-attr="title:playback.step_forward,aria-label:playback.step_forward" class="pb-icon"></button>
          <span class="pb-speeds" role="group" data-i18n-attr="aria-label:playback.speed">
            ${SPEEDS.map((s) => `<button type="button" data-speed="${s}" aria-pressed="${s === 1}">${s}×</button>`).join("")}
          </span>
          <span class="pb-sep"></span>
          <button type="button" id="pb-zoom-out" data-i18n-attr="title:playback.zoom_out,aria-label:playback.zoom_out">−</button>
          <button type="button" id="pb-zoom-in" data-i18n-attr="title:playback.zoom_in,aria-label:playback.zoom_in">+</button>
          <span class="pb-sep"></span>
          <button type="button" id="pb-mark-in" data-i18n="playback.mark_in"></button>
          <button type="button" id="pb-mark-out" data-i18n="playback.mark_out"></button>
          <button type="button" id="pb-clear" data-i18n="playback.clear"></button>
          <a class="button" id="pb-download" data-i18n="playback.download" download></a>
        </div>
        <p class="muted pb-selection" id="pb-selection"></p>
        <div id="pb-timeline"></div>
        <div class="pb-legend muted">
          <span class="pb-key pb-key-recorded" data-i18n="playback.legend_recorded"></span>
          <span class="pb-key pb-key-gap" data-i18n="playback.legend_gap"></span>
          <span class="pb-key pb-key-motion" data-i18n="playback.legend_motion"></span>
          <span class="pb-key pb-key-alert" data-i18n="playback.legend_alert"></span>
        </div>
      </section>
    </div>`;
  renderSources();
  apply(view);
}

function renderSources() {
  const list = view.querySelector("#pb-source-list");
  list.replaceChildren();
  if (!state.sources.length) {
    const p = document.createElement("p");
    p.className = "muted";
    p.dataset.i18n = "playback.no_sources";
    list.append(p);
    return;
  }
  for (const kind of ["camera", "vehicle"]) {
    const items = state.sources.filter((s) => s.kind === kind);
    if (!items.length) continue;
    const h = document.createElement("h3");
    h.dataset.i18n = kind === "camera" ? "playback.cameras" : "playback.vehicles";
    list.append(h);
    for (const s of items) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "pb-source";
      b.dataset.source = s.id;
      b.textContent = localName(s);
      b.setAttribute("aria-pressed", String(state.source?.id === s.id));
      b.addEventListener("click", () => choose(s, null));
      list.append(b);
    }
  }
}

function say(key, params) {
  state.message = key;
  const el = view.querySelector("#pb-message");
  el.hidden = !key;
  el.textContent = key ? t(key, params) : "";
}

function showTime(ms) {
  timeline.setCursor(ms);
  view.querySelector("#pb-clock").textContent = `${zonedParts(ms, ctx.timezone).date} ${clock(ms)}`;
  view.querySelector("#pb-player").dataset.time = String(Math.round(ms));
  const input = view.querySelector("#pb-time");
  if (document.activeElement !== input) input.value = clock(ms);
}

function showSelection() {
  const sel = state.selection;
  const text = view.querySelector("#pb-selection");
  const link = view.querySelector("#pb-download");
  if (!sel || !state.source) {
    text.textContent = t("playback.no_selection");
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    timeline?.setSelection(null);
    return;
  }
  const [a, b] = sel;
  const seconds = Math.round((b - a) / 1000);
  const duration = seconds >= 60 ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}` : `${seconds} s`;
  text.textContent = t("playback.selection", { start: clock(a), end: clock(b), duration });
  const q = new URLSearchParams({ start: iso(a), end: iso(b), token: state.token });
  link.href = `${base(state.source)}/clip.mp4?${q}`;
  link.removeAttribute("aria-disabled");
  timeline.setSelection(a, b);
}

function setPlaying(playing) {
  const b = view.querySelector("#pb-play");
  b.dataset.i18n = playing ? "playback.pause" : "playback.play";
  b.textContent = t(b.dataset.i18n);
}

async function loadDay() {
  const source = state.source;
  const [d0, d1] = state.day;
  const rec = await api(`${base(source)}/recordings?start=${iso(d0)}&end=${iso(d1)}`);
  if (source !== state.source) return;
  state.token = rec.token;
  state.spans = rec.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
  const now = Date.now();
  const marks = [];
  if (source.kind === "camera") {
    try {
      const motion = await api(`/api/cameras/${encodeURIComponent(source.ident)}/motion?start=${iso(d0)}&end=${iso(d1)}&limit=5000`);
      for (const m of motion) {
        marks.push({ kind: "motion", start: Date.parse(m.start), end: m.end ? Date.parse(m.end) : now, label: `${m.zone} ${clock(Date.parse(m.start))}` });
      }
    } catch (_) { /* marks are extra: the recordings still play */ }
  }
  try {
    const alerts = await api(`/api/alerts?since=${iso(d0 - 86400e3)}&limit=5000`);
    for (const a of alerts) {
      if (a.source.type !== source.kind || a.source.id !== source.ident) continue;
      const start = Date.parse(a.raised_at);
      const end = a.resolved_at ? Date.parse(a.resolved_at) : now;
      if (start > d1 || end < d0) continue;
      // Said in the page's language from the alert's kind (its message is in the site's).
      const what = a.kind === "intrusion" && a.metric ? `${alertKind(a)} · ${a.metric}` : alertKind(a);
      marks.push({ kind: "alert", severity: a.severity, start, end, label: `${t(`severity.${a.severity}`)} · ${what}` });
    }
  } catch (_) { /* as above */ }
  timeline.setLanes([{ id: source.id, label: "", spans: state.spans, marks }]);
  const hours = rec.spans.reduce((n, s) => n + (Date.parse(s.end) - Date.parse(s.start)), 0) / 3600e3;
  view.querySelector("#pb-summary").textContent = state.spans.length
    ? t("playback.summary", { hours: hours.toFixed(1), gaps: Math.max(0, state.spans.length - 1) })
    : t("playback.day_none");
  showSelection();
}

function dayOf(ms) {
  const date = zonedParts(ms, ctx.timezone).date;
  const start = zonedTime(date, "00:00:00", ctx.timezone);
  const next = zonedParts(start + 36 * 3600e3, ctx.timezone).date;
  return { date, bounds: [start, zonedTime(next, "00:00:00", ctx.timezone)] };
}

async function choose(source, at) {
  state.source = source;
  const when = at ?? Date.now();
  const { date, bounds } = dayOf(when);
  state.date = date;
  state.day = bounds;
  state.selection = null;
  view.querySelector("#pb-name").textContent = localName(source);
  view.querySelector("#pb-date").value = date;
  for (const b of view.querySelectorAll(".pb-source")) b.setAttribute("aria-pressed", String(b.dataset.source === source.id));
  history.replaceState(null, "", `#source=${encodeURIComponent(source.id)}${at ? `&t=${iso(at)}` : ""}`);
  if (player) player.destroy();
  player = new RecordingPlayer(view.querySelector("#pb-player video"), {
    base: base(source),
    token: () => state.token,
    onTime: showTime,
    onState: (s, detail) => {
      setPlaying(s === "playing");
      if (s === "loading") say("playback.loading");
      else if (s === "ended") say("playback.ended");
      else if (s === "error") say(detail === "nothing" ? "playback.none" : "playback.error", { detail });
      else say(null);
    },
  });
  timeline.setBounds(state.day[0], state.day[1]);
  try {
    await loadDay();
  } catch (err) {
    say("playback.error", { detail: err.message });
    return;
  }
  // Start at the time asked for; else at the last recorded minute of the day.
  const last = state.spans.at(-1);
  const start = at ?? (last ? Math.max(last.start, last.end - 60e3) : null);
  if (start !== null) await seek(start);
  else say("playback.day_none");
}

async function seek(ms) {
  if (!state.source) return;
  if (ms < state.day[0] || ms >= state.day[1]) {
    await choose(state.source, ms);
    return;
  }
  timeline.setCursor(ms);
  const covered = state.spans.some((s) => ms >= s.start && ms < s.end);
  const ok = await player.seek(ms);
  if (ok && !covered) say("playback.none");
}

function wire() {
  timeline = createTimeline(view.querySelector("#pb-timeline"), {
    timezone: ctx.timezone,
    labels: { aria: t("playback.timeline") },
    onSeek: (ms) => seek(ms),
    onSelect: (a, b) => {
      state.selection = [a, b];
      showSelection();
    },
  });
  view.querySelector("#pb-date").addEventListener("change", (e) => {
    if (!e.target.value || !state.source) return;
    choose(state.source, zonedTime(e.target.value, "12:00:00", ctx.timezone)).catch(() => {});
  });
  view.querySelector("#pb-goto").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = view.querySelector("#pb-time").value;
    if (!/^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) || !state.date) {
      say("playback.bad_time");
      return;
    }
    seek(zonedTime(state.date, value, ctx.timezone));
  });
  view.querySelector("#pb-play").addEventListener("click", () => {
    if (!player) return;
    if (player.playing) player.pause();
    else player.play();
  });
  view.querySelector("#pb-step-back").addEventListener("click", () => player?.step(-1));
  view.querySelector("#pb-step-forward").addEventListener("click", () => player?.step(1));
  for (const b of view.querySelectorAll("[data-speed]")) {
    b.addEventListener("click", () => {
      player?.setRate(Number(b.dataset.speed));
      for (const o of view.querySelectorAll("[data-speed]")) o.setAttribute("aria-pressed", String(o === b));
    });
  }
  view.querySelector("#pb-zoom-in").addEventListener("click", () => timeline.zoom(1));
  view.querySelector("#pb-zoom-out").addEventListener("click", () => timeline.zoom(-1));
  const mark = (which) => {
    const at = player?.now() ?? timeline.cursor;
    if (at === null) return;
    const [a, b] = state.selection ?? [at, at];
    state.selection = which === "in" ? [at, Math.max(at, b)] : [Math.min(a, at), at];
    if (state.selection[1] - state.selection[0] < 1000) state.selection[1] = state.selection[0] + 1000;
    showSelection();
  };
  view.querySelector("#pb-mark-in").addEventListener("click", () => mark("in"));
  view.querySelector("#pb-mark-out").addEventListener("click", () => mark("out"));
  view.querySelector("#pb-clear").addEventListener("click", () => {
    state.selection = null;
    showSelection();
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select")) return;
    if (e.key === " ") {
      e.preventDefault();
      view.querySelector("#pb-play").click();
    } else if (e.key === "," || e.key === ".") {
      player?.step(e.key === "," ? -1 : 1);
    }
  });
}

function fromHash() {
  // Split by hand: URLSearchParams would read the "+" of a "+08:00" offset as a space.
  const q = new Map(
    location.hash.slice(1).split("&").filter(Boolean).map((kv) => {
      const [k, v = ""] = kv.split("=");
      return [decodeURIComponent(k), decodeURIComponent(v)];
    }),
  );
  const at = q.get("t") ? Date.parse(q.get("t")) : null;
  return { source: q.get("source"), at: Number.isFinite(at) ? at : null };
}

await boot();
document.title = t("playback.title");
try {
  const [cameras, vehicles] = await Promise.all([api("/api/cameras"), api("/api/vehicles")]);
  state.sources = [
    ...cameras.filter((c) => c.record !== false).map((c) => ({ ...c, id: `camera:${c.id}`, kind: "camera", ident: c.id })),
    ...vehicles.map((v) => ({ ...v, id: `vehicle:${v.id}`, kind: "vehicle", ident: v.id })),
  ];
  render();
  wire();
  const wanted = fromHash();
  const source = state.sources.find((s) => s.id === wanted.source) || state.sources[0];
  if (source) await choose(source, wanted.at);
} catch (err) {
  view.textContent = t("error.load", { detail: err instanceof ApiError ? err.detail : err.message });
}
// Today's recordings grow, and the media token is renewed with them.
refresh = setInterval(() => {
  if (state.source && state.day && Date.now() < state.day[1] + 60e3) loadDay().catch(() => {});
}, REFRESH_MS);
window.addEventListener("hashchange", () => {
  const wanted = fromHash();
  const source = state.sources.find((s) => s.id === wanted.source);
  if (source) choose(source, wanted.at);
});
document.addEventListener("ecc:language", () => {
  document.title = t("playback.title");
  setPlaying(player?.playing ?? false);
  if (state.message) say(state.message);
  showSelection();
});
window.addEventListener("pagehide", () => {
  clearInterval(refresh);
  player?.destroy();
});
