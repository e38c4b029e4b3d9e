// /wall: the operator's wall, for 1920×1080 and 3840×2160 screens watched from several metres.
// The video grid (js/videowall.js) with layouts, camera groups cycling on a timer and layouts
// saved per user (GET/PUT /api/me/layouts); the site map; the alert in front, with its sound
// and its cameras brought onto the wall; the alert list; a station drawer with its chart.
import { api, session } from "./api.js";
import { Alarm } from "./alarm.js";
import { AlertList } from "./alerts.js";
import * as events from "./events.js";
import { apply, extend, has, localName, t } from "./i18n.js";
import { createMap } from "./map.js";
import { alertQuantity, alertWhat, learnZones, levelName } from "./metrics.js";
import { badge, rank, worst } from "./severity.js";
import { boot, ctx, formatTime } from "./shell.js";
import { StationDrawer } from "./station-drawer.js";
import { createTalkback } from "./talkback.js";
import { DRAG_SOURCE, MAX_TILES, PRESETS, VideoWall } from "./videowall.js";

extend({
  "zh-CN": {
    "wall.title": "指挥大屏 · 应急指挥中心",
    "wall.tools": "大屏操作",
    "wall.layout": "画面",
    "wall.preset": "{n} 画面",
    "wall.custom": "自定义",
    "wall.group": "分组",
    "wall.group_none": "不选分组",
    "wall.site_groups": "站点分组",
    "wall.my_groups": "我的分组",
    "wall.group_next": "下一组",
    "wall.cycle": "轮巡 {s} 秒",
    "wall.sources": "设备",
    "wall.layouts": "布局",
    "wall.help": "快捷键",
    "wall.sources_title": "摄像机与指挥车",
    "wall.sources_cameras": "摄像机",
    "wall.sources_vehicles": "指挥车",
    "wall.sources_hint": "拖入画面，或选中画面后按 Enter 放入",
    "wall.source_put": "将 {name} 放入画面 {n}",
    "wall.source_offline": "离线",
    "wall.strip": "最新告警",
    "wall.calm": "无未确认告警",
    "wall.more": "另有 {n} 条未确认",
    "wall.ack": "确认",
    "wall.open_station": "监测站详情",
    "wall.sound_enable": "启用声音",
    "wall.sound_on": "声音：开",
    "wall.sound_off": "声音：关",
    "wall.sound_none": "无声音设备",
    "wall.sound_hint": "浏览器需要一次点击或按键后才能播放告警声音",
    "wall.alerts": "告警列表",
    "wall.layouts_title": "布局与分组",
    "wall.custom_title": "自定义画面",
    "wall.cols": "列",
    "wall.rows": "行",
    "wall.big": "第一个画面放大",
    "wall.apply": "应用",
    "wall.saved_title": "已保存的布局",
    "wall.saved_none": "暂无已保存的布局",
    "wall.load": "打开",
    "wall.delete": "删除",
    "wall.delete_label": "删除 {name}",
    "wall.load_label": "打开布局 {name}",
    "wall.name": "名称",
    "wall.save_layout": "保存当前布局",
    "wall.save_group": "当前画面存为分组",
    "wall.groups_none": "暂无自己的分组",
    "wall.name_needed": "请先输入名称",
    "wall.group_empty": "画面中没有摄像机或指挥车",
    "wall.save_failed": "保存失败：{detail}",
    "wall.close": "关闭",
    "wall.help_title": "快捷键",
    "wall.key_layout": "1 / 4 / 9 / 16 画面",
    "wall.key_custom": "自定义画面",
    "wall.key_group": "下一组（加 Shift：上一组）",
    "wall.key_cycle": "分组轮巡：开 / 关",
    "wall.key_ack": "确认最前面的告警",
    "wall.key_full": "选中的画面全屏（主码流，有声音）",
    "wall.key_wall_full": "整个大屏全屏",
    "wall.key_sources": "摄像机与指挥车列表",
    "wall.key_sound": "告警声音：开 / 关",
    "wall.key_alerts": "转到告警列表",
    "wall.key_tiles": "转到视频画面",
    "wall.key_arrows": "在画面间移动；Enter 全屏；Delete 清空画面",
    "wall.key_help": "显示或关闭本帮助",
    "wall.key_close": "关闭全屏、详情、布局或帮助",
  },
  en: {
    "wall.title": "Wall · Emergency Command Center",
    "wall.tools": "Wall controls",
    "wall.layout": "Layout",
    "wall.preset": "{n} tiles",
    "wall.custom": "Custom",
    "wall.group": "Group",
    "wall.group_none": "No group",
    "wall.site_groups": "Site groups",
    "wall.my_groups": "My groups",
    "wall.group_next": "Next",
    "wall.cycle": "Cycle {s} s",
    "wall.sources": "Sources",
    "wall.layouts": "Layouts",
    "wall.help": "Keys",
    "wall.sources_title": "Cameras and vehicles",
    "wall.sources_cameras": "Cameras",
    "wall.sources_vehicles": "Vehicles",
    "wall.sources_hint": "Drag into a tile, or choose a tile and press Enter here",
    "wall.source_put": "Put {name} into tile {n}",
    "wall.source_offline": "offline",
    "wall.strip": "Latest alert",
    "wall.calm": "No unacknowledged alerts",
    "wall.more": "{n} more unacknowledged",
    "wall.ack": "Acknowledge",
    "wall.open_station": "Station details",
    "wall.sound_enable": "Enable sound",
    "wall.sound_on": "Sound on",
    "wall.sound_off": "Sound off",
    "wall.sound_none": "No sound device",
    "wall.sound_hint": "Browsers play alarm sounds only after a click or a key press",
    "wall.alerts": "Alerts",
    "wall.layouts_title": "Layouts and groups",
    "wall.custom_title": "Custom layout",
    "wall.cols": "Columns",
    "wall.rows": "Rows",
    "wall.big": "Large first tile",
    "wall.apply": "Apply",
    "wall.saved_title": "Saved layouts",
    "wall.saved_none": "No saved layouts",
    "wall.load": "Open",
    "wall.delete": "Delete",
    "wall.delete_label": "Delete {name}",
    "wall.load_label": "Open the layout {name}",
    "wall.name": "Name",
    "wall.save_layout": "Save this layout",
    "wall.save_group": "Save the tiles as a group",
    "wall.groups_none": "No groups of your own",
    "wall.name_needed": "Give a name first",
    "wall.group_empty": "No camera or vehicle in the tiles",
    "wall.save_failed": "Could not save: {detail}",
    "wall.close": "Close",
    "wall.help_title": "Keyboard shortcuts",
    "wall.key_layout": "1 / 4 / 9 / 16 tiles",
    "wall.key_custom": "Custom layout",
    "wall.key_group": "Next group (with Shift: previous)",
    "wall.key_cycle": "Cycle groups: on / off",
    "wall.key_ack": "Acknowledge the alert in front",
    "wall.key_full": "Selected tile full screen (main stream, with sound)",
    "wall.key_wall_full": "Whole wall full screen",
    "wall.key_sources": "Camera and vehicle list",
    "wall.key_sound": "Alarm sound: on / off",
    "wall.key_alerts": "Go to the alert list",
    "wall.key_tiles": "Go to the video tiles",
    "wall.key_arrows": "Move between tiles; Enter full screen; Delete empties a tile",
    "wall.key_help": "Show or hide this help",
    "wall.key_close": "Close full screen, details, layouts or help",
  },
});

