// /stations: every station of the site in a list and on the map, coloured (and shaped) by its
// worst open alert; a station's drawer shows its chart of the last 24 h with its levels, its
// latest values, its open alerts and its cameras. Kept current by the event stream.
import { api } from "./api.js";
import { createChart } from "./chart.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { createMap } from "./map.js";
import { alertKind, alertQuantity, levelName, metricName, primaryMetric, withUnit } from "./metrics.js";
import { badge, worst } from "./severity.js";
import { boot, ctx, formatTime } from "./shell.js";

extend({
  "zh-CN": {
    "stations.title": "监测站 · 应急指挥中心",
    "stations.heading": "监测站",
    "stations.summary": "共 {n} 个 · 告警 {alerting} 个 · 离线 {offline} 个",
    "stations.col_name": "名称",
    "stations.col_kind": "类型",
    "stations.col_river": "河流 / 水库",
    "stations.col_latest": "最新值",
    "stations.col_online": "通信",
    "stations.col_alert": "告警",
    "stations.list": "监测站列表",
    "stations.online": "在线",
    "stations.offline": "离线",
    "stations.unknown": "无数据",
    "stations.open": "打开 {name} 的详情",
    "stations.close": "关闭",
    "stations.close_label": "关闭详情",
    "stations.metrics": "指标",
    "stations.chart": "最近 24 小时",
    "stations.latest": "最新数据",
    "stations.thresholds": "告警阈值",
    "stations.rise": "涨速 {value}/h",
    "stations.no_thresholds": "未设置阈值",
    "stations.alerts": "未解除告警",
    "stations.no_alerts": "无未解除告警",
    "stations.cameras": "关联摄像机",
    "stations.no_cameras": "未关联摄像机",
    "stations.camera_offline": "离线",
    "stations.all_alerts": "查看全部告警",
    "stations.at": "{time}",
    "stations.no_value": "暂无数据",
  },
  en: {
    "stations.title": "Stations · Emergency Command Center",
    "stations.heading": "Stations",
    "stations.summary": "{n} stations · {alerting} alerting · {offline} offline",
    "stations.col_name": "Name",
    "stations.col_kind": "Kind",
    "stations.col_river": "River / reservoir",
    "stations.col_latest": "Latest",
    "stations.col_online": "Link",
    "stations.col_alert": "Alert",
    "stations.list": "Stations",
    "stations.online": "Online",
    "stations.offline": "Offline",
    "stations.unknown": "No data",
    "stations.open": "Open the details of {name}",
    "stations.close": "Close",
    "stations.close_label": "Close the details",
    "stations.metrics": "Metric",
    "stations.chart": "Last 24 hours",
    "stations.latest": "Latest values",
    "stations.thresholds": "Alert levels",
    "stations.rise": "Rise {value}/h",
    "stations.no_thresholds": "No levels set",
    "stations.alerts": "Open alerts",
    "stations.no_alerts": "No open alerts",
    "stations.cameras": "Linked cameras",
    "stations.no_cameras": "No linked cameras",
    "stations.camera_offline": "offline",
    "stations.all_alerts": "All alerts",
    "stations.at": "{time}",
    "stations.no_value": "No data yet",
  },
});

const view = document.getElementById("view");
const stations = new Map(); // id -> station (GET /api/stations), kept current
const cameras = new Map();
const openAlerts = new Map(); // id -> alert, state active or acknowledged
let map = null;
let chart = null;
let drawer = { id: null, metric: null, seq: 0, from: null };

