// /incidents: the incidents in a list and the chosen one beside it, for operators to run them:
// open one by hand, change its state, link alerts and sources, dispatch vehicles (their crews
// acknowledge on the vehicle page, their arrival comes from the geofence), take notes, read
// the timeline, open the review and export it. Kept current by `incident` events.
import { api } from "./api.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { editArea } from "./area-editor.js";
import { byName, describe, exportButton, incidentTitle, kindName, loadNames, sourceName } from "./incident.js";
import { SEVERITIES, badge } from "./severity.js";
import { boot, ctx, formatTime } from "./shell.js";

extend({
  "zh-CN": {
    "incidents.title": "事件 · 应急指挥中心",
    "incidents.heading": "事件",
    "incidents.filter": "状态",
    "incidents.filter_active": "未结束",
    "incidents.filter_all": "全部",
    "incidents.new": "新建事件",
    "incidents.col_title": "事件",
    "incidents.col_severity": "级别",
    "incidents.col_state": "状态",
    "incidents.col_opened": "开始",
    "incidents.col_counts": "告警 / 派遣",
    "incidents.counts": "{alerts} / {tasks}",
    "incidents.list": "事件列表",
    "incidents.none": "没有事件",
    "incidents.pick": "从左侧选择一个事件",
    "incidents.open": "打开 {title}",
    "incidents.summary": "概况",
    "incidents.area": "区域",
    "incidents.area_circle": "半径 {radius} m",
    "incidents.area_polygon": "多边形 {n} 点",
    "incidents.area_none": "未设定",
    "incidents.edit_area": "在地图上编辑",
    "incidents.opened": "开始",
    "incidents.closed": "结束",
    "incidents.description": "说明",
    "incidents.to_monitoring": "转为监视",
    "incidents.to_closed": "结束事件",
    "incidents.to_open": "重新处置",
    "incidents.review": "回放",
    "incidents.sources": "关联对象",
    "incidents.no_sources": "无关联对象",
    "incidents.add_source": "添加关联对象",
    "incidents.remove": "移除",
    "incidents.remove_label": "移除 {name}",
    "incidents.alerts": "关联告警",
    "incidents.no_alerts": "无关联告警",
    "incidents.link_alert": "关联告警",
    "incidents.link": "关联",
    "incidents.tasks": "派遣",
    "incidents.no_tasks": "未派遣车辆",
    "incidents.dispatch": "派遣",
    "incidents.vehicle": "车辆",
    "incidents.instructions": "任务说明",
    "incidents.task_done": "完成",
    "incidents.task_cancel": "撤回",
    "incidents.task_times": "派遣 {dispatched} · 确认 {acknowledged} · 到达 {arrived}",
    "incidents.not_yet": "—",
    "incidents.notes": "记录",
    "incidents.no_notes": "暂无记录",
    "incidents.note_text": "新记录",
    "incidents.add_note": "添加记录",
    "incidents.timeline": "时间线",
    "incidents.choose": "请选择",
    "incidents.form_title": "标题",
    "incidents.form_severity": "级别",
    "incidents.form_station": "监测站（可选）",
    "incidents.form_description": "说明",
    "incidents.create": "创建",
    "incidents.cancel": "取消",
    "incidents.failed": "操作失败：{detail}",
  },
  en: {
    "incidents.title": "Incidents · Emergency Command Center",
    "incidents.heading": "Incidents",
    "incidents.filter": "State",
    "incidents.filter_active": "Not closed",
    "incidents.filter_all": "All",
    "incidents.new": "New incident",
    "incidents.col_title": "Incident",
    "incidents.col_severity": "Severity",
    "incidents.col_state": "State",
    "incidents.col_opened": "Opened",
    "incidents.col_counts": "Alerts / dispatches",
    "incidents.counts": "{alerts} / {tasks}",
    "incidents.list": "Incidents",
    "incidents.none": "No incidents",
    "incidents.pick": "Choose an incident on the left",
    "incidents.open": "Open {title}",
    "incidents.summary": "Summary",
    "incidents.area": "Area",
    "incidents.area_circle": "radius {radius} m",
    "incidents.area_polygon": "polygon of {n} points",
    "incidents.area_none": "not set",
    "incidents.edit_area": "Edit on the map",
    "incidents.opened": "Opened",
    "incidents.closed": "Closed",
    "incidents.description": "Description",
    "incidents.to_monitoring": "Monitor",
    "incidents.to_closed": "Close incident",
    "incidents.to_open": "Reopen",
    "incidents.review": "Review",
    "incidents.sources": "Sources",
    "incidents.no_sources": "No sources",
    "incidents.add_source": "Add a source",
    "incidents.remove": "Remove",
    "incidents.remove_label": "Remove {name}",
    "incidents.alerts": "Linked alerts",
    "incidents.no_alerts": "No linked alerts",
    "incidents.link_alert": "Link an alert",
    "incidents.link": "Link",
    "incidents.tasks": "Dispatches",
    "incidents.no_tasks": "No vehicle dispatched",
    "incidents.dispatch": "Dispatch",
    "incidents.vehicle": "Vehicle",
    "incidents.instructions": "Instructions",
    "incidents.task_done": "Done",
    "incidents.task_cancel": "Recall",
    "incidents.task_times": "dispatched {dispatched} · acknowledged {acknowledged} · arrived {arrived}",
    "incidents.not_yet": "—",
    "incidents.notes": "Notes",
    "incidents.no_notes": "No notes yet",
    "incidents.note_text": "New note",
    "incidents.add_note": "Add note",
    "incidents.timeline": "Timeline",
    "incidents.choose": "Choose",
    "incidents.form_title": "Title",
    "incidents.form_severity": "Severity",
    "incidents.form_station": "Station (optional)",
    "incidents.form_description": "Description",
    "incidents.create": "Create",
    "incidents.cancel": "Cancel",
    "incidents.failed": "Failed: {detail}",
  },
});