// Shortcuts: the key, how the help shows it, what it does (a catalogue key).
const SHORTCUTS = [
  { keys: ["1", "2", "3", "4"], help: "wall.key_layout" },
  { keys: ["5"], help: "wall.key_custom" },
  { keys: ["G"], help: "wall.key_group" },
  { keys: ["T"], help: "wall.key_cycle" },
  { keys: ["A"], help: "wall.key_ack" },
  { keys: ["F"], help: "wall.key_full" },
  { keys: ["Shift", "F"], help: "wall.key_wall_full", chord: true },
  { keys: ["S"], help: "wall.key_sources" },
  { keys: ["M"], help: "wall.key_sound" },
  { keys: ["L"], help: "wall.key_alerts" },
  { keys: ["V"], help: "wall.key_tiles" },
  { keys: ["←", "↑", "→", "↓"], help: "wall.key_arrows" },
  { keys: ["?"], help: "wall.key_help" },
  { keys: ["Esc"], help: "wall.key_close" },
];
const ALERTING = rank("warning"); // an alert in front: warning and above
const ALARMING = rank("danger"); // with a sound: danger and above
const REPEAT_ALARM_MS = 30000; // the sound comes back while a danger alert waits for an ack
const NEARBY_CAMERAS = 2;
const TRAIL_S = 15 * 60; // a vehicle's trail on the map, as map.js keeps it
const SAVE_DELAY_MS = 400;