view.innerHTML = `
  <section class="station-panel" aria-labelledby="stations-heading">
    <div class="panel-head">
      <h1 id="stations-heading" data-i18n="stations.heading"></h1>
      <span id="station-summary" class="muted" role="status"></span>
    </div>
    <div class="table-wrap">
      <table class="list station-table" id="station-table">
        <caption class="visually-hidden" data-i18n="stations.list"></caption>
        <thead><tr>
          <th scope="col" data-i18n="stations.col_name"></th>
          <th scope="col" data-i18n="stations.col_kind"></th>
          <th scope="col" data-i18n="stations.col_river"></th>
          <th scope="col" class="num" data-i18n="stations.col_latest"></th>
          <th scope="col" data-i18n="stations.col_online"></th>
          <th scope="col" data-i18n="stations.col_alert"></th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section class="station-map-wrap">
    <div id="station-map" class="map-fill"></div>
    <aside id="drawer" class="drawer" aria-labelledby="drawer-title" hidden>
      <header class="drawer-head">
        <div>
          <h2 id="drawer-title" tabindex="-1"></h2>
          <p id="drawer-meta" class="muted"></p>
        </div>
        <button type="button" id="drawer-close" data-i18n="stations.close" data-i18n-attr="aria-label:stations.close_label"></button>
      </header>
      <div class="drawer-body">
        <div id="drawer-status" class="drawer-status"></div>
        <div class="metric-tabs" id="metric-tabs" role="group" data-i18n-attr="aria-label:stations.metrics"></div>
        <h3 class="drawer-h" data-i18n="stations.chart"></h3>
        <div id="chart" class="chart-box"></div>
        <h3 class="drawer-h" data-i18n="stations.latest"></h3>
        <dl id="latest" class="kv"></dl>
        <h3 class="drawer-h" data-i18n="stations.thresholds"></h3>
        <ul id="thresholds" class="plain"></ul>
        <h3 class="drawer-h" data-i18n="stations.alerts"></h3>
        <ul id="station-alerts" class="plain"></ul>
        <p><a href="/alerts" data-i18n="stations.all_alerts"></a></p>
        <h3 class="drawer-h" data-i18n="stations.cameras"></h3>
        <ul id="station-cameras" class="plain"></ul>
      </div>
    </aside>
  </section>`;

const rows = view.querySelector("#station-table tbody");
const drawerEl = view.querySelector("#drawer");

// --- state --------------------------------------------------------------------------------

function severityOf(stationId) {
  return worst(
    [...openAlerts.values()]
      .filter((a) => a.source.type === "station" && a.source.id === stationId)
      .map((a) => a.severity),
  );
}

function setAlert(a) {
  const before = openAlerts.get(a.id);
  if (before && Date.parse(before.updated_at) > Date.parse(a.updated_at)) return;
  if (a.state === "resolved") openAlerts.delete(a.id);
  else openAlerts.set(a.id, a);
  if (a.source.type !== "station") return;
  const s = stations.get(a.source.id);
  if (!s) return;
  s.alert_severity = severityOf(s.id);
  renderRow(s);
  map?.updateStation(s.id, { alert_severity: s.alert_severity });
  renderSummary();
  if (drawer.id === s.id) renderDrawerInfo();
}

function onReading(r) {
  const s = stations.get(r.station_id);
  if (!s) return;
  for (const [metric, value] of Object.entries(r.values || {})) {
    const cur = s.latest[metric];
    if (!cur || Date.parse(cur.ts) <= Date.parse(r.ts)) s.latest[metric] = { ts: r.ts, value };
  }
  s.online = true;
  s.last_seen = r.ts;
  renderRow(s);
  map?.updateStation(s.id, { online: true });
  renderSummary();
  if (drawer.id === s.id) {
    if (chart && typeof r.values[drawer.metric] === "number") chart.append(r.ts, r.values[drawer.metric]);
    renderDrawerInfo();
  }
}

// --- list ---------------------------------------------------------------------------------

function onlineCell(s) {
  const span = document.createElement("span");
  const key = s.online === true ? "online" : s.online === false ? "offline" : "unknown";
  span.className = `link-state link-${key}`;
  span.textContent = t(`stations.${key}`);
  return span;
}

function latestText(s) {
  const m = primaryMetric(s);
  const v = s.latest[m];
  return v ? withUnit(m, v.value) : t("value.none");
}

function renderRow(s) {
  let tr = rows.querySelector(`tr[data-station-id="${CSS.escape(s.id)}"]`);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.stationId = s.id;
    for (let i = 0; i < 6; i++) tr.append(document.createElement("td"));
    const b = document.createElement("button");
    b.type = "button";
    b.className = "row-link";
    b.setAttribute("aria-controls", "drawer");
    b.addEventListener("click", () => openDrawer(s.id, b));
    tr.cells[0].append(b);
    tr.cells[3].className = "num";
    tr.addEventListener("click", (e) => {
      if (e.target.closest("button, a")) return;
      openDrawer(s.id, b);
    });
    rows.append(tr);
  }
  const sev = s.alert_severity || null;
  tr.dataset.severity = sev || "ok";
  tr.classList.toggle("is-selected", drawer.id === s.id);
  const b = tr.cells[0].firstChild;
  b.textContent = localName(s);
  b.setAttribute("aria-label", t("stations.open", { name: localName(s) }));
  b.setAttribute("aria-expanded", String(drawer.id === s.id));
  tr.cells[1].textContent = t(`kind.${s.kind}`);
  tr.cells[2].textContent = s.river || t("value.none");
  const m = primaryMetric(s);
  tr.cells[3].textContent = latestText(s);
  tr.cells[3].title = s.latest[m] ? formatTime(s.latest[m].ts, { date: true }) : "";
  tr.cells[4].replaceChildren(onlineCell(s));
  tr.cells[5].replaceChildren(badge(sev));
}

