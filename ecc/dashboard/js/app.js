// Overview: counts, open alerts, kept current by the event stream.
import { api } from "./api.js";
import * as events from "./events.js";
import { apply, t } from "./i18n.js";
import { boot, ctx, formatTime } from "./shell.js";

const view = document.getElementById("view");
let alerts = new Map();
let stationNames = new Map();

function severityBadge(sev) {
  const span = document.createElement("span");
  span.className = `sev sev-${sev}`;
  span.dataset.i18n = `severity.${sev}`;
  return span;
}

function render() {
  const open = [...alerts.values()].filter((a) => a.state !== "resolved");
  view.innerHTML = `
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
  view.querySelector("#n-stations").textContent = ctx.site.counts.stations;
  view.querySelector("#n-cameras").textContent = ctx.site.counts.cameras;
  view.querySelector("#n-vehicles").textContent = ctx.site.counts.vehicles;
  view.querySelector("#n-alerts").textContent = open.length;
  const body = view.querySelector("#alert-table tbody");
  for (const a of open.sort((x, y) => y.raised_at.localeCompare(x.raised_at)).slice(0, 50)) {
    const tr = document.createElement("tr");
    tr.dataset.alertId = a.id;
    const cells = [formatTime(a.raised_at, { date: true }), null, stationNames.get(a.source.id) || a.source.id, a.message, null];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      if (i === 1) td.append(severityBadge(a.severity));
      else if (i === 4) td.dataset.i18n = `state.${a.state}`;
      else td.textContent = text;
      tr.append(td);
    });
    body.append(tr);
  }
  view.querySelector("#no-alerts").hidden = open.length > 0;
  apply(view);
}

async function load() {
  const [list, stations] = await Promise.all([api("/api/alerts?limit=500"), api("/api/stations")]);
  alerts = new Map(list.map((a) => [a.id, a]));
  stationNames = new Map(stations.map((s) => [s.id, s.name]));
  render();
}

await boot();
try {
  await load();
} catch (err) {
  view.textContent = t("error.load", { detail: err.message });
}
events.on("alert", (a) => {
  alerts.set(a.id, a);
  render();
});
events.on("reconnect", load);
document.addEventListener("ecc:language", render);