const view = document.getElementById("view");
view.innerHTML = `
  <section class="wall-strip" id="wall-strip" data-i18n-attr="aria-label:wall.strip">
    <div class="strip-alert" id="strip-alert" role="status" aria-live="assertive"></div>
    <button type="button" id="sound" class="sound" data-alarm-control data-i18n-attr="title:wall.sound_hint"></button>
  </section>
  <section class="wall-main">
    <div class="wall-tools" role="toolbar" data-i18n-attr="aria-label:wall.tools">
      <div class="seg" role="group" aria-labelledby="wall-layout-label">
        <span class="seg-label" id="wall-layout-label" data-i18n="wall.layout"></span>
        ${Object.keys(PRESETS).map((n) => `<button type="button" data-preset="${n}">${n}</button>`).join("")}
        <button type="button" data-preset="custom" data-i18n="wall.custom"></button>
      </div>
      <div class="seg" role="group" aria-labelledby="wall-group-label">
        <label class="seg-label" id="wall-group-label" for="group-select" data-i18n="wall.group"></label>
        <select id="group-select"></select>
        <button type="button" id="group-next" data-i18n="wall.group_next"></button>
        <button type="button" id="cycle" aria-pressed="false"></button>
      </div>
      <div class="seg tools-end">
        <button type="button" id="sources-toggle" aria-pressed="false" aria-controls="wall-sources" data-i18n="wall.sources"></button>
        <button type="button" id="layouts-toggle" aria-expanded="false" aria-controls="layouts-pop" data-i18n="wall.layouts"></button>
        <button type="button" id="help-toggle" aria-expanded="false" aria-controls="wall-help" data-i18n="wall.help"></button>
      </div>
    </div>
    <div class="wall-videos">
      <aside class="wall-sources" id="wall-sources" aria-labelledby="sources-title" hidden>
        <h2 id="sources-title" data-i18n="wall.sources_title"></h2>
        <p class="muted" data-i18n="wall.sources_hint"></p>
        <h3 data-i18n="wall.sources_cameras"></h3>
        <ul class="source-list" id="source-cameras"></ul>
        <h3 data-i18n="wall.sources_vehicles"></h3>
        <ul class="source-list" id="source-vehicles"></ul>
      </aside>
      <div class="wall-grid-wrap" id="wall-grid-wrap">
        <div id="wall-grid"></div>
      </div>
    </div>
    <div class="wall-pop" id="layouts-pop" role="dialog" aria-labelledby="layouts-title" data-layer="pop" hidden>
      <div class="pop-head">
        <h2 id="layouts-title" data-i18n="wall.layouts_title"></h2>
        <button type="button" class="pop-close" data-i18n="wall.close"></button>
      </div>
      <h3 data-i18n="wall.custom_title"></h3>
      <div class="pop-row">
        <label><span data-i18n="wall.cols"></span> <select id="custom-cols">${[1, 2, 3, 4].map((n) => `<option>${n}</option>`).join("")}</select></label>
        <label><span data-i18n="wall.rows"></span> <select id="custom-rows">${[1, 2, 3, 4].map((n) => `<option>${n}</option>`).join("")}</select></label>
        <label><input type="checkbox" id="custom-big"> <span data-i18n="wall.big"></span></label>
        <button type="button" id="custom-apply" data-i18n="wall.apply"></button>
      </div>
      <h3 data-i18n="wall.saved_title"></h3>
      <ul class="pop-list" id="saved-list"></ul>
      <h3 data-i18n="wall.my_groups"></h3>
      <ul class="pop-list" id="user-groups"></ul>
      <div class="pop-row">
        <input id="save-name" maxlength="60" data-i18n-attr="aria-label:wall.name,placeholder:wall.name">
        <button type="button" id="save-layout" data-i18n="wall.save_layout"></button>
        <button type="button" id="save-group" data-i18n="wall.save_group"></button>
      </div>
      <p class="pop-status" id="pop-status" role="status"></p>
    </div>
  </section>
  <section class="wall-side">
    <div id="wall-map" class="wall-map"></div>
    <div class="wall-panel">
      <section class="wall-alerts" id="wall-alerts" aria-labelledby="wall-alerts-title">
        <h2 id="wall-alerts-title" class="panel-title" data-i18n="wall.alerts"></h2>
        <div id="alert-list"></div>
      </section>
      <aside class="wall-drawer" id="wall-drawer" hidden></aside>
    </div>
  </section>
  <div class="wall-help" id="wall-help" role="dialog" aria-modal="true" aria-labelledby="help-title" data-layer="help" hidden>
    <div class="help-card">
      <div class="pop-head">
        <h2 id="help-title" data-i18n="wall.help_title"></h2>
        <button type="button" class="help-close" data-i18n="wall.close"></button>
      </div>
      <table class="help-keys"><tbody>
        ${SHORTCUTS.map(
          (s) => `<tr><th scope="row">${s.keys.map((k) => `<kbd>${k}</kbd>`).join(s.chord ? " + " : " ")}</th><td data-i18n="${s.help}"></td></tr>`,
        ).join("")}
      </tbody></table>
    </div>
  </div>`;

const $ = (sel) => view.querySelector(sel);
const token = () => session()?.token;
const cameras = new Map(); // id -> camera (GET /api/cameras), status kept current
const vehicles = new Map();
const stations = new Map();
const alerts = new Map(); // every alert this page knows, by id
const linked = new Map(); // alert id -> sources it brought onto the wall
let canManage = false;
let doc = { current: null, saved: [], groups: [] }; // GET /api/me/layouts
let group = { id: null, page: 0 };
let cycle = { on: false, seconds: 30, timer: null };
let map = null;
let list = null;
let saveTimer = null;
let shownFront = null;

// --- sources: cameras and vehicles ----------------------------------------------------------

function resolve(source) {
  const [kind, id] = source.split(":");
  const item = kind === "camera" ? cameras.get(id) : kind === "vehicle" ? vehicles.get(id) : null;
  if (!item) return null;
  const path = `/api/whep/${kind}:${encodeURIComponent(id)}`;
  return {
    item,
    name: () => localName(item),
    // A vehicle publishes one stream: its tiles watch it too.
    url: (stream) => (kind === "camera" ? `${path}?stream=${stream}` : path),
    // Full screen, a vehicle's picture comes with talkback for those who may talk.
    panel: kind === "vehicle" && ctx.me.permissions.includes("talkback") ? () => createTalkback(item, { token }) : null,
  };
}

const wall = new VideoWall($("#wall-grid"), {
  full: $("#wall-grid-wrap"),
  resolve,
  token,
  // Tiles the operator changes by hand are no longer the group's: a new grid keeps them.
  onChange: () => {
    group = { id: null, page: 0 };
    renderTools();
    scheduleSave();
  },
  onFull: () => renderTools(),
});

function sourceItem(source, item) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "source";
  b.draggable = true;
  b.dataset.source = source;
  const name = document.createElement("span");
  name.className = "source-name";
  name.textContent = localName(item);
  b.append(name);
  // A camera's worker, or a vehicle's link, says it is offline.
  if (item.status && item.status.online === false) {
    const off = document.createElement("span");
    off.className = "source-off";
    off.textContent = t("wall.source_offline");
    b.append(off);
  }
  b.setAttribute("aria-label", t("wall.source_put", { name: localName(item), n: wall.target() + 1 }));
  li.append(b);
  return li;
}

function renderSources() {
  $("#source-cameras").replaceChildren(...[...cameras.values()].map((c) => sourceItem(`camera:${c.id}`, c)));
  $("#source-vehicles").replaceChildren(...[...vehicles.values()].map((v) => sourceItem(`vehicle:${v.id}`, v)));
}

function putSource(source) {
  const i = wall.target();
  wall.place(i, source);
  // The next tile is chosen, so a wall is filled one source after another.
  wall.select(i + 1 < wall.grid.count ? i + 1 : i);
  renderSources();
}

