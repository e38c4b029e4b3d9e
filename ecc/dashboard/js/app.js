// Overview: counts, open alerts and a map of the stations, kept current by the event stream.
import { api } from "./api.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { createMap } from "./map.js";
import { alertWhat, learnZones } from "./metrics.js";
import { badge, worst } from "./severity.js";
import { boot, ctx, formatTime } from "./shell.js";

extend({
  "zh-CN": { "overview.map": "监测站分布", "overview.map_hint": "点击监测站查看详情", "overview.camera": "摄像机 {name}" },
  en: { "overview.map": "Stations", "overview.map_hint": "Choose a station for its details", "overview.camera": "Camera {name}" },
});

const view = document.getElementById("view");
view.innerHTML = `
  <div class="overview">
    <div id="overview-main" class="overview-main"></div>
    <section class="card overview-map" aria-labelledby="overview-map-title">
      <h2 id="overview-map-title" data-i18n="overview.map"></h2>
      <div id="mini-map" class="mini-map"></div>
      <p class="muted" data-i18n="overview.map_hint"></p>
    </section>
  </div>`;
const main = view.querySelector("#overview-main");
let alerts = new Map();
let stations = [];
let stationsById = new Map();
let camerasById = new Map();
let vehiclesById = new Map();
let map = null;

// Each station's worst open alert, for the map.
function paintMap() {
  if (!map) return;
  const open = [...alerts.values()].filter((a) => a.state !== "resolved" && a.source.type === "station");
  map.setStations(
    stations.map((s) => ({
      ...s,
      alert_severity: worst(open.filter((a) => a.source.id === s.id).map((a) => a.severity)),
    })),
  );
}

function render() {
  const open = [...alerts.values()].filter((a) => a.state !== "resolved");
  main.innerHTML = `
    <section class="cards">
      <div class="card"><h2 data-i18n="overview.stations"></h2><div class="big" id="n-stations"></div></div>
      <div class="card"><h2 data-i18n="overview.cameras"></h2><div class="big" id="n-cameras"></div></div>
      <div class="card"><h2 data-i18n="overview.vehicles"></h2><div class="big" id="n-vehicles"></div></div>
      <div class="card"><h2 data-i18n="overview.alerts"></h2><div class="big" id="n-alerts"></div></div>
    </section>
    <h2 class="section-title" data-i18n="overview.recent"></h2>
    <table class="list" id="alert-table">
      <thead><tr><th data-i18n="alert.time"></th><th data-i18n="alert.severity"></th>
      <th data-i18n="alert.source"></th><th data-i18n="alert.message"></th><th data-i18n="alert.state"></th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="muted" id="no-alerts" data-i18n="overview.none" hidden></p>`;
  main.querySelector("#n-stations").textContent = ctx.site.counts.stations;
  main.querySelector("#n-cameras").textContent = ctx.site.counts.cameras;
  main.querySelector("#n-vehicles").textContent = ctx.site.counts.vehicles;
  main.querySelector("#n-alerts").textContent = open.length;
  const body = main.querySelector("#alert-table tbody");
  for (const a of open.sort((x, y) => Date.parse(y.raised_at) - Date.parse(x.raised_at)).slice(0, 50)) {
    const tr = document.createElement("tr");
    tr.dataset.alertId = a.id;
    const cells = [formatTime(a.raised_at, { date: true }), null, sourceName(a.source), alertWhat(a), null];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      if (i === 1) td.append(badge(a.severity));
      else if (i === 4) td.dataset.i18n = `state.${a.state}`;
      else td.textContent = text;
      tr.append(td);
    });
    body.append(tr);
  }
  main.querySelector("#no-alerts").hidden = open.length > 0;
  apply(view);
  paintMap();
}

function sourceName(source) {
  const item = (source.type === "station" ? stationsById : source.type === "camera" ? camerasById : vehiclesById).get(source.id);
  const name = item ? localName(item) : source.id;
  return source.type === "camera" ? t("overview.camera", { name }) : name;
}

async function load() {
  const [list, stationList, cameras, vehicles] = await Promise.all([
    api("/api/alerts?limit=500"),
    api("/api/stations"),
    api("/api/cameras"),
    api("/api/vehicles"),
  ]);
  alerts = new Map(list.map((a) => [a.id, a]));
  stations = stationList;
  stationsById = new Map(stations.map((s) => [s.id, s]));
  camerasById = new Map(cameras.map((c) => [c.id, c]));
  vehiclesById = new Map(vehicles.map((v) => [v.id, v]));
  learnZones(cameras);
  render();
}

await boot();
try {
  await load();
  map = await createMap(view.querySelector("#mini-map"), {
    site: ctx.site,
    legend: false,
    formatTime,
    onStation: (id) => location.assign(`/stations#${encodeURIComponent(id)}`),
  });
  paintMap();
  map.fitMarkers();
  map.setVehicles(await api("/api/vehicles"));
  events.on("position", (p) => map.position(p));
} catch (err) {
  view.textContent = t("error.load", { detail: err.message });
}
events.on("alert", (a) => {
  alerts.set(a.id, a);
  render();
});
events.on("reconnect", load);
document.addEventListener("ecc:language", render);