function renderTable() {
  for (const s of stations.values()) renderRow(s);
}

function renderSummary() {
  const list = [...stations.values()];
  view.querySelector("#station-summary").textContent = t("stations.summary", {
    n: list.length,
    alerting: list.filter((s) => s.alert_severity).length,
    offline: list.filter((s) => s.online === false).length,
  });
}

// --- drawer -------------------------------------------------------------------------------

async function openDrawer(id, from = null, { focus = true } = {}) {
  const s = stations.get(id);
  if (!s) return;
  const same = drawer.id === id;
  drawer = { id, metric: same ? drawer.metric : primaryMetric(s), seq: drawer.seq + 1, from: from || drawer.from };
  drawerEl.hidden = false;
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  map?.select(id, { pan: true });
  renderTable();
  renderDrawerInfo();
  if (focus) view.querySelector("#drawer-title").focus();
  await loadChart();
}

function closeDrawer() {
  if (!drawer.id) return;
  const from = drawer.from;
  drawer = { id: null, metric: null, seq: drawer.seq + 1, from: null };
  drawerEl.hidden = true;
  chart?.destroy();
  chart = null;
  history.replaceState(null, "", location.pathname);
  map?.select(null);
  renderTable();
  if (from && from.isConnected) from.focus();
}

async function loadChart() {
  const { id, metric, seq } = drawer;
  const s = stations.get(id);
  const box = view.querySelector("#chart");
  let points;
  try {
    points = await api(
      `/api/stations/${encodeURIComponent(id)}/readings?metric=${encodeURIComponent(metric)}&limit=20000`,
    );
  } catch (err) {
    if (seq !== drawer.seq) return;
    chart?.destroy();
    chart = null;
    box.textContent = t("error.load", { detail: err.message });
    return;
  }
  if (seq !== drawer.seq) return; // another station or metric was chosen meanwhile
  const made = await createChart(box, {
    metric,
    thresholds: s.thresholds[metric] || {},
    timezone: ctx.timezone,
    points,
    gapS: s.interval_s * 3,
  });
  if (seq !== drawer.seq) {
    made.destroy();
    return;
  }
  chart?.destroy();
  chart = made;
}

function renderDrawerInfo() {
  const s = stations.get(drawer.id);
  if (!s) return;
  view.querySelector("#drawer-title").textContent = localName(s);
  const meta = [t(`kind.${s.kind}`)];
  if (s.river) meta.push(s.river);
  view.querySelector("#drawer-meta").textContent = meta.join(" · ");
  view.querySelector("#drawer-status").replaceChildren(badge(s.alert_severity || null), onlineCell(s));

  const tabs = view.querySelector("#metric-tabs");
  tabs.hidden = s.metrics.length < 2;
  tabs.replaceChildren(
    ...s.metrics.map((m) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = metricName(m);
      b.setAttribute("aria-pressed", String(m === drawer.metric));
      b.addEventListener("click", () => {
        if (m === drawer.metric) return;
        drawer = { ...drawer, metric: m, seq: drawer.seq + 1 };
        renderDrawerInfo();
        loadChart();
      });
      return b;
    }),
  );

  const dl = view.querySelector("#latest");
  dl.replaceChildren();
  for (const m of s.metrics) {
    const dt = document.createElement("dt");
    dt.textContent = metricName(m);
    const dd = document.createElement("dd");
    dd.dataset.metric = m;
    const v = s.latest[m];
    if (v) {
      const val = document.createElement("strong");
      val.className = "num";
      val.textContent = withUnit(m, v.value);
      const when = document.createElement("span");
      when.className = "muted";
      when.textContent = formatTime(v.ts, { date: true });
      dd.append(val, " ", when);
    } else {
      dd.textContent = t("stations.no_value");
      dd.className = "muted";
    }
    dl.append(dt, dd);
  }

  const th = view.querySelector("#thresholds");
  th.replaceChildren();
  for (const [m, levels] of Object.entries(s.thresholds)) {
    for (const level of ["warning", "danger", "critical"]) {
      if (typeof levels[level] !== "number") continue;
      const li = document.createElement("li");
      li.append(badge(level), ` ${metricName(m)} · ${levelName(m, level)} ${withUnit(m, levels[level])}`);
      th.append(li);
    }
    if (typeof levels.rise_per_hour === "number") {
      const li = document.createElement("li");
      li.textContent = `${metricName(m)} · ${t("stations.rise", { value: withUnit(m, levels.rise_per_hour) })}`;
      th.append(li);
    }
  }
  if (!th.children.length) th.append(mutedItem("stations.no_thresholds"));

  const al = view.querySelector("#station-alerts");
  const mine = [...openAlerts.values()]
    .filter((a) => a.source.type === "station" && a.source.id === s.id)
    .sort((a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at));
  al.replaceChildren(
    ...mine.map((a) => {
      const li = document.createElement("li");
      li.dataset.alertId = a.id;
      const what = a.metric ? `${metricName(a.metric)} · ${alertKind(a)}` : alertKind(a);
      const value = a.value === null || a.value === undefined ? "" : ` ${alertQuantity(a, a.value)}`;
      li.append(badge(a.severity), ` ${what}${value} · ${t(`state.${a.state}`)} · ${formatTime(a.raised_at, { date: true })}`);
      return li;
    }),
  );
  if (!mine.length) al.append(mutedItem("stations.no_alerts"));

  const cl = view.querySelector("#station-cameras");
  cl.replaceChildren(
    ...s.cameras.map((cid) => {
      const li = document.createElement("li");
      const c = cameras.get(cid);
      li.textContent = c ? localName(c) : cid;
      if (c && c.status && c.status.online === false) {
        const off = document.createElement("span");
        off.className = "muted";
        off.textContent = ` · ${t("stations.camera_offline")}`;
        li.append(off);
      }
      return li;
    }),
  );
  if (!s.cameras.length) cl.append(mutedItem("stations.no_cameras"));
  apply(drawerEl);
}