$("#wall-sources").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-source]");
  if (b) putSource(b.dataset.source);
});
$("#wall-sources").addEventListener("dragstart", (e) => {
  const b = e.target.closest("button[data-source]");
  if (!b) return;
  e.dataTransfer.setData(DRAG_SOURCE, b.dataset.source);
  e.dataTransfer.effectAllowed = "copy";
});
$("#wall-grid").addEventListener("focusin", () => renderSources());

// --- groups and cycling ---------------------------------------------------------------------

function groups() {
  const site = (ctx.site.groups || []).map((g) => ({
    id: g.id,
    item: g,
    sources: g.cameras.map((c) => `camera:${c}`),
    dwell: g.dwell_s,
  }));
  const mine = doc.groups.map((g) => ({ id: g.id, item: g, sources: g.sources, dwell: null }));
  return [...site, ...mine];
}

function groupById(id) {
  return groups().find((g) => g.id === id) || null;
}

function showGroup(id, page = 0, { user = true } = {}) {
  const g = groupById(id);
  group = { id: g ? g.id : null, page };
  if (g) {
    const n = wall.grid.count;
    wall.setSources(g.sources.slice(page * n, page * n + n));
  }
  renderTools();
  if (user) scheduleSave();
  if (cycle.on) schedule();
}

/** The next page of the group, or the next group (dir -1: back). */
function stepGroup(dir = 1, { user = true } = {}) {
  const all = groups();
  if (!all.length) return;
  const n = wall.grid.count;
  const g = groupById(group.id);
  if (g) {
    const pages = Math.max(1, Math.ceil(g.sources.length / n));
    const page = group.page + dir;
    if (page >= 0 && page < pages) return showGroup(g.id, page, { user });
  }
  const i = g ? all.findIndex((x) => x.id === g.id) : -1;
  const next = all[(i + dir + all.length) % all.length];
  const pages = Math.max(1, Math.ceil(next.sources.length / n));
  showGroup(next.id, dir > 0 ? 0 : pages - 1, { user });
}

// While an alert's cameras are on the wall, or a tile is full screen, cycling holds still
// (it looks again at its next turn).
function holding() {
  return Boolean(wall.full) || [...linked.keys()].some((id) => alerts.get(id)?.state === "active");
}

function schedule() {
  clearTimeout(cycle.timer);
  if (!cycle.on) return;
  const g = groupById(group.id);
  const seconds = (g && g.dwell) || cycle.seconds;
  cycle.timer = setTimeout(() => {
    if (!holding()) stepGroup(1, { user: false });
    else schedule();
  }, seconds * 1000);
}

function setCycle(on) {
  cycle.on = on;
  if (on && !groupById(group.id)) stepGroup(1, { user: false });
  schedule();
  renderTools();
  scheduleSave();
}

// --- layouts: what is on the wall, saved per user -------------------------------------------

function currentLayout() {
  return {
    preset: wall.layout.preset,
    custom: { ...wall.layout.custom },
    tiles: wall.sources.slice(0, MAX_TILES),
    group: group.id,
    cycle: cycle.on,
    cycle_s: cycle.seconds,
  };
}

function applyLayout(layout) {
  wall.setLayout({ preset: layout.preset, custom: layout.custom });
  wall.setSources(layout.tiles || []);
  group = { id: groupById(layout.group) ? layout.group : null, page: 0 };
  cycle.seconds = layout.cycle_s || 30;
  cycle.on = Boolean(layout.cycle);
  schedule();
  renderTools();
}

function setPreset(preset) {
  wall.setLayout({ preset });
  // A group fills what the new grid holds.
  if (group.id) showGroup(group.id, 0, { user: false });
  renderTools();
  scheduleSave();
}

function scheduleSave() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, SAVE_DELAY_MS);
}

async function save() {
  doc = { ...doc, current: currentLayout() };
  try {
    doc = await api("/api/me/layouts", { method: "PUT", body: doc });
    view.dataset.saved = String(Number(view.dataset.saved || 0) + 1);
  } catch (err) {
    popStatus(t("wall.save_failed", { detail: err.detail || err.message }), true);
  }
}

async function loadLayouts() {
  // On a first visit, the center answers with the site's first group.
  doc = await api("/api/me/layouts");
  applyLayout(doc.current);
}

// --- toolbar, popover, help -----------------------------------------------------------------

function renderTools() {
  for (const b of view.querySelectorAll("[data-preset]")) {
    b.setAttribute("aria-pressed", String(b.dataset.preset === wall.layout.preset));
    if (b.dataset.preset !== "custom") b.setAttribute("aria-label", t("wall.preset", { n: b.dataset.preset }));
  }
  const select = $("#group-select");
  const options = [`<option value="" data-i18n="wall.group_none"></option>`];
  const site = ctx.site.groups || [];
  if (site.length) {
    options.push(`<optgroup data-i18n-attr="label:wall.site_groups">`);
    for (const g of site) options.push(`<option value="${g.id}"></option>`);
    options.push("</optgroup>");
  }
  if (doc.groups.length) {
    options.push(`<optgroup data-i18n-attr="label:wall.my_groups">`);
    for (const g of doc.groups) options.push(`<option value="${g.id}"></option>`);
    options.push("</optgroup>");
  }
  select.innerHTML = options.join("");
  for (const o of select.options) {
    const g = groupById(o.value);
    if (g) o.textContent = localName(g.item);
  }
  select.value = group.id || "";
  const cycleBtn = $("#cycle");
  cycleBtn.setAttribute("aria-pressed", String(cycle.on));
  cycleBtn.textContent = t("wall.cycle", { s: cycle.seconds });
  const sources = $("#wall-sources");
  $("#sources-toggle").setAttribute("aria-pressed", String(!sources.hidden));
  $("#custom-cols").value = String(wall.layout.custom.cols);
  $("#custom-rows").value = String(wall.layout.custom.rows);
  $("#custom-big").checked = Boolean(wall.layout.custom.big);
  renderPop();
  apply($(".wall-tools"));
}