const view = document.getElementById("view");
const incidents = new Map(); // id -> incident
let names = new Map();
let openAlerts = [];
let filter = "active";
let selected = null;
let timelineSeq = 0;

view.innerHTML = `
  <section class="incident-panel" aria-labelledby="incidents-heading">
    <div class="panel-head">
      <h1 id="incidents-heading" data-i18n="incidents.heading"></h1>
      <div class="seg" role="group" data-i18n-attr="aria-label:incidents.filter" id="incident-filter">
        <button type="button" data-filter="active" data-i18n="incidents.filter_active"></button>
        <button type="button" data-filter="open" data-i18n="incident.state.open"></button>
        <button type="button" data-filter="monitoring" data-i18n="incident.state.monitoring"></button>
        <button type="button" data-filter="closed" data-i18n="incident.state.closed"></button>
        <button type="button" data-filter="all" data-i18n="incidents.filter_all"></button>
      </div>
      <button type="button" class="primary" id="incident-new" data-i18n="incidents.new" hidden></button>
    </div>
    <div class="table-wrap">
      <table class="list incident-table" id="incident-table">
        <caption class="visually-hidden" data-i18n="incidents.list"></caption>
        <thead><tr>
          <th scope="col" data-i18n="incidents.col_title"></th>
          <th scope="col" data-i18n="incidents.col_severity"></th>
          <th scope="col" data-i18n="incidents.col_state"></th>
          <th scope="col" data-i18n="incidents.col_opened"></th>
          <th scope="col" class="num" data-i18n="incidents.col_counts"></th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="incident-empty" class="muted" data-i18n="incidents.none" hidden></p>
    </div>
  </section>
  <section class="incident-detail" id="incident-detail" aria-live="polite">
    <p class="muted incident-pick" data-i18n="incidents.pick"></p>
  </section>
  <dialog id="incident-dialog" class="incident-dialog">
    <form method="dialog" id="incident-form">
      <h2 data-i18n="incidents.new"></h2>
      <label for="f-title" data-i18n="incidents.form_title"></label>
      <input id="f-title" name="title" required maxlength="200">
      <label for="f-severity" data-i18n="incidents.form_severity"></label>
      <select id="f-severity" name="severity"></select>
      <label for="f-station" data-i18n="incidents.form_station"></label>
      <select id="f-station" name="station"></select>
      <label for="f-description" data-i18n="incidents.form_description"></label>
      <textarea id="f-description" name="description" rows="3" maxlength="5000"></textarea>
      <p class="error" id="f-error" hidden></p>
      <div class="dialog-actions">
        <button type="button" id="f-cancel" data-i18n="incidents.cancel"></button>
        <button type="submit" data-i18n="incidents.create"></button>
      </div>
    </form>
  </dialog>`;