function mutedItem(key) {
  const li = document.createElement("li");
  li.className = "muted";
  li.textContent = t(key);
  return li;
}

// --- loading ------------------------------------------------------------------------------

async function load() {
  const [list, active, acked, cams, vehicles] = await Promise.all([
    api("/api/stations"),
    api("/api/alerts?state=active"),
    api("/api/alerts?state=acknowledged"),
    api("/api/cameras"),
    api("/api/vehicles"),
  ]);
  stations.clear();
  for (const s of list) stations.set(s.id, s);
  openAlerts.clear();
  for (const a of [...active, ...acked]) openAlerts.set(a.id, a);
  cameras.clear();
  for (const c of cams) cameras.set(c.id, c);
  rows.replaceChildren();
  renderTable();
  renderSummary();
  if (map) {
    map.setCameras(cams);
    map.setStations(list);
    map.setVehicles(vehicles);
  }
  if (drawer.id) {
    if (stations.has(drawer.id)) {
      renderDrawerInfo();
      drawer = { ...drawer, seq: drawer.seq + 1 };
      await loadChart();
    } else closeDrawer();
  }
  return { cams, list, vehicles };
}

await boot();
let first;
try {
  first = await load();
} catch (err) {
  view.querySelector("#station-summary").textContent = t("error.load", { detail: err.message });
}
apply(view);
map = await createMap(view.querySelector("#station-map"), {
  site: ctx.site,
  formatTime,
  onStation: (id) => openDrawer(id, null),
});
if (first) {
  map.setCameras(first.cams);
  map.setStations(first.list);
  map.setVehicles(first.vehicles);
  map.fitMarkers();
}
view.querySelector("#station-map").dataset.ready = "true";

events.on("reading", onReading);
events.on("alert", setAlert);
events.on("station", (st) => {
  const s = stations.get(st.id);
  if (!s) return;
  s.online = st.online;
  renderRow(s);
  map.updateStation(s.id, { online: st.online });
  renderSummary();
  if (drawer.id === s.id) renderDrawerInfo();
});
events.on("camera", (st) => {
  const c = cameras.get(st.id);
  if (c) c.status = st;
  map.updateCamera(st);
  if (drawer.id) renderDrawerInfo();
});
events.on("position", (p) => map.position(p));
events.on("reconnect", () => load().catch(() => {}));

view.querySelector("#drawer-close").addEventListener("click", closeDrawer);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && drawer.id) closeDrawer();
});
document.addEventListener("ecc:language", () => {
  apply(view);
  renderTable();
  renderSummary();
  if (drawer.id) renderDrawerInfo();
});

// /stations#<id> opens that station (links from the overview map and the alert list).
function openFromHash() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && stations.has(wanted) && wanted !== drawer.id) openDrawer(wanted, null, { focus: false });
}
window.addEventListener("hashchange", openFromHash);
openFromHash();