function renderPop() {
  const saved = $("#saved-list");
  saved.replaceChildren(
    ...doc.saved.map((s, i) => popItem(s.name, `layout:${i}`)),
  );
  if (!doc.saved.length) saved.append(mutedItem("wall.saved_none"));
  const mine = $("#user-groups");
  mine.replaceChildren(...doc.groups.map((g) => popItem(g.name, `group:${g.id}`, false)));
  if (!doc.groups.length) mine.append(mutedItem("wall.groups_none"));
  apply($("#layouts-pop"));
}

function popItem(name, ref, loadable = true) {
  const li = document.createElement("li");
  const span = document.createElement("span");
  span.className = "pop-name";
  span.textContent = name;
  li.append(span);
  if (loadable) {
    const open = document.createElement("button");
    open.type = "button";
    open.dataset.ref = ref;
    open.dataset.act = "load";
    open.textContent = t("wall.load");
    open.setAttribute("aria-label", t("wall.load_label", { name }));
    li.append(open);
  }
  const del = document.createElement("button");
  del.type = "button";
  del.dataset.ref = ref;
  del.dataset.act = "delete";
  del.textContent = t("wall.delete");
  del.setAttribute("aria-label", t("wall.delete_label", { name }));
  li.append(del);
  return li;
}

function mutedItem(key) {
  const li = document.createElement("li");
  li.className = "muted";
  li.textContent = t(key);
  return li;
}

function popStatus(text, error = false) {
  const el = $("#pop-status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function togglePop(open = $("#layouts-pop").hidden) {
  $("#layouts-pop").hidden = !open;
  $("#layouts-toggle").setAttribute("aria-expanded", String(open));
  popStatus("");
  if (open) {
    renderPop();
    $("#custom-cols").focus();
  } else {
    $("#layouts-toggle").focus();
  }
}

function toggleHelp(open = $("#wall-help").hidden) {
  const help = $("#wall-help");
  help.hidden = !open;
  $("#help-toggle").setAttribute("aria-expanded", String(open));
  if (open) {
    help.querySelector(".help-close").focus();
  } else {
    $("#help-toggle").focus();
  }
}

function toggleSources(open = $("#wall-sources").hidden) {
  $("#wall-sources").hidden = !open;
  renderSources();
  renderTools();
  if (open) $("#wall-sources button[data-source]")?.focus();
}

function savedName() {
  const name = $("#save-name").value.trim();
  if (!name) {
    popStatus(t("wall.name_needed"), true);
    $("#save-name").focus();
    return null;
  }
  return name;
}

view.querySelector(".wall-tools").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (!b) return;
  if (b.dataset.preset) setPreset(b.dataset.preset);
  else if (b.id === "group-next") stepGroup(1);
  else if (b.id === "cycle") setCycle(!cycle.on);
  else if (b.id === "sources-toggle") toggleSources();
  else if (b.id === "layouts-toggle") togglePop();
  else if (b.id === "help-toggle") toggleHelp();
});
$("#group-select").addEventListener("change", (e) => {
  if (e.target.value) showGroup(e.target.value);
  else {
    group = { id: null, page: 0 };
    renderTools();
    scheduleSave();
  }
});
$("#layouts-pop").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (!b) return;
  if (b.classList.contains("pop-close")) return togglePop(false);
  if (b.id === "custom-apply") {
    const custom = {
      cols: Number($("#custom-cols").value),
      rows: Number($("#custom-rows").value),
      big: $("#custom-big").checked,
    };
    if (custom.cols < 2 || custom.rows < 2) custom.big = false;
    wall.setLayout({ preset: "custom", custom });
    if (group.id) showGroup(group.id, 0, { user: false });
    renderTools();
    scheduleSave();
  } else if (b.id === "save-layout") {
    const name = savedName();
    if (!name) return;
    // A named layout is a grid and its tiles; groups and cycling stay with the wall.
    const { preset, custom, tiles } = currentLayout();
    doc.saved = [...doc.saved.filter((s) => s.name !== name), { name, layout: { preset, custom, tiles } }];
    $("#save-name").value = "";
    renderPop();
    save();
  } else if (b.id === "save-group") {
    const name = savedName();
    if (!name) return;
    const sources = wall.visible().filter(Boolean);
    if (!sources.length) return popStatus(t("wall.group_empty"), true);
    const id = `u-${Date.now().toString(36)}`;
    doc.groups = [...doc.groups, { id, name, sources }];
    group = { id, page: 0 };
    $("#save-name").value = "";
    renderTools();
    save();
  } else if (b.dataset.act) {
    const [kind, ref] = b.dataset.ref.split(/:(.*)/s);
    if (kind === "layout" && b.dataset.act === "load") {
      const saved = doc.saved[Number(ref)];
      if (saved) applyLayout({ ...saved.layout, group: null, cycle: false, cycle_s: cycle.seconds });
      togglePop(false);
      scheduleSave();
    } else if (kind === "layout") {
      doc.saved = doc.saved.filter((_, i) => i !== Number(ref));
      renderPop();
      save();
    } else if (kind === "group") {
      doc.groups = doc.groups.filter((g) => g.id !== ref);
      if (group.id === ref) group = { id: null, page: 0 };
      renderTools();
      save();
    }
  }
});
$("#wall-help").addEventListener("click", (e) => {
  if (e.target.closest(".help-close") || e.target === $("#wall-help")) toggleHelp(false);
});