const rows = view.querySelector("#incident-table tbody");
const detail = view.querySelector("#incident-detail");
const can = (p) => ctx.me.permissions.includes(p);

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

function when(iso) {
  return iso ? formatTime(iso, { date: true }) : t("incidents.not_yet");
}

async function act(fn) {
  const status = detail.querySelector("#incident-status");
  try {
    const changed = await fn();
    if (changed && changed.id) upsert(changed);
    if (status) status.textContent = "";
  } catch (err) {
    if (status) status.textContent = t("incidents.failed", { detail: err.message });
  }
}

function base(id = selected) {
  return `/api/incidents/${encodeURIComponent(id)}`;
}

// --- list ---------------------------------------------------------------------------------

function shown(i) {
  if (filter === "all") return true;
  if (filter === "active") return i.state !== "closed";
  return i.state === filter;
}

function renderList() {
  const list = [...incidents.values()].filter(shown).sort((a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at));
  rows.replaceChildren(
    ...list.map((i) => {
      const title = incidentTitle(i, names);
      const open = el("button", { type: "button", className: "row-link", textContent: title });
      open.setAttribute("aria-label", t("incidents.open", { title }));
      open.setAttribute("aria-expanded", String(i.id === selected));
      open.addEventListener("click", () => select(i.id));
      const tr = el(
        "tr",
        { dataset: { incidentId: i.id, severity: i.severity, state: i.state } },
        el("td", {}, open),
        el("td", {}, badge(i.severity)),
        el("td", { textContent: t(`incident.state.${i.state}`) }),
        el("td", { className: "num", textContent: when(i.opened_at) }),
        el("td", { className: "num", textContent: t("incidents.counts", { alerts: i.alerts.length, tasks: i.tasks.length }) }),
      );
      tr.classList.toggle("is-selected", i.id === selected);
      tr.addEventListener("click", (e) => {
        if (!e.target.closest("button, a")) select(i.id);
      });
      return tr;
    }),
  );
  view.querySelector("#incident-empty").hidden = list.length > 0;
  for (const b of view.querySelectorAll("#incident-filter button")) b.setAttribute("aria-pressed", String(b.dataset.filter === filter));
}

function upsert(i) {
  const before = incidents.get(i.id);
  if (before && before.rev > i.rev) return; // an older change, overtaken
  incidents.set(i.id, i);
  renderList();
  if (i.id === selected) {
    renderDetail();
    loadTimeline();
  }
}

// --- detail -------------------------------------------------------------------------------

function select(id) {
  selected = id;
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  renderList();
  renderDetail();
  loadTimeline();
  detail.querySelector("h2")?.focus();
}

function areaText(area) {
  const parts = [];
  if (area.radius_m) parts.push(t("incidents.area_circle", { radius: Math.round(area.radius_m) }));
  if (area.polygon && area.polygon.length) parts.push(t("incidents.area_polygon", { n: area.polygon.length }));
  return parts.join(" · ") || t("incidents.area_none");
}

function section(key, ...content) {
  return el("section", { className: "incident-section" }, el("h3", { className: "drawer-h", textContent: t(key) }), ...content);
}

function muted(key) {
  return el("li", { className: "muted", textContent: t(key) });
}

function stateButtons(i) {
  if (!can("incidents.manage")) return [];
  const moves = { open: ["monitoring", "closed"], monitoring: ["open", "closed"], closed: ["open"] }[i.state];
  return moves.map((to) => {
    const b = el("button", { type: "button", textContent: t(`incidents.to_${to}`) });
    b.dataset.to = to;
    b.addEventListener("click", () => act(() => api(base(), { method: "PATCH", body: { state: to } })));
    return b;
  });
}