// --- the map --------------------------------------------------------------------------------

function stationSeverity(id) {
  return worst(
    [...alerts.values()]
      .filter((a) => a.state !== "resolved" && a.source.type === "station" && a.source.id === id)
      .map((a) => a.severity),
  );
}

function paintStation(id) {
  const s = stations.get(id);
  if (!s) return;
  s.alert_severity = stationSeverity(id);
  map?.updateStation(id, { alert_severity: s.alert_severity, online: s.online });
}

// --- alerts: the one in front, its sound, its cameras ---------------------------------------

const alarm = new Alarm({ onChange: () => renderSound() });

function renderSound() {
  const b = $("#sound");
  const state = alarm.state;
  b.dataset.state = state;
  b.dataset.i18n = { blocked: "wall.sound_enable", on: "wall.sound_on", off: "wall.sound_off", none: "wall.sound_none" }[state];
  b.setAttribute("aria-pressed", String(state === "on"));
  b.disabled = state === "none";
  b.textContent = t(b.dataset.i18n);
}

function toggleSound() {
  if (alarm.state === "blocked") alarm.unlock();
  else if (alarm.state !== "none") alarm.setMuted(!alarm.muted);
}
$("#sound").addEventListener("click", toggleSound);

function sourceName(source) {
  const item = source.type === "station" ? stations.get(source.id) : source.type === "camera" ? cameras.get(source.id) : vehicles.get(source.id);
  const name = item ? localName(item) : source.id;
  if (source.type === "camera") return t("alerts.source_camera", { name });
  return name;
}

function kindText(a) {
  return alertWhat(a);
}

function valueText(a) {
  if (a.value === null || a.value === undefined) return "";
  const value = alertQuantity(a, a.value);
  if (a.threshold === null || a.threshold === undefined) return value;
  // As the alert list says it (js/alerts.js): a rate of rise is against its limit.
  const level = a.kind === "rise" && has("level.rise") ? t("level.rise") : levelName(a.metric || "", a.severity);
  return t("alerts.value_of", { value, level, threshold: alertQuantity(a, a.threshold) });
}

/** Active alerts at warning and above, worst first, then newest. */
function waiting() {
  return [...alerts.values()]
    .filter((a) => a.state === "active" && rank(a.severity) >= ALERTING)
    .sort((a, b) => rank(b.severity) - rank(a.severity) || Date.parse(b.raised_at) - Date.parse(a.raised_at));
}

function renderStrip() {
  const el = $("#strip-alert");
  const all = waiting();
  const a = all[0];
  const strip = $("#wall-strip");
  strip.dataset.severity = a ? a.severity : "";
  el.dataset.alertId = a ? a.id : "";
  if (!a) {
    const calm = document.createElement("span");
    calm.className = "strip-calm";
    calm.textContent = t("wall.calm");
    el.replaceChildren(calm);
    shownFront = null;
    return;
  }
  const parts = [
    badge(a.severity),
    span("strip-source", sourceName(a.source)),
    span("strip-what", kindText(a)),
    span("strip-value num", valueText(a)),
    span("strip-time num", formatTime(a.raised_at)),
  ];
  if (all.length > 1) parts.push(span("strip-more", t("wall.more", { n: all.length - 1 })));
  if (canManage) {
    const ack = document.createElement("button");
    ack.type = "button";
    ack.className = "primary";
    ack.dataset.action = "ack";
    ack.append(t("wall.ack"), " ", kbd("A"));
    ack.setAttribute("aria-label", t("alerts.ack_label", { source: sourceName(a.source), kind: kindText(a) }));
    parts.push(ack);
  }
  if (a.source.type === "station" && stations.has(a.source.id)) {
    const open = document.createElement("button");
    open.type = "button";
    open.dataset.action = "station";
    open.textContent = t("wall.open_station");
    parts.push(open);
  }
  el.replaceChildren(...parts);
  if (shownFront !== a.id) {
    shownFront = a.id;
    strip.classList.remove("is-new");
    void strip.offsetWidth; // restart the attention animation
    strip.classList.add("is-new");
  }
}

function span(className, text) {
  const s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

function kbd(key) {
  const k = document.createElement("kbd");
  k.textContent = key;
  return k;
}

$("#strip-alert").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-action]");
  const id = $("#strip-alert").dataset.alertId;
  if (!b || !id) return;
  if (b.dataset.action === "ack") acknowledge(id);
  else openDrawer(alerts.get(id).source.id, b);
});

async function acknowledge(id = waiting()[0]?.id) {
  if (!id || !canManage || alerts.get(id)?.state !== "active") return;
  await list.act(id, "ack");
  const changed = list.alerts.get(id);
  if (changed) onAlert(changed, { quiet: true });
}

/** How much larger than on a 1920 px screen things are drawn (css/wall.css sizes by width). */
function scale() {
  return Math.max(1, Number.parseFloat(getComputedStyle(document.body).fontSize) / 17);
}

function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

/** A station's cameras: those configured, or else the nearest within the site's radius. */
function stationCameras(s) {
  if (s.cameras.length) return { nearby: false, ids: s.cameras.filter((id) => cameras.has(id)) };
  const radius = ctx.site.linked_camera_radius_m ?? 5000;
  const ids = [...cameras.values()]
    .map((c) => ({ id: c.id, d: distanceM(s, c) }))
    .filter((c) => c.d <= radius)
    .sort((x, y) => x.d - y.d)
    .slice(0, NEARBY_CAMERAS)
    .map((c) => c.id);
  return { nearby: true, ids };
}

function alertSources(a) {
  if (a.source.type === "station") {
    const s = stations.get(a.source.id);
    return s ? stationCameras(s).ids.map((id) => `camera:${id}`) : [];
  }
  if (a.source.type === "camera" && cameras.has(a.source.id)) return [`camera:${a.source.id}`];
  if (a.source.type === "vehicle" && vehicles.has(a.source.id)) return [`vehicle:${a.source.id}`];
  return [];
}

// An alert in front brings its cameras onto the wall, marked with its severity.
function link(a) {
  const sources = alertSources(a);
  if (!sources.length) return;
  linked.set(a.id, sources);
  wall.bring(sources);
  remark();
}

function remark() {
  const marks = new Map();
  for (const [id, sources] of linked) {
    const a = alerts.get(id);
    if (!a || a.state !== "active") {
      linked.delete(id);
      continue;
    }
    for (const s of sources) {
      const m = marks.get(s);
      if (!m || rank(a.severity) > rank(m.severity)) marks.set(s, { severity: a.severity, label: sourceName(a.source) });
    }
  }
  for (const s of new Set([...wall.marks.keys(), ...marks.keys()])) wall.mark(s, marks.get(s) || null);
}

function newer(a, b) {
  return !b || Date.parse(a.updated_at || a.raised_at) >= Date.parse(b.updated_at || b.raised_at);
}

function onAlert(a, { quiet = false } = {}) {
  const before = alerts.get(a.id);
  if (!newer(a, before)) return;
  alerts.set(a.id, a);
  list.upsert(a);
  const worse = !before || rank(a.severity) > rank(before.severity);
  if (!quiet && a.state === "active" && worse && rank(a.severity) >= ALERTING) {
    link(a);
    if (rank(a.severity) >= ALARMING) alarm.play(a.severity);
  }
  renderStrip();
  remark();
  if (a.source.type === "station") {
    paintStation(a.source.id);
    if (drawer.id === a.source.id) drawer.render();
  }
}

// The sound comes back while a danger alert still waits for someone to acknowledge it.
setInterval(() => {
  const a = waiting()[0];
  if (a && rank(a.severity) >= ALARMING) alarm.play(a.severity);
}, REPEAT_ALARM_MS);

// --- station drawer -------------------------------------------------------------------------

const drawer = new StationDrawer($("#wall-drawer"), {
  cameras,
  camerasOf: (s) => stationCameras(s),
  radiusKm: () => Math.round((ctx.site.linked_camera_radius_m ?? 5000) / 100) / 10,
  onShow: (id) => {
    const source = `camera:${id}`;
    if (!wall.visible().includes(source)) wall.place(wall.target(), source);
  },
  // Text on the chart's canvas follows the screen like the rest of the wall.
  chartStyle: () => ({
    height: Math.max(140, Math.round(view.querySelector(".wall-panel").clientHeight * 0.48)),
    fontSize: Math.round(12 * scale()),
  }),
  formatTime: (iso) => formatTime(iso),
  timezone: ctx.timezone,
  onClose: () => {
    $("#wall-alerts").hidden = false;
    map?.select(null);
  },
});
new ResizeObserver(() => drawer.resize()).observe(view.querySelector(".wall-panel"));

/** The station's drawer takes the alert list's place; the map marks the station. */
function openDrawer(id, from = null) {
  const s = stations.get(id);
  if (!s) return;
  $("#wall-alerts").hidden = true;
  map?.select(id); // the wall frames the whole district: no need to pan
  drawer.open(s, from || document.activeElement);
}

function onReading(r) {
  const s = stations.get(r.station_id);
  if (!s) return;
  for (const [metric, value] of Object.entries(r.values || {})) {
    const cur = s.latest[metric];
    if (!cur || Date.parse(cur.ts) <= Date.parse(r.ts)) s.latest[metric] = { ts: r.ts, value };
  }
  s.online = true;
  drawer.reading(r);
}

// Each vehicle's last minutes on the map: its trail, and its marker where it is now.
async function trails() {
  const start = new Date(Date.now() - TRAIL_S * 1000).toISOString();
  await Promise.all(
    [...vehicles.values()]
      .filter((v) => v.position)
      .map(async (v) => {
        let track = [v.position];
        try {
          track = await api(`/api/vehicles/${encodeURIComponent(v.id)}/track?start=${encodeURIComponent(start)}`);
        } catch (_) {
          /* the newest position alone still places the vehicle */
        }
        for (const p of track.length ? track : [v.position]) map.position({ ...p, vehicle_id: v.id });
      }),
  );
}

// --- keyboard -------------------------------------------------------------------------------

function typing(target) {
  return target.closest("input, select, textarea, [contenteditable]") !== null;
}

async function wallFullScreen() {
  try {
    if (document.fullscreenElement) await document.exitFullscreen();
    else await document.documentElement.requestFullscreen();
  } catch (_) {
    /* refused (no gesture, or a kiosk that is full screen already): nothing to undo */
  }
}