function renderDetail() {
  const i = incidents.get(selected);
  if (!i) {
    detail.replaceChildren(el("p", { className: "muted incident-pick", textContent: t("incidents.pick") }));
    return;
  }
  const title = el("h2", { id: "incident-title", tabIndex: -1, textContent: incidentTitle(i, names) });
  const review = el("a", { className: "button", href: `/review?id=${encodeURIComponent(i.id)}`, textContent: t("incidents.review") });
  const actions = el("div", { className: "incident-actions" }, ...stateButtons(i));
  if (can("recordings.read")) actions.append(review);
  if (can("incidents.export")) {
    const button = el("button", { type: "button", id: "incident-export", textContent: t("export.start") });
    const bar = el("progress", { id: "incident-export-progress", max: 1, value: 0, hidden: true });
    bar.setAttribute("aria-label", t("export.label"));
    const line = el("span", { id: "incident-export-status", className: "muted", role: "status" });
    exportButton(button, bar, line, () => i.id);
    actions.append(button, bar, line);
  }
  const head = el(
    "header",
    { className: "drawer-head incident-head" },
    el(
      "div",
      {},
      title,
      el(
        "p",
        { className: "incident-meta" },
        badge(i.severity),
        " ",
        el("span", { className: "incident-state", textContent: t(`incident.state.${i.state}`) }),
        " · ",
        el("span", { className: "muted", textContent: t(`incident.origin.${i.origin}`) }),
      ),
    ),
  );
  const summary = el(
    "dl",
    { className: "kv" },
    el("dt", { textContent: t("incidents.opened") }),
    el("dd", { textContent: when(i.opened_at) }),
    ...(i.closed_at ? [el("dt", { textContent: t("incidents.closed") }), el("dd", { textContent: when(i.closed_at) })] : []),
    el("dt", { textContent: t("incidents.area") }),
    el("dd", {}, el("span", { id: "incident-area", textContent: areaText(i.area) }), areaButton(i)),
    ...(i.description ? [el("dt", { textContent: t("incidents.description") }), el("dd", { textContent: i.description })] : []),
  );
  detail.replaceChildren(
    head,
    el(
      "div",
      { className: "drawer-body" },
      actions,
      el("p", { id: "incident-status", className: "error-line", role: "status" }),
      section("incidents.summary", summary),
      section("incidents.tasks", tasksList(i), dispatchForm(i)),
      section("incidents.alerts", alertsList(i), linkForm(i)),
      section("incidents.sources", sourcesList(i), sourceForm(i)),
      section("incidents.notes", notesList(i), noteForm(i)),
      section("incidents.timeline", el("ol", { id: "incident-timeline", className: "timeline" })),
    ),
  );
}

function areaButton(i) {
  if (!can("incidents.manage") || i.state === "closed") return null;
  const b = el("button", { type: "button", id: "incident-area-edit", className: "link", textContent: t("incidents.edit_area") });
  b.addEventListener("click", async () => {
    const area = await editArea(i.area);
    if (area) act(() => api(base(i.id), { method: "PATCH", body: { area } }));
  });
  return b;
}

function tasksList(i) {
  const ul = el("ul", { className: "plain", id: "incident-tasks" });
  if (!i.tasks.length) ul.append(muted("incidents.no_tasks"));
  for (const task of [...i.tasks].reverse()) {
    const li = el(
      "li",
      { dataset: { taskId: task.id, state: task.state } },
      el("strong", { textContent: sourceName(`vehicle:${task.vehicle_id}`, names) }),
      " · ",
      el("span", { className: "task-state", textContent: t(`task.state.${task.state}`) }),
      task.instructions ? el("div", { textContent: task.instructions }) : null,
      el("div", {
        className: "muted",
        textContent: t("incidents.task_times", {
          dispatched: when(task.dispatched_at),
          acknowledged: when(task.acknowledged_at),
          arrived: when(task.arrived_at),
        }),
      }),
    );
    if (can("incidents.manage") && i.state !== "closed") {
      const end = (state) => () => act(() => api(`${base()}/tasks/${task.id}`, { method: "PATCH", body: { state } }));
      if (task.state === "arrived") {
        const done = el("button", { type: "button", textContent: t("incidents.task_done") });
        done.addEventListener("click", end("done"));
        li.append(done);
      }
      if (["dispatched", "acknowledged", "arrived"].includes(task.state)) {
        const recall = el("button", { type: "button", textContent: t("incidents.task_cancel") });
        recall.addEventListener("click", end("cancelled"));
        li.append(recall);
      }
    }
    ul.append(li);
  }
  return ul;
}

function options(select, items, placeholder = "incidents.choose") {
  select.replaceChildren(el("option", { value: "", textContent: t(placeholder) }), ...items.map(([value, label]) => el("option", { value, textContent: label })));
}