/** Esc: the innermost thing open closes (help, layouts, full screen, station); false: none. */
function closeSomething() {
  if (!$("#wall-help").hidden) {
    toggleHelp(false);
    return true;
  }
  if (!$("#layouts-pop").hidden) {
    togglePop(false);
    return true;
  }
  return wall.closeFull() || drawer.close();
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape") {
    if (closeSomething()) e.preventDefault();
    return;
  }
  if (typing(e.target)) return;
  // The help is modal: the focus stays on it, and only its own keys (Esc, ?) work.
  if (!$("#wall-help").hidden) {
    if (e.key === "Tab") {
      e.preventDefault();
      $("#wall-help .help-close").focus();
      return;
    }
    if (e.key !== "?" && e.key.toLowerCase() !== "h") return;
  }
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const presets = { 1: "1", 2: "4", 3: "9", 4: "16", 5: "custom" };
  let done = true;
  if (key in presets && !e.shiftKey) setPreset(presets[key]);
  else if (key === "g") stepGroup(e.shiftKey ? -1 : 1);
  else if (key === "t") setCycle(!cycle.on);
  else if (key === "a") acknowledge();
  else if (key === "f" && e.shiftKey) wallFullScreen();
  else if (key === "f") {
    if (!wall.closeFull()) wall.openFull();
  } else if (key === "s") toggleSources();
  else if (key === "m") toggleSound();
  else if (key === "l") list.focus();
  else if (key === "v") wall.focus();
  else if (key === "?" || key === "h") toggleHelp();
  else done = false;
  if (done) e.preventDefault();
});

// --- loading --------------------------------------------------------------------------------

async function load() {
  const [cams, vehs, stationList, active, acked, recent] = await Promise.all([
    api("/api/cameras"),
    api("/api/vehicles"),
    api("/api/stations"),
    api("/api/alerts?state=active"),
    api("/api/alerts?state=acknowledged"),
    api("/api/alerts?limit=200"),
  ]);
  cameras.clear();
  for (const c of cams) cameras.set(c.id, c);
  learnZones(cams);
  vehicles.clear();
  for (const v of vehs) vehicles.set(v.id, v);
  stations.clear();
  for (const s of stationList) stations.set(s.id, s);
  const fresh = new Map([...recent, ...acked, ...active].map((a) => [a.id, a]));
  // An event that came while the lists were on their way may be newer than what they say.
  for (const [id, a] of alerts) if (newer(a, fresh.get(id))) fresh.set(id, a);
  alerts.clear();
  for (const [id, a] of fresh) alerts.set(id, a);
  for (const c of cams) if (c.status) wall.setStatus({ ...c.status, id: c.id });
  list.set([...alerts.values()]);
  for (const id of stations.keys()) stations.get(id).alert_severity = stationSeverity(id);
  if (map) {
    map.setStations([...stations.values()]);
    map.setCameras(cams);
    map.setVehicles(vehs);
  }
  renderStrip();
  remark();
  renderSources();
}

await boot();
document.title = t("wall.title");
canManage = ctx.me.permissions.includes("alerts.manage");
apply(view);
renderSound();
list = new AlertList($("#alert-list"), {
  canManage,
  sourceName,
  formatTime: (iso) => formatTime(iso),
  onOpen: (a) => {
    if (a.source.type === "station") openDrawer(a.source.id);
    else if (alertSources(a).length) wall.bring(alertSources(a));
  },
});
// From now on: an alert raised while the page loads is not missed.
events.on("alert", (a) => onAlert(a));
try {
  await load();
  await loadLayouts();
} catch (err) {
  $("#strip-alert").textContent = t("error.load", { detail: err.message });
}
map = await createMap($("#wall-map"), {
  site: ctx.site,
  formatTime,
  scale: scale(),
  onStation: (id) => openDrawer(id),
  // A camera or vehicle clicked on the map goes onto the wall (into the selected tile, or the
  // next free one), as one dragged from the list would.
  onCamera: (id) => {
    const source = `camera:${id}`;
    if (!wall.visible().includes(source)) wall.place(wall.target(), source);
  },
  onVehicle: (id) => {
    const source = `vehicle:${id}`;
    if (!wall.visible().includes(source)) wall.place(wall.target(), source);
  },
});
map.setCameras([...cameras.values()]);
map.setStations([...stations.values()]);
map.setVehicles([...vehicles.values()]);
await trails();
map.fitMarkers();
// The wall's map always frames the whole district, whatever the screen; once the layout has
// settled (the next frame), and said on the element (data-fitted, its size) for the tests.
let fitFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(fitFrame);
  fitFrame = requestAnimationFrame(() => {
    const el = $("#wall-map");
    map.map.invalidateSize({ pan: false });
    map.setScale(scale());
    map.fitMarkers();
    el.dataset.fitted = `${el.clientWidth}x${el.clientHeight}`;
  });
}).observe($("#wall-map"));
view.dataset.ready = "true";

events.on("reading", onReading);
events.on("station", (st) => {
  const s = stations.get(st.id);
  if (!s) return;
  s.online = st.online;
  paintStation(s.id);
  if (drawer.id === s.id) drawer.render();
});
events.on("camera", (st) => {
  const c = cameras.get(st.id);
  if (!c) return;
  c.status = st;
  wall.setStatus(st);
  map.updateCamera(st);
  if (!$("#wall-sources").hidden) renderSources();
  drawer.render();
});
events.on("position", (p) => map.position(p));
events.on("vehicle", (st) => {
  const v = vehicles.get(st.id);
  if (!v) return;
  v.status = st;
  map.setVehicles([v]); // an offline vehicle is drawn so
  if (!$("#wall-sources").hidden) renderSources();
});
events.on("reconnect", () => load().then(trails).catch(() => {}));

document.addEventListener("ecc:language", () => {
  document.title = t("wall.title");
  apply(view);
  renderTools();
  renderSound();
  renderStrip();
  renderSources();
  remark();
  drawer.render();
});
window.addEventListener("pagehide", () => wall.stopAll());