function dispatchForm(i) {
  if (!can("incidents.manage") || i.state === "closed") return null;
  const busy = new Set(i.tasks.filter((x) => !["done", "cancelled"].includes(x.state)).map((x) => x.vehicle_id));
  const vehicles = [...names.values()].filter((n) => n.type === "vehicle" && !busy.has(n.id));
  const select = el("select", { id: "dispatch-vehicle", required: true });
  select.setAttribute("aria-label", t("incidents.vehicle"));
  options(select, vehicles.map((v) => [v.id, localName(v)]));
  const text = el("input", { id: "dispatch-instructions", maxLength: 2000, placeholder: t("incidents.instructions") });
  text.setAttribute("aria-label", t("incidents.instructions"));
  const form = el("form", { className: "inline-form", id: "dispatch-form" }, select, text, el("button", { type: "submit", textContent: t("incidents.dispatch") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!select.value) return;
    act(() => api(`${base()}/tasks`, { method: "POST", body: { vehicle_id: select.value, instructions: text.value } }));
  });
  return form;
}

function alertsList(i) {
  const ul = el("ul", { className: "plain", id: "incident-alerts" });
  if (!i.alerts.length) ul.append(muted("incidents.no_alerts"));
  for (const a of i.alerts) {
    ul.append(
      el(
        "li",
        { dataset: { alertId: a.alert_id } },
        badge(a.severity),
        ` ${sourceName(a.source, names)} · ${t(`state.${a.state}`)} · ${when(a.raised_at)}`,
      ),
    );
  }
  return ul;
}

function linkForm(i) {
  if (!can("incidents.manage")) return null;
  const linked = new Set(i.alerts.map((a) => a.alert_id));
  const candidates = openAlerts.filter((a) => !linked.has(a.id));
  if (!candidates.length) return null;
  const select = el("select", { id: "link-alert" });
  select.setAttribute("aria-label", t("incidents.link_alert"));
  options(
    select,
    candidates.map((a) => [a.id, `${t(`severity.${a.severity}`)} · ${sourceName(`${a.source.type}:${a.source.id}`, names)} · ${formatTime(a.raised_at)}`]),
  );
  const form = el("form", { className: "inline-form" }, select, el("button", { type: "submit", textContent: t("incidents.link") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (select.value) act(() => api(`${base()}/alerts`, { method: "POST", body: { alert_id: select.value } }));
  });
  return form;
}

function sourcesList(i) {
  const ul = el("ul", { className: "plain", id: "incident-sources" });
  if (!i.sources.length) ul.append(muted("incidents.no_sources"));
  for (const s of i.sources) {
    const li = el("li", { dataset: { source: s } }, sourceName(s, names));
    if (can("incidents.manage")) {
      const remove = el("button", { type: "button", className: "link", textContent: t("incidents.remove") });
      remove.setAttribute("aria-label", t("incidents.remove_label", { name: sourceName(s, names) }));
      remove.addEventListener("click", () => act(() => api(`${base()}/sources/${encodeURIComponent(s)}`, { method: "DELETE" })));
      li.append(" ", remove);
    }
    ul.append(li);
  }
  return ul;
}

function sourceForm(i) {
  if (!can("incidents.manage")) return null;
  const select = el("select", { id: "add-source" });
  select.setAttribute("aria-label", t("incidents.add_source"));
  const free = [...names.keys()].filter((s) => !i.sources.includes(s));
  options(select, free.map((s) => [s, sourceName(s, names)]), "incidents.add_source");
  select.addEventListener("change", () => {
    if (select.value) act(() => api(`${base()}/sources`, { method: "POST", body: { source: select.value } }));
  });
  return select;
}

function notesList(i) {
  const ul = el("ul", { className: "plain", id: "incident-notes" });
  if (!i.notes.length) ul.append(muted("incidents.no_notes"));
  for (const n of [...i.notes].reverse()) {
    ul.append(el("li", {}, el("span", { className: "muted", textContent: `${when(n.ts)} · ${n.by}` }), el("div", { textContent: n.text })));
  }
  return ul;
}

function noteForm(i) {
  if (!can("incidents.note")) return null;
  const text = el("textarea", { id: "note-text", rows: 2, maxLength: 5000, required: true });
  text.setAttribute("aria-label", t("incidents.note_text"));
  const form = el("form", { className: "note-form" }, text, el("button", { type: "submit", textContent: t("incidents.add_note") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    act(() => api(`${base()}/notes`, { method: "POST", body: { text: text.value.trim() } }));
  });
  return form;
}

async function loadTimeline() {
  if (!selected) return;
  const seq = ++timelineSeq;
  let entries;
  try {
    entries = await api(`${base()}/timeline`);
  } catch (err) {
    return;
  }
  if (seq !== timelineSeq) return;
  const ol = detail.querySelector("#incident-timeline");
  if (!ol) return;
  ol.replaceChildren(
    ...entries.map((e) =>
      el(
        "li",
        { dataset: { kind: e.kind, severity: e.severity || "" } },
        el("span", { className: "num muted", textContent: formatTime(e.ts, { date: true }) }),
        el("strong", { textContent: kindName(e.kind) }),
        el("span", { textContent: describe(e, names) }),
        el("span", { className: "muted", textContent: byName(e.by) }),
      ),
    ),
  );
  ol.dataset.count = String(entries.length);
}

// --- creating -----------------------------------------------------------------------------

const dialog = view.querySelector("#incident-dialog");
const form = view.querySelector("#incident-form");

function openDialog() {
  options(form.querySelector("#f-severity"), SEVERITIES.map((s) => [s, t(`severity.${s}`)]));
  form.querySelector("#f-severity").value = "warning";
  const stations = [...names.values()].filter((n) => n.type === "station");
  options(form.querySelector("#f-station"), stations.map((s) => [s.id, localName(s)]));
  form.querySelector("#f-error").hidden = true;
  dialog.showModal();
  form.querySelector("#f-title").focus();
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const station = form.querySelector("#f-station").value;
  const sources = [];
  if (station) {
    sources.push(`station:${station}`);
    for (const camera of names.get(`station:${station}`)?.cameras || []) sources.push(`camera:${camera}`);
  }
  try {
    const made = await api("/api/incidents", {
      method: "POST",
      body: {
        title: form.querySelector("#f-title").value.trim(),
        severity: form.querySelector("#f-severity").value,
        description: form.querySelector("#f-description").value,
        sources,
      },
    });
    dialog.close();
    form.reset();
    incidents.set(made.id, made);
    select(made.id);
  } catch (err) {
    const error = form.querySelector("#f-error");
    error.hidden = false;
    error.textContent = t("incidents.failed", { detail: err.message });
  }
});
view.querySelector("#f-cancel").addEventListener("click", () => dialog.close());

// --- loading ------------------------------------------------------------------------------

async function load() {
  const [list, active, acked, loaded] = await Promise.all([
    api("/api/incidents"),
    api("/api/alerts?state=active"),
    api("/api/alerts?state=acknowledged"),
    loadNames(),
  ]);
  names = loaded;
  openAlerts = [...active, ...acked];
  incidents.clear();
  for (const i of list) incidents.set(i.id, i);
  renderList();
  renderDetail();
  loadTimeline();
}

await boot();
apply(view);
for (const b of view.querySelectorAll("#incident-filter button")) {
  b.addEventListener("click", () => {
    filter = b.dataset.filter;
    renderList();
  });
}
const wanted = decodeURIComponent(location.hash.slice(1));
if (wanted) selected = wanted;
try {
  await load();
} catch (err) {
  detail.textContent = t("error.load", { detail: err.message });
}
// Opening one needs the stations' names: offered once they are loaded.
if (can("incidents.manage")) {
  const button = view.querySelector("#incident-new");
  button.hidden = false;
  button.addEventListener("click", openDialog);
}
view.dataset.ready = "true";

events.on("incident", (i) => upsert(i));
events.on("alert", (a) => {
  openAlerts = openAlerts.filter((x) => x.id !== a.id);
  if (a.state !== "resolved") openAlerts.push(a);
  if (selected && incidents.get(selected)?.alerts.some((l) => l.alert_id === a.id)) loadTimeline();
});
events.on("reconnect", () => load().catch(() => {}));
document.addEventListener("ecc:language", () => {
  apply(view);
  renderList();
  renderDetail();
  loadTimeline();
});
